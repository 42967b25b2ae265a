"""End to end: the VK collector against the sandbox over HTTP, persisted in the real DB.

After a collection every DailyStat must equal the sandbox's ground truth.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from socstat.collectors.vk import VKCollector
from socstat.db import session_scope
from socstat.models import (
    CollectionRun,
    CollectionRunSource,
    ContentItem,
    Notification,
    Role,
    RunStatus,
    Source,
    SourceStatus,
    User,
    utcnow,
)
from socstat.sandbox.config import SandboxConfig, TokenSpec
from socstat.sandbox.runner import SandboxServer
from socstat.services.collection import collect_due_sources, collect_sources, due_source_ids
from socstat.services.collection.journal import stale_after
from socstat.services.sources import AddOutcome
from socstat.settings import PROJECT_ROOT
from tests.services.conftest import KINDS, add_sources, assert_truth

pytestmark = pytest.mark.slow

WORLD_NOW = datetime.now(UTC).replace(microsecond=0)
SANDBOX_STATUS = {"open": SourceStatus.ACTIVE}


def _config(**overrides: object) -> SandboxConfig:
    values: dict = {
        "seed": 7,
        "communities": 16,
        "days": 10,
        "now": WORLD_NOW,
        "running_clock": False,
        "rate_limit": False,
        "slow_seconds": 0.2,
    }
    values.update(overrides)
    return SandboxConfig(**values)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(_config()) as server:
        yield server


def _collector(server: SandboxServer, tokens: str = "test-token-0001", **options) -> VKCollector:  # type: ignore[no-untyped-def]
    options.setdefault("backoff_base", 0.01)
    options.setdefault("backoff_cap", 0.05)
    options.setdefault("max_retries", 12)
    return VKCollector(base_url=server.url, tokens=tokens, timeout=5.0, **options)


def _world_now(server: SandboxServer) -> datetime:
    return datetime.fromisoformat(server.clock()["now"].replace("Z", "+00:00"))


async def _track_all(session: Session, server: SandboxServer, collector: VKCollector) -> User:
    admin = User(email="admin@example.com", role=Role.ADMIN)
    session.add(admin)
    session.commit()
    links = [f"https://vk.com/{c['screen_name']}" for c in server.communities()]
    results = await add_sources(session, actor=admin, links=links, collector=collector)
    assert [r.outcome for r in results] == [AddOutcome.ADDED] * len(links)
    server.reset_quotas()
    return admin


async def test_collection_equals_ground_truth_and_statuses(db, session, sandbox) -> None:
    collector = _collector(sandbox)
    try:
        await _track_all(session, sandbox, collector)
        summary = await collect_due_sources(collector=collector, now=_world_now(sandbox))
    finally:
        await collector.aclose()
    assert summary is not None and summary.status == RunStatus.OK, summary
    assert summary.sources_ok == 16 and summary.items_new > 100
    assert summary.requests > 0 and summary.calls >= summary.requests
    assert_truth(session, sandbox)
    pinned = session.exec(select(func.count()).where(ContentItem.is_pinned)).one()
    assert pinned >= 1
    by_id = {s.external_id: s for s in session.exec(select(Source)).all()}
    for community in sandbox.communities():
        source = by_id[str(community["id"])]
        wanted = SANDBOX_STATUS.get(community["status"], community["status"])
        assert source.status == wanted, community
        assert source.last_collected_at is not None and not source.stale
        if wanted != SourceStatus.ACTIVE:
            assert source.status_reason
    assert due_source_ids(session, now=_world_now(sandbox)) == []
    run = session.get(CollectionRun, summary.run_id)
    assert run.status == RunStatus.OK and run.items_new == summary.items_new


async def test_days_pass_next_run_adds_new_items_and_refreshes(db, session, sandbox) -> None:
    collector = _collector(sandbox)
    try:
        await _track_all(session, sandbox, collector)
        await collect_due_sources(collector=collector, now=_world_now(sandbox))
        before = session.exec(select(func.count()).select_from(ContentItem)).one()
        truth_before = _truth_items(sandbox)
        sandbox.advance(2 * 86400 + 3600)
        later = _world_now(sandbox)
        summary = await collect_due_sources(collector=collector, now=later)
    finally:
        await collector.aclose()
    assert summary is not None and summary.status == RunStatus.OK
    new_in_world = _truth_items(sandbox) - truth_before
    assert summary.items_new == new_in_world > 0
    after = session.exec(select(func.count()).select_from(ContentItem)).one()
    assert after == before + new_in_world
    assert summary.items_updated > 0
    assert_truth(session, sandbox, only_recent_days=3)


def _truth_items(server: SandboxServer) -> int:
    return sum(
        day[key]["count"]
        for community in server.truth()["communities"]
        if community["wall_accessible"]
        for day in community["days"]
        for key in KINDS.values()
    )


async def test_faults_give_the_same_result(db, session) -> None:
    with SandboxServer(_config(fault_rate=0.2)) as server:
        collector = _collector(server)
        try:
            await _track_all(session, server, collector)
            summary = await collect_due_sources(collector=collector, now=_world_now(server))
        finally:
            await collector.aclose()
        faults = server.stats()["totals"].get("faults", {})
        assert sum(faults.values()) > 0
        assert summary is not None and summary.sources_failed == 0
        assert summary.errors_by_code, "faults should be counted"
        assert_truth(session, server)


async def test_quota_exhaustion_other_token_continues_rest_stays_due(db, session) -> None:
    config = _config(
        tokens=[TokenSpec("token-aaaa-0001"), TokenSpec("token-bbbb-0002")],
        quotas={"wall.get": 5},
    )
    with SandboxServer(config) as server:
        collector = _collector(server, tokens="token-aaaa-0001,token-bbbb-0002")
        try:
            await _track_all_with_quota_reset(session, server, collector)
            now = _world_now(server)
            first = await collect_due_sources(collector=collector, now=now)
        finally:
            await collector.aclose()
        assert first is not None and first.status == RunStatus.PARTIAL
        used = server.stats()["quota_used"]
        assert all(
            used.get(t, {}).get("wall.get", 0) == 5 for t in ("token-aaaa-0001", "token-bbbb-0002")
        )
        assert first.sources_ok > 5  # more than one token's worth: the other one went on
        left = due_source_ids(session, now=now)
        assert len(left) == first.sources_partial + first.sources_failed > 0
        server.reset_quotas()
        collector = _collector(server, tokens="token-aaaa-0001,token-bbbb-0002")
        try:
            second = await collect_due_sources(collector=collector, now=now)
        finally:
            await collector.aclose()
        assert second is not None
        assert {r.source_id for r in _run_sources(session, second.run_id)} == set(left)
        if second.status != RunStatus.OK:  # a last few may need one more quota day
            server.reset_quotas()
            collector = _collector(server, tokens="token-aaaa-0001,token-bbbb-0002")
            try:
                await collect_due_sources(collector=collector, now=now)
            finally:
                await collector.aclose()
        assert due_source_ids(session, now=now) == []
        assert_truth(session, server)


async def _track_all_with_quota_reset(
    session: Session, server: SandboxServer, collector: VKCollector
) -> None:
    """Resolving needs wall.get too: add in small groups, resetting the tiny quota."""
    admin = User(email="admin@example.com", role=Role.ADMIN)
    session.add(admin)
    session.commit()
    links = [f"https://vk.com/{c['screen_name']}" for c in server.communities()]
    for start in range(0, len(links), 4):
        server.reset_quotas()
        results = await add_sources(
            session, actor=admin, links=links[start : start + 4], collector=collector
        )
        assert all(r.outcome == AddOutcome.ADDED for r in results), results
    server.reset_quotas()


def _run_sources(session: Session, run_id: int) -> list[CollectionRunSource]:
    session.expire_all()
    return list(
        session.exec(select(CollectionRunSource).where(CollectionRunSource.run_id == run_id))
    )


async def test_invalid_token_is_reported_not_a_crash(db, session) -> None:
    config = _config(tokens=[TokenSpec("good-token-0001")])
    with SandboxServer(config) as server:
        good = _collector(server, tokens="good-token-0001")
        try:
            admin = await _track_all(session, server, good)
        finally:
            await good.aclose()
        mixed = _collector(server, tokens="bad-token-9999,good-token-0001")
        try:
            summary = await collect_due_sources(collector=mixed, now=_world_now(server))
        finally:
            await mixed.aclose()
        assert summary is not None and summary.sources_ok == 16
        assert "9999" in summary.error and "bad-token" not in summary.error
        session.expire_all()
        notes = session.exec(select(Notification).where(Notification.user_id == admin.id)).all()
        assert len(notes) == 1 and "9999" in notes[0].title
        assert_truth(session, server)

        only_bad = _collector(server, tokens="bad-token-9999")
        try:
            ids = [s.id for s in session.exec(select(Source)).all()]
            failed = await collect_sources(source_ids=ids, collector=only_bad)
        finally:
            await only_bad.aclose()
        assert failed.status == RunStatus.FAILED and failed.sources_failed == 16
        assert "9999" in failed.error
        session.expire_all()
        assert len(session.exec(select(Notification)).all()) == 1  # deduplicated


def test_killed_run_loses_nothing_and_rerun_completes(db, session) -> None:
    config = _config(communities=24, rate_limit=True, faults={"slow": 0.5}, slow_seconds=0.6)
    with SandboxServer(config) as server:
        import asyncio

        async def _add() -> None:
            collector = _collector(server)
            try:
                await _track_all(session, server, collector)
            finally:
                await collector.aclose()

        server.set_faults(rate=0.0, faults={})
        asyncio.run(_add())
        server.set_faults(faults={"slow": 0.5})
        env = {**os.environ, "SOCSTAT_VK_API_URL": server.url, "SOCSTAT_VK_TOKENS": "tok-12345678"}
        process = subprocess.Popen(
            [sys.executable, "-m", "socstat", "collect", "--all"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_for_some_sources(process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        with session_scope() as check:
            done = check.exec(select(func.count()).select_from(CollectionRunSource)).one()
            run = check.exec(select(CollectionRun)).one()
        assert 0 < done < 24, "the kill should land mid-run"
        assert run.status == RunStatus.RUNNING
        server.set_faults(rate=0.0, faults={})
        # at once, the dead run's claims still hold: nothing is collected twice
        early = _collect_cli(env)
        assert early.returncode == 0 and "уже идёт" in early.stdout, early.stdout + early.stderr
        # once its heartbeat is older than stale_after(), it is noticed as dead
        with session_scope() as aging:
            aging.execute(
                update(CollectionRun).values(heartbeat_at=utcnow() - stale_after() - timedelta(1))
            )
        rerun = _collect_cli(env)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        session.expire_all()
        runs = session.exec(select(CollectionRun).order_by(CollectionRun.id)).all()
        assert [r.status for r in runs] == [RunStatus.INTERRUPTED, RunStatus.OK]
        assert runs[1].sources_ok == 24 - done  # only the sources still due
        assert_truth(session, server)


def _collect_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socstat", "collect"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait_for_some_sources(process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"collect ended before it could be killed: {out!r} {err!r}")
        with session_scope() as check:
            done = check.exec(select(func.count()).select_from(CollectionRunSource)).one()
        if done >= 3:
            return
        time.sleep(0.05)
    pytest.fail("no source was collected in time")


async def test_posts_deleted_on_vk_leave_the_numbers(db, session, sandbox) -> None:
    collector = _collector(sandbox)
    try:
        await _track_all(session, sandbox, collector)
        await collect_due_sources(collector=collector, now=_world_now(sandbox))
        now = _world_now(sandbox)
        media_moments = {
            (item.source_id, item.published_at)
            for item in session.exec(select(ContentItem).where(ContentItem.kind != "post"))
        }
        recent_posts = session.exec(
            select(ContentItem)
            .where(
                ContentItem.kind == "post",
                ContentItem.published_at >= now - timedelta(days=2),
                ~ContentItem.is_pinned,
            )
            .order_by(ContentItem.source_id, ContentItem.id)
        ).all()
        # posts without clips/videos of their own: those are counted apart and VK keeps them
        plain = [p for p in recent_posts if (p.source_id, p.published_at) not in media_moments]
        victims = {p.source_id: p for p in plain}  # one per community
        assert len(victims) >= 3
        sources = {s.id: s for s in session.exec(select(Source)).all()}
        for source_id, post in victims.items():
            owner = -int(sources[source_id].external_id)
            assert sandbox.delete_posts(owner, [int(post.external_id)]) == {"deleted": 1}
        sandbox.advance(3600)
        summary = await collect_sources(
            source_ids=list(sources), collector=collector, now=_world_now(sandbox)
        )
    finally:
        await collector.aclose()
    assert summary.status == RunStatus.OK, summary
    assert_truth(session, sandbox, only_recent_days=3)
    session.expire_all()
    gone = session.exec(select(ContentItem).where(ContentItem.deleted_at.is_not(None))).all()
    assert {(g.source_id, g.external_id) for g in gone} == {
        (source_id, post.external_id) for source_id, post in victims.items()
    }


def test_two_concurrent_collect_all_collect_each_source_once(db, session) -> None:
    """Two `socstat collect --all` at once, sharing one token: one collects, the other says
    so and stops; no source is collected twice, VK's rate limit is never hit, nothing stale.
    (PostgreSQL: claims and token leases; SQLite: the process lock.)"""
    import asyncio

    with SandboxServer(_config(communities=20, rate_limit=True)) as server:

        async def _add() -> None:
            collector = _collector(server)
            try:
                await _track_all(session, server, collector)
            finally:
                await collector.aclose()

        asyncio.run(_add())
        server.reset_stats()
        # every answer takes a second: the runs overlap however unevenly the two processes
        # start (a whole run took 0.6 s on a fast machine, less than a start-up's jitter)
        server.set_faults(faults={"slow": 1.0}, slow_seconds=1.0)
        env = {**os.environ, "SOCSTAT_VK_API_URL": server.url, "SOCSTAT_VK_TOKENS": "tok-shared1"}
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "socstat", "collect", "--all"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=180) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        stdout = [out for out, _err in outputs]
        assert sum("уже идёт" in out for out in stdout) == 1, stdout
        assert server.stats()["totals"]["errors"].get("6", 0) == 0
        session.expire_all()
        per_source = session.exec(
            select(CollectionRunSource.source_id, func.count()).group_by(
                CollectionRunSource.source_id
            )
        ).all()
        assert sorted(n for _sid, n in per_source) == [1] * 20
        assert len(session.exec(select(CollectionRun)).all()) == 1
        sources = session.exec(select(Source)).all()
        assert all(not s.stale and s.claimed_by is None for s in sources)
        assert_truth(session, server)
