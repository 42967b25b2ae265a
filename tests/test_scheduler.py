"""Scheduler wiring: the leader lock, the job journal and the leader's jobs."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from socstat.models import (
    AuthSession,
    JobRun,
    LoginAttempt,
    Outbox,
    OutboxStatus,
    RunStatus,
    User,
    utcnow,
)
from socstat.scheduler import (
    ALERTS_JOB,
    BACKUP_JOB,
    OUTBOX_JOB,
    REPORTS_JOB,
    RETENTION_JOB,
    TELEGRAM_JOB,
    SchedulerService,
    build_scheduler,
    outbox_job,
)
from socstat.services.delivery import enqueue_email
from socstat.services.jobs import retention_job, run_job
from socstat.services.locks import LEADER_LOCK_KEY, ProcessLock
from socstat.settings import get_settings
from tests.smtp import smtp_server  # noqa: F401  (fixture)


def test_second_leader_lock_fails_while_first_holds(db) -> None:
    first, second = ProcessLock(key=4242), ProcessLock(key=4242)
    try:
        assert first.acquire() is True
        assert first.acquire() is True  # idempotent for the holder
        assert second.acquire() is False
        first.release()
        assert second.acquire() is True
        assert first.acquire() is False
    finally:
        first.release()
        second.release()


async def test_job_journal_records_success_and_failure(db, session) -> None:
    async def ok() -> dict:
        return {"status": RunStatus.OK, "sources": 3}

    async def broken() -> dict:
        raise RuntimeError("нет связи")

    done = await run_job("demo", ok)
    failed = await run_job("demo", broken)
    assert done.status == RunStatus.OK and done.details == {"status": "ok", "sources": 3}
    assert failed.status == RunStatus.FAILED and "нет связи" in failed.error
    rows = session.exec(select(JobRun).order_by(JobRun.id)).all()
    assert [r.status for r in rows] == [RunStatus.OK, RunStatus.FAILED]
    assert all(r.finished_at is not None for r in rows)


def test_the_leader_schedules_one_off_jobs_and_not_collection(db) -> None:
    """Collection runs in every worker (services/collection/worker.py), not as a job."""
    assert {job.id for job in build_scheduler(get_settings()).get_jobs()} == {
        OUTBOX_JOB, REPORTS_JOB, ALERTS_JOB, TELEGRAM_JOB, RETENTION_JOB, BACKUP_JOB
    }  # fmt: skip


async def test_only_one_service_leads(db, monkeypatch) -> None:
    import socstat.scheduler as scheduler_module

    monkeypatch.setattr(scheduler_module, "build_scheduler", _idle_scheduler)
    leader, follower = (
        SchedulerService(retry_seconds=0.05, check_seconds=0.1),
        SchedulerService(retry_seconds=0.05, check_seconds=0.1),
    )
    await leader.start()
    await _until(lambda: leader.is_leader)
    await follower.start()
    await asyncio.sleep(0.2)
    assert not follower.is_leader
    await leader.stop()
    await _until(lambda: follower.is_leader)
    await follower.stop()


async def test_a_leader_always_stops_when_asked(db, monkeypatch) -> None:
    """stop() cancels the leader task mid lock-check; on Python 3.11 ``asyncio.wait_for``
    swallowed a cancellation arriving as the check finished (1 stop in ~10 hung forever)."""
    import socstat.scheduler as scheduler_module

    monkeypatch.setattr(scheduler_module, "build_scheduler", _idle_scheduler)
    for attempt in range(60):
        service = SchedulerService(retry_seconds=0.01, check_seconds=0.002)
        await service.start()
        await _until(lambda: service.is_leader)  # noqa: B023 - awaited in this iteration
        await asyncio.sleep(0.02 + 0.0005 * (attempt % 10))  # several lock checks in flight
        try:
            await asyncio.wait_for(service.stop(), 5)
        except TimeoutError:
            pytest.fail("the leader did not stop")


def _idle_scheduler(settings):  # type: ignore[no-untyped-def]
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    return AsyncIOScheduler()


async def _until(check) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + 5.0
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("condition not reached in time")
        await asyncio.sleep(0.02)


async def test_run_worker_stops_cleanly_and_releases_the_lock(db, monkeypatch) -> None:
    import socstat.scheduler as scheduler_module

    monkeypatch.setattr(scheduler_module, "build_scheduler", _idle_scheduler)
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler_module.run_worker(stop))
    await asyncio.sleep(0.3)
    probe = ProcessLock()
    assert probe.acquire() is False  # the worker leads
    stop.set()
    await asyncio.wait_for(task, 5)
    assert probe.acquire() is True
    probe.release()


def test_worker_command_exits_on_sigterm(db) -> None:
    import os
    import signal
    import subprocess
    import sys

    from socstat.settings import PROJECT_ROOT

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "socstat", "worker"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert "сбор и планировщик запущены" in process.stdout.readline()
        deadline = time.monotonic() + 10
        probe = ProcessLock()
        while probe.acquire():  # wait until the worker leads
            probe.release()
            assert time.monotonic() < deadline, "the worker never took the leader lock"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_scheduler_has_outbox_reports_and_retention_jobs(db) -> None:
    scheduler = build_scheduler(get_settings())
    assert scheduler.get_job(OUTBOX_JOB) is not None
    assert scheduler.get_job(RETENTION_JOB) is not None
    assert scheduler.get_job(REPORTS_JOB) is not None


async def test_outbox_job_delivers_pending_email(smtp_server, session) -> None:  # noqa: F811
    enqueue_email(session, to="someone@example.org", template="test", context={})
    session.commit()
    await outbox_job()
    messages = smtp_server.wait_for(1, deliver=False)
    assert [m["Subject"] for m in messages] == ["socstat: проверка почты"]
    session.expire_all()
    assert session.exec(select(Outbox)).one().status == OutboxStatus.SENT


async def test_retention_job_deletes_only_old_rows(session) -> None:
    user = User(email="r@example.org")
    session.add(user)
    session.commit()
    long_ago = utcnow() - timedelta(days=90)
    session.add(AuthSession(user_id=user.id, token_hash="old", expires_at=long_ago))
    session.add(
        AuthSession(user_id=user.id, token_hash="live", expires_at=utcnow() + timedelta(days=1))
    )
    session.add(LoginAttempt(email="r@example.org", created_at=long_ago))
    session.add(LoginAttempt(email="r@example.org"))
    session.commit()
    details = await retention_job()
    assert details["sessions_deleted"] == 1 and details["login_attempts_deleted"] == 1
    session.expire_all()
    assert [s.token_hash for s in session.exec(select(AuthSession)).all()] == ["live"]
    assert len(session.exec(select(LoginAttempt)).all()) == 1


async def test_a_leader_whose_lock_connection_dies_stops_before_the_next_one_starts(db) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("the leader lock's connection exists on PostgreSQL only")
    from sqlalchemy import text

    ticks: list[tuple[str, float]] = []

    def recorder(name: str):  # type: ignore[no-untyped-def]
        def build(settings):  # type: ignore[no-untyped-def]
            from apscheduler.schedulers.asyncio import AsyncIOScheduler

            scheduler = AsyncIOScheduler()
            scheduler.add_job(
                lambda: ticks.append((name, time.monotonic())), "interval", seconds=0.05
            )
            return scheduler

        return build

    old = SchedulerService(retry_seconds=0.05, check_seconds=0.2, build=recorder("old"))
    new = SchedulerService(retry_seconds=0.05, check_seconds=0.2, build=recorder("new"))
    await old.start()
    await _until(lambda: old.is_leader and len(ticks) >= 3)
    await new.start()
    await asyncio.sleep(0.5)
    assert not new.is_leader
    with db.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND objid = :low"
            ),
            {"low": LEADER_LOCK_KEY & 0xFFFFFFFF},
        ).all()
    assert killed == [(True,)]
    await _until(lambda: not old.is_leader)
    await _until(lambda: new.is_leader and sum(n == "new" for n, _ in ticks) >= 3)
    await old.stop()
    await new.stop()
    last_old = max(t for n, t in ticks if n == "old")
    first_new = min(t for n, t in ticks if n == "new")
    assert last_old < first_new  # never both at once: no tick ran twice
    assert [n for n, _ in ticks] == sorted((n for n, _ in ticks), key=lambda n: n == "new")


async def test_a_worker_that_does_not_lead_still_generates_waiting_reports(
    db, session, monkeypatch
) -> None:
    import socstat.scheduler as scheduler_module
    from socstat.models import Report, ReportStatus, Role, Source, Subscription
    from socstat.services.reports.generation import create_report

    monkeypatch.setattr(scheduler_module, "build_scheduler", _idle_scheduler)
    user = User(email="reports@example.com", role=Role.ANALYST, confirmed_at=utcnow())
    source = Source(external_id="100", name="Клуб", last_collected_at=utcnow())  # not due
    session.add_all([user, source])
    session.flush()
    session.add(Subscription(user_id=user.id, source_id=source.id))
    session.commit()
    day = utcnow().date() - timedelta(days=1)
    report_id = create_report(session, actor=user, kind="custom", start=day, end=day).id
    session.commit()
    leader = ProcessLock()
    assert leader.acquire()  # another process leads
    try:
        async with scheduler_module.scheduler_lifespan(force=True) as service:
            assert service is not None

            def generated() -> bool:
                session.expire_all()
                return session.get(Report, report_id).status == ReportStatus.DONE

            await _until(generated)
            assert not service.is_leader
    finally:
        leader.release()
