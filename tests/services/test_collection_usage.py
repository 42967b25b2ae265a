"""VK API use per token and method: recorded by every run (ApiUsage, added up across runs
and workers) and exported by /metrics; the figures equal what the sandbox counted."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from socstat.api.routes import build_api
from socstat.collectors.base import mask_token, token_fingerprint
from socstat.models import ApiUsage, Role, Source, Subscription, User
from socstat.sandbox import TokenSpec
from socstat.services.collection import collect_sources
from socstat.services.collection.usage import token_quotas
from socstat.settings import reset_settings_cache
from tests.services.conftest import sandbox_collector, world_now

TOKENS = ["tok-usage-aaaa1", "tok-usage-bbbb2"]
WALL_QUOTA = 5000


def _track_all(session, server) -> list[int]:  # type: ignore[no-untyped-def]
    user = User(email="usage@example.com", role=Role.ANALYST)
    session.add(user)
    session.flush()
    sources = [Source(external_id=str(c["id"])) for c in server.communities()]
    session.add_all(sources)
    session.flush()
    session.add_all(Subscription(user_id=user.id, source_id=s.id) for s in sources)
    session.commit()
    return [s.id for s in sources]


def _scrape(monkeypatch) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOCSTAT_METRICS_TOKEN", "usage-scrape-token-0123")
    reset_settings_cache()
    try:
        response = TestClient(build_api(), client=("10.0.0.5", 4000)).get(
            "/metrics", headers={"Authorization": "Bearer usage-scrape-token-0123"}
        )
    finally:
        monkeypatch.delenv("SOCSTAT_METRICS_TOKEN")
        reset_settings_cache()
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


@pytest.mark.slow
async def test_calls_errors_and_quota_per_token_equal_the_sandbox(
    db, session, sandbox_factory, monkeypatch
) -> None:
    server = sandbox_factory(communities=20, tokens=[TokenSpec(t, "community") for t in TOKENS])
    source_ids = _track_all(session, server)
    for _ in range(2):  # the second run adds to the same rows
        collector = sandbox_collector(
            server, tokens=",".join(f"community:{t}" for t in TOKENS), max_retries=12
        )
        try:
            await collect_sources(source_ids=source_ids, collector=collector, now=world_now(server))
        finally:
            await collector.aclose()

    stats = server.stats()
    session.expire_all()
    rows = session.exec(select(ApiUsage)).all()
    answered: Counter[tuple[str, str]] = Counter()
    asked: Counter[tuple[str, str]] = Counter()  # answered or refused
    errors: Counter[str] = Counter()
    for row in rows:
        asked[(row.token, row.method)] += row.count
        if row.code:
            errors[row.code] += row.count
        else:
            answered[(row.token, row.method)] += row.count
    used_tokens = [token for token in TOKENS if token in stats["tokens"]]
    assert used_tokens
    for token in used_tokens:
        for method, count in stats["tokens"][token]["calls"].items():
            if method != "execute":  # the batch itself; its calls are counted one by one
                assert asked[(token_fingerprint(token), method)] == count, (token, method)
        assert {r.token_masked for r in rows if r.token == token_fingerprint(token)} == {
            mask_token(token)
        }
    # closed walls: wall.get answers 15 (access denied) inside execute
    assert errors == Counter(stats["totals"]["errors"]) and errors["15"] > 0
    assert all(token not in (r.token_masked + r.token) for r in rows for token in TOKENS)

    quotas = {(q.masked, q.method): q for q in token_quotas(session)}
    metrics = _scrape(monkeypatch)
    assert {masked for masked, _method in quotas} == {mask_token(t) for t in used_tokens}
    for token in used_tokens:
        used = stats["quota_used"][token]["wall.get"]
        quota = quotas[(mask_token(token), "wall.get")]
        assert (quota.used, quota.left) == (used, WALL_QUOTA - used)
        labels = (("method", "wall.get"), ("token", mask_token(token)))
        assert metrics[("socstat_vk_quota_left", labels)] == WALL_QUOTA - used
        assert metrics[("socstat_vk_quota_used", labels)] == used
    wall_calls = sum(n for (_token, method), n in answered.items() if method == "wall.get")
    assert metrics[("socstat_vk_method_calls_total", (("method", "wall.get"),))] == wall_calls
    closed_walls = (("code", "15"), ("method", "wall.get"))
    assert metrics[("socstat_vk_method_errors_total", closed_walls)] == errors["15"]
