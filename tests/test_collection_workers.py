"""Collection across `socstat worker` processes (PostgreSQL): three workers, three tokens,
the VK sandbox on loopback with its rate limit. Every community is collected exactly once
and equals the sandbox's truth; kill -9 of one worker mid-run → its claims expire, another
worker finishes those sources, nothing is lost and nothing collected twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import select

from socstat.db import get_engine, session_scope
from socstat.models import (
    CollectionRun,
    CollectionRunSource,
    Role,
    RunStatus,
    Source,
    Subscription,
    User,
)
from socstat.sandbox import SandboxConfig, SandboxServer, TokenSpec
from socstat.settings import PROJECT_ROOT
from tests.services.conftest import assert_truth

pytestmark = pytest.mark.slow

COMMUNITIES = 240
TOKENS = ["tok-worker-aaaa1", "tok-worker-bbbb2", "tok-worker-cccc3"]
LEASE_SECONDS = 6
BATCH = 10  # small batches: every worker is mid-batch almost all the time
DEADLINE_SECONDS = 100


@pytest.fixture
def postgres_only(db) -> None:  # type: ignore[no-untyped-def]
    if get_engine().dialect.name != "postgresql":
        pytest.skip("collection across processes needs PostgreSQL (SQLite collects in one)")


def _track_all(external_ids: list[int]) -> None:
    with session_scope() as session:
        user = User(email="workers@example.com", role=Role.ANALYST)
        session.add(user)
        session.flush()
        sources = [Source(external_id=str(gid), screen_name=f"club{gid}") for gid in external_ids]
        session.add_all(sources)
        session.flush()
        session.add_all(Subscription(user_id=user.id, source_id=s.id) for s in sources)


def _start_worker(server: SandboxServer, log) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "SOCSTAT_VK_API_URL": server.url,
        "SOCSTAT_VK_TOKENS": ",".join(TOKENS),
        "SOCSTAT_COLLECT_LEASE_SECONDS": str(LEASE_SECONDS),
        "SOCSTAT_COLLECT_POLL_SECONDS": "1",
        "SOCSTAT_COLLECT_BATCH_SIZE": str(BATCH),
        "SOCSTAT_BACKFILL_DAYS": "14",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "socstat", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _progress() -> tuple[int, int]:
    """(sources stored, runs in progress)."""
    with session_scope() as check:
        done = check.exec(select(func.count(func.distinct(CollectionRunSource.source_id)))).one()
        running = check.exec(
            select(func.count()).where(CollectionRun.status == RunStatus.RUNNING)
        ).one()
    return done, running


def _claims() -> dict[int, int]:
    with session_scope() as check:
        rows = check.exec(
            select(Source.id, Source.claimed_by).where(Source.claimed_by.is_not(None))
        ).all()
    return {source_id: run_id for source_id, run_id in rows}


def _busiest(workers: list[subprocess.Popen]) -> subprocess.Popen | None:
    """The live worker whose run holds the most claims now (at least two): killing it
    surely interrupts a run, however fast the others finish theirs."""
    with session_scope() as check:
        rows = check.exec(
            select(CollectionRun.process, func.count())
            .join(Source, Source.claimed_by == CollectionRun.id)
            .where(CollectionRun.status == RunStatus.RUNNING)
            .group_by(CollectionRun.process)
        ).all()
    claims = {int(process.rsplit(":", 1)[1]): count for process, count in rows}
    holding = [w for w in workers if w.poll() is None and claims.get(w.pid, 0) >= 2]
    return max(holding, key=lambda w: claims[w.pid], default=None)


def _wait(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {DEADLINE_SECONDS} s (progress {_progress()})")
        time.sleep(0.05)


def test_three_workers_three_tokens_collect_everything_once_and_survive_kill_9(
    postgres_only, session, tmp_path
) -> None:
    config = SandboxConfig(
        seed=11,
        communities=COMMUNITIES,
        days=14,
        now=datetime.now(UTC).replace(microsecond=0),
        running_clock=False,
        tokens=[TokenSpec(token) for token in TOKENS],  # user tokens: 3 requests/s each
        rate_limit=True,
    )
    logs = [(tmp_path / f"worker{i}.log").open("w") for i in range(3)]
    with SandboxServer(config) as server:
        _track_all([c["id"] for c in server.communities()])
        workers = [_start_worker(server, log) for log in logs]
        try:
            _wait(lambda: _progress()[0] >= COMMUNITIES // 3, "a third collected")
            _wait(lambda: _progress()[1] == 3, "three runs at once")
            _wait(lambda: _busiest(workers) is not None, "a worker holding claims")
            victim = _busiest(workers)
            assert victim is not None
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            killed_at = datetime.now(UTC)
            orphaned_claims = _claims()
            _wait(lambda: _progress() == (COMMUNITIES, 0), "every community stored")
            stats = server.stats()
        finally:
            for process in workers:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in workers:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            for log in logs:
                log.close()

        session.expire_all()
        runs = {run.id: run for run in session.exec(select(CollectionRun)).all()}
        stored = session.exec(select(CollectionRunSource)).all()
        per_source = Counter(row.source_id for row in stored)
        assert len(per_source) == COMMUNITIES
        assert set(per_source.values()) == {1}, "a community was collected twice"
        assert all(row.status == RunStatus.OK for row in stored)

        interrupted = [run for run in runs.values() if run.status == RunStatus.INTERRUPTED]
        assert len(interrupted) == 1, [(r.id, r.status) for r in runs.values()]
        dead_run = interrupted[0].id
        lost = {sid for sid, run_id in orphaned_claims.items() if run_id == dead_run}
        lost -= {row.source_id for row in stored if row.run_id == dead_run}
        assert lost, "the kill should leave claims behind"
        for row in stored:
            if row.source_id in lost:  # finished by another worker after the lease ran out
                assert row.run_id != dead_run
                assert runs[row.run_id].started_at >= killed_at

        sources = session.exec(select(Source)).all()
        assert all(s.claimed_by is None and not s.stale for s in sources)
        assert {r.status for r in runs.values()} == {RunStatus.OK, RunStatus.INTERRUPTED}
        used = {token for token, data in stats["tokens"].items() if data["requests"]}
        assert used == set(TOKENS), "every token collected"
        # Two workers on one token would draw error 6 ("too many requests") dozens of times;
        # the client's own pacing may, on a starved CPU, still draw one or two (retried).
        assert stats["totals"]["errors"].get("6", 0) <= 2, "a token was shared at once"
        assert_truth(session, server)
        print(f"{len(runs)} runs; the killed worker left {len(lost)} claimed sources to others")


def test_workers_are_counted_by_the_runs_collecting_now(db) -> None:  # type: ignore[no-untyped-def]
    """A worker sizes its batch by the runs collecting now: a running run with a fresh
    heartbeat counts, a finished one or one whose heartbeat stopped (a dead process) not."""
    from datetime import timedelta

    from socstat.services.collection import journal
    from socstat.services.collection.worker import batch_size

    with session_scope() as session:
        live, _ = journal.start_run(session, trigger=journal.Trigger.SCHEDULE, actor=None)
        dead, _ = journal.start_run(session, trigger=journal.Trigger.SCHEDULE, actor=None)
        done, _ = journal.start_run(session, trigger=journal.Trigger.SCHEDULE, actor=None)
        runs = {run.id: run for run in session.exec(select(CollectionRun))}
        runs[dead].heartbeat_at = (
            runs[dead].heartbeat_at - journal.stale_after() - timedelta(seconds=1)
        )
        runs[done].status = RunStatus.OK
    with session_scope() as session:
        others = journal.live_runs(session)
    assert others == 1 and runs[live].status == RunStatus.RUNNING
    # with one token of its own, this worker still leaves the live one its share
    assert batch_size(400, workers=max(1, others + 1), largest=300) == 200
