"""Failover between `socstat worker` processes: kill -9 the leader, another takes over
within the stated time, and no scheduled job ever runs in two processes at once."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from sqlmodel import select

from socstat.models import JobRun, RunStatus
from socstat.settings import PROJECT_ROOT

RETRY_SECONDS = 2.0
CHECK_SECONDS = 5.0  # scheduler.LEADER_CHECK_SECONDS
# A follower tries the lock every RETRY_SECONDS and, once it has it, waits 1.5 checks
# before starting its scheduler (so a leader that lost its lock has stopped by then).
TAKEOVER_LIMIT = RETRY_SECONDS + 1.5 * CHECK_SECONDS + 5.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker(port: int, log) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "SOCSTAT_WORKER_METRICS_PORT": str(port),
        "SOCSTAT_LEADER_RETRY_SECONDS": str(RETRY_SECONDS),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "socstat", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _is_leader(port: int) -> bool | None:
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return None
    line = next((x for x in body.splitlines() if x.startswith("socstat_scheduler_leader ")), "")
    return line.endswith(" 1.0")


def _wait_for_leader(ports: list[int], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leaders = [port for port in ports if _is_leader(port)]
        if leaders:
            assert len(leaders) == 1, f"two leaders at once: {leaders}"
            return leaders[0]
        time.sleep(0.2)
    pytest.fail(f"no leader among {ports} within {timeout}s")


def _assert_no_job_ran_twice_at_once(session) -> list[JobRun]:  # type: ignore[no-untyped-def]
    session.expire_all()
    rows = session.exec(select(JobRun).order_by(JobRun.started_at)).all()
    for job in {r.job for r in rows}:
        runs = [r for r in rows if r.job == job]
        for before, after in itertools.pairwise(runs):
            assert before.finished_at is not None and before.finished_at <= after.started_at, (
                f"{job}: run {before.id} still running when {after.id} started"
            )
    return list(rows)


@pytest.mark.slow
def test_kill_9_of_the_leader_hands_over_to_another_worker(session, tmp_path) -> None:
    ports = [free_port() for _ in range(2)]
    logs = [(tmp_path / f"worker{i}.log").open("w") for i in range(2)]
    workers = dict(
        zip(ports, (_worker(p, log) for p, log in zip(ports, logs, strict=True)), strict=True)
    )
    try:
        leader = _wait_for_leader(ports, 60)
        time.sleep(8)  # the alerts job starts 5 s after leadership
        before = _assert_no_job_ran_twice_at_once(session)
        assert any(r.job == "alerts" for r in before)
        workers[leader].send_signal(signal.SIGKILL)
        workers[leader].wait(timeout=10)
        killed_at = time.monotonic()
        survivor = next(p for p in ports if p != leader)
        assert _wait_for_leader([survivor], TAKEOVER_LIMIT) == survivor
        takeover = time.monotonic() - killed_at
        time.sleep(8)  # the new leader's first alerts job
        after = _assert_no_job_ran_twice_at_once(session)
        assert len([r for r in after if r.job == "alerts"]) > len(
            [r for r in before if r.job == "alerts"]
        )
        assert all(r.status != RunStatus.RUNNING or r.id == after[-1].id for r in after)
        print(f"takeover after kill -9: {takeover:.1f} s (limit {TAKEOVER_LIMIT:.1f} s)")
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in logs:
            log.close()
