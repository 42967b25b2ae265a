"""The batching client and collector resilience against the sandbox: execute errors,
faults, daily quotas, invalid tokens."""

from __future__ import annotations

import asyncio
import gc
from datetime import datetime, timedelta

import pytest

from socstat.collectors.base import CollectorError, CollectRequest, SourceResult
from socstat.collectors.vk import VKApiError, VKClient, VKCollector
from socstat.collectors.vk import client as client_module
from socstat.sandbox import SandboxServer, TokenSpec
from tests.collectors.conftest import (
    NOW,
    TOKEN_A,
    TOKEN_B,
    by_status,
    make_collector,
    make_config,
)

pytestmark = pytest.mark.timeout(60)


async def collect_all(collector: VKCollector, requests: list[CollectRequest]) -> list[SourceResult]:
    return [result async for result in collector.collect(requests)]


def open_ids(sandbox: SandboxServer, count: int) -> list[int]:
    return [c["id"] for c in sandbox.communities() if c["status"] == "open"][:count]


def snapshot(results: list[SourceResult]) -> dict[str, tuple]:
    return {
        r.external_id: (r.complete, r.info, sorted(r.items, key=lambda i: (i.kind, i.external_id)))
        for r in results
    }


# ---------------------------------------------------------------------- execute mapping
async def test_execute_errors_are_mapped_to_the_failed_calls(
    sandbox: SandboxServer, communities: list[dict]
) -> None:
    client = VKClient(sandbox.url, f"community:{TOKEN_A}")
    closed, wall_off = by_status(communities, "closed"), by_status(communities, "wall_disabled")
    good = next(c for c in communities if c["status"] == "open")
    calls = [
        ("wall.get", {"owner_id": -closed["id"], "count": 1}),
        ("groups.getById", {"group_id": good["id"]}),
        ("groups.getById", {"group_id": 1}),
        ("wall.get", {"owner_id": -good["id"], "count": 2}),
        ("wall.get", {"owner_id": -wall_off["id"], "count": 1}),
        ("utils.resolveScreenName", {"screen_name": good["screen_name"]}),
    ]
    try:
        results = await asyncio.gather(
            *(client.call(method, params) for method, params in calls), return_exceptions=True
        )
    finally:
        await client.aclose()
    assert client.usage.requests == 1 and client.usage.calls == len(calls)
    assert isinstance(results[0], VKApiError) and results[0].code == 15
    assert "only for community members" in results[0].message
    assert results[1]["groups"][0]["id"] == good["id"]
    assert isinstance(results[2], VKApiError) and results[2].code == 100
    assert len(results[3]["items"]) == 2
    assert isinstance(results[4], VKApiError) and "wall is disabled" in results[4].message
    assert results[5] == {"type": good["type"], "object_id": good["id"]}
    assert client.usage.errors_by_code == {"15": 2, "100": 1}


async def test_execute_level_error_falls_back_to_direct_calls(
    sandbox: SandboxServer, communities: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "build_execute_code", lambda calls: "return API.;")
    client = VKClient(sandbox.url, f"community:{TOKEN_A}")
    ids = [c["id"] for c in communities if c["status"] == "open"][:3]
    try:
        results = await asyncio.gather(
            *(client.call("groups.getById", {"group_id": gid}) for gid in ids)
        )
    finally:
        await client.aclose()
    assert [r["groups"][0]["id"] for r in results] == ids
    assert client.usage.errors_by_code == {"12": 1}
    assert client.usage.requests == 1 + len(ids)


async def test_batching_can_be_switched_off(sandbox: SandboxServer) -> None:
    collector = make_collector(sandbox, batch=False)
    try:
        results = await collect_all(
            collector,
            [CollectRequest(str(g), NOW - timedelta(days=1)) for g in open_ids(sandbox, 3)],
        )
    finally:
        await collector.aclose()
    assert all(r.complete for r in results)
    assert collector.usage.requests == collector.usage.calls


# ---------------------------------------------------------------------- faults
async def test_faulty_api_gives_the_same_records_as_a_clean_one() -> None:
    with SandboxServer(make_config(communities=30)) as clean_box:
        since = datetime.fromtimestamp(clean_box.state.world.start) - timedelta(seconds=1)
        since = since.astimezone(NOW.tzinfo)
        ids = [c["id"] for c in clean_box.communities()]
        requests = [CollectRequest(str(g), since) for g in ids]
        clean = make_collector(clean_box)
        try:
            expected = snapshot(await collect_all(clean, requests))
        finally:
            await clean.aclose()
    config = make_config(communities=30, fault_rate=0.2, slow_seconds=2.0)
    with SandboxServer(config) as faulty_box:
        faulty = make_collector(faulty_box, timeout=0.8, max_retries=12, max_batch=2)
        try:
            got = snapshot(await collect_all(faulty, requests))
        finally:
            await faulty.aclose()
        faults = faulty_box.stats()["totals"]["faults"]
    assert sum(faults.values()) >= 3, faults
    assert got == expected
    errors = faulty.usage.errors_by_code
    assert set(errors) - {"15"}, errors  # retried failures were seen and counted


# ---------------------------------------------------------------------- quotas
async def test_quota_exhausted_on_one_token_other_token_continues() -> None:
    config = make_config(communities=20, quotas={"wall.get": 30})
    with SandboxServer(config) as box:
        ids = [c["id"] for c in box.communities() if c["status"] == "open"][:10]
        since = datetime.fromtimestamp(box.state.world.start).astimezone(NOW.tzinfo)
        burner = VKClient(box.url, f"community:{TOKEN_A}")  # use up token A's day elsewhere
        try:
            params = {"owner_id": -ids[0], "count": 1}
            await asyncio.gather(*(burner.call("wall.get", params) for _ in range(30)))
        finally:
            await burner.aclose()
        collector = make_collector(box)
        try:
            results = await collect_all(collector, [CollectRequest(str(g), since) for g in ids])
        finally:
            await collector.aclose()
        used = box.stats()["quota_used"]
    assert all(r.complete for r in results), [r.error for r in results if not r.complete]
    assert collector.usage.errors_by_code.get("29", 0) >= 1
    assert used[TOKEN_A]["wall.get"] == 30 and used[TOKEN_B]["wall.get"] > len(ids)
    ledger = collector.client.ledger
    assert not ledger.available(TOKEN_A, "wall.get") and ledger.available(TOKEN_B, "wall.get")
    assert collector.invalid_tokens == []


async def test_quota_exhausted_everywhere_gives_incomplete_results() -> None:
    config = make_config(communities=20, quotas={"wall.get": 4})
    with SandboxServer(config) as box:
        ids = [c["id"] for c in box.communities() if c["status"] == "open"][:8]
        collector = make_collector(box)
        try:
            results = await collect_all(
                collector, [CollectRequest(str(g), NOW - timedelta(days=20)) for g in ids]
            )
        finally:
            await collector.aclose()
    failed = [r for r in results if not r.complete]
    assert failed and all(r.error_code == 29 for r in failed)
    assert all("лимит" in r.error for r in failed)
    assert all(r.info is not None for r in failed)  # groups.getById has no quota


async def test_client_side_ledger_stops_before_vk_refuses(sandbox: SandboxServer) -> None:
    collector = make_collector(sandbox, tokens=f"community:{TOKEN_A}", quotas={"wall.get": 3})
    ids = open_ids(sandbox, 6)
    try:
        results = await collect_all(
            collector, [CollectRequest(str(g), NOW - timedelta(days=1)) for g in ids]
        )
    finally:
        await collector.aclose()
    assert sum(r.complete for r in results) == 3
    assert "29" not in collector.usage.errors_by_code  # never asked VK beyond the quota
    assert collector.client.ledger.used(TOKEN_A, "wall.get") == 3


# ---------------------------------------------------------------------- tokens
async def test_invalid_token_is_reported_and_others_keep_working(sandbox: SandboxServer) -> None:
    bad = "tok-revoked-zzzz-9999"
    collector = make_collector(sandbox, tokens=f"community:{bad},community:{TOKEN_A}")
    try:
        results = await collect_all(
            collector,
            [CollectRequest(str(g), NOW - timedelta(days=3)) for g in open_ids(sandbox, 10)],
        )
    finally:
        await collector.aclose()
    assert all(r.complete for r in results)
    [invalid] = collector.invalid_tokens
    assert invalid.code == 5 and "authorization failed" in invalid.reason
    assert bad not in invalid.masked and invalid.masked.endswith("9999")
    assert invalid.kind == "community"


async def test_no_valid_token_raises_collector_error(sandbox: SandboxServer) -> None:
    """...and leaves no request of a source running with a failure nobody takes."""
    unretrieved: list[str] = []
    asyncio.get_running_loop().set_exception_handler(
        lambda _loop, context: unretrieved.append(context["message"])
    )
    collector = make_collector(sandbox, tokens="bad-token-one-1111,community:bad-token-two-2222")
    try:
        with pytest.raises(CollectorError, match="Нет рабочих токенов"):
            await collect_all(
                collector, [CollectRequest(str(g), NOW) for g in open_ids(sandbox, 3)]
            )
    finally:
        await collector.aclose()
    assert len(collector.invalid_tokens) == 2
    gc.collect()  # an unretrieved failure is reported when its task is collected
    await asyncio.sleep(0)
    assert unretrieved == []


def test_no_tokens_configured_is_a_collector_error() -> None:
    with pytest.raises(CollectorError):
        VKClient("http://127.0.0.1:9", "")


async def test_collector_from_settings_uses_the_settings(sandbox: SandboxServer) -> None:
    from socstat.settings import Settings

    settings = Settings(vk_api_url=sandbox.url, vk_tokens=f"community:{TOKEN_B}")
    collector = VKCollector.from_settings(settings)
    try:
        assert collector.client.base_url == sandbox.url
        assert [t.kind for t in collector.client.tokens] == ["community"]
        info = await collector.resolve(str(open_ids(sandbox, 1)[0]))
        assert info.status == "active"
    finally:
        await collector.aclose()
    assert collector.platform == "vk" and collector.usage.requests >= 1


def test_sandbox_token_kinds_match_the_client(sandbox: SandboxServer) -> None:
    assert TokenSpec(TOKEN_A, "community").rps == 20


# ---------------------------------------------------------------------- prefetch
async def test_prefetched_calls_only_fill_requests_that_leave_anyway(
    sandbox: SandboxServer, communities: list[dict]
) -> None:
    client = VKClient(sandbox.url, f"community:{TOKEN_A}")
    ids = open_ids(sandbox, 4)
    try:
        ahead = [client.prefetch("groups.getById", {"group_id": gid}) for gid in ids[:3]]
        await asyncio.sleep(0.2)
        assert client.usage.requests == 0  # nothing needed: nothing sent
        needed = await client.call("groups.getById", {"group_id": ids[3]})
        assert client.usage.requests == 1 and client.usage.calls == 4
        answers = [await future for future in ahead]
    finally:
        await client.aclose()
    assert needed["groups"][0]["id"] == ids[3]
    assert [a["groups"][0]["id"] for a in answers] == ids[:3]


async def test_a_claimed_prefetch_is_sent_and_a_cancelled_one_never(
    sandbox: SandboxServer,
) -> None:
    client = VKClient(sandbox.url, f"community:{TOKEN_A}")
    first, second = open_ids(sandbox, 2)
    try:
        dropped = client.prefetch("groups.getById", {"group_id": first})
        wanted = client.prefetch("groups.getById", {"group_id": second})
        dropped.cancel()
        answer = await client.claim(wanted)
        direct = await client.call("groups.getById", {"group_id": second})
    finally:
        await client.aclose()
    assert answer == direct
    assert client.usage.requests == 2 and client.usage.calls == 2


async def test_every_request_but_the_last_carries_25_calls(
    sandbox: SandboxServer, communities: list[dict]
) -> None:
    """Prefetched next pages fill the last requests of a run: a wall that needs one page
    more than its estimate does not cost one more, nearly empty, request."""
    for days in (2, 10, 30):
        collector = make_collector(sandbox, tokens=f"community:{TOKEN_A}")
        requests = [CollectRequest(str(c["id"]), NOW - timedelta(days=days)) for c in communities]
        try:
            results = await collect_all(collector, requests)
        finally:
            await collector.aclose()
        usage = collector.usage
        assert len(results) == len(communities)
        assert usage.calls > 25 * (usage.requests - 1), (days, usage.requests, usage.calls)


async def test_cancelled_prefetches_are_not_kept(sandbox: SandboxServer) -> None:
    """A long-running worker prefetches for every community it reads; requests full of
    needed calls never take those, and the cancelled ones must not pile up."""
    client = VKClient(sandbox.url, f"community:{TOKEN_A}")
    try:
        for gid in range(1, 1001):
            client.prefetch("groups.getById", {"group_id": gid}).cancel()
            await asyncio.sleep(0)
        assert len(client._spare_calls) == 0
        assert len(client._spare) <= 64 + 2
    finally:
        await client.aclose()
    assert client.usage.requests == 0
