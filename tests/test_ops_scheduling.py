"""The daily backup job (time, pruning, failures told to admins) and SOCSTAT_SCHEDULER=off."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from socstat.api.routes import build_api
from socstat.models import JobRun, Notification, Outbox, Role, RunStatus, utcnow
from socstat.scheduler import (
    BACKUP_JOB,
    build_scheduler,
    process_is_leader,
    process_runs_scheduler,
    scheduler_lifespan,
)
from socstat.services.alerts.system import BACKUP_FAILED_TITLE, backup_failed
from socstat.services.jobs import backup_job, run_job
from socstat.services.locks import ProcessLock
from socstat.settings import get_settings, reset_settings_cache
from tests.services.accounts_fixtures import make_user


@pytest.fixture
def env(monkeypatch):
    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reset_settings_cache()

    yield apply
    monkeypatch.undo()
    reset_settings_cache()


def test_backup_runs_daily_at_the_configured_local_time(db, env) -> None:
    env(SOCSTAT_BACKUP_TIME="04:15", SOCSTAT_TIMEZONE="Asia/Yekaterinburg")
    job = build_scheduler(get_settings()).get_job(BACKUP_JOB)
    now = datetime.now(get_settings().tz)
    fire = job.trigger.get_next_fire_time(None, now)
    assert (fire.hour, fire.minute) == (4, 15)
    assert fire.utcoffset() == get_settings().tz.utcoffset(fire.replace(tzinfo=None))
    assert 0 < (fire - now).total_seconds() <= 24 * 3600


async def test_backup_job_backs_up_and_prunes(db, env, tmp_path) -> None:
    folder = tmp_path / "backups"
    env(SOCSTAT_BACKUP_DIR=str(folder), SOCSTAT_BACKUP_KEEP_DAILY="1")
    env(SOCSTAT_BACKUP_KEEP_WEEKLY="0", SOCSTAT_BACKUP_KEEP_MONTHLY="0")
    first = await run_job(BACKUP_JOB, backup_job)
    assert first.status == RunStatus.OK
    older = folder / "socstat-20200101-033000.tar"  # an old copy under the naming scheme
    older.write_bytes(b"old")
    second = await run_job(BACKUP_JOB, backup_job)
    assert second.status == RunStatus.OK and second.details["pruned"] >= 1
    assert not older.exists()
    assert [p.name for p in folder.glob("socstat-*.tar")] == [second.details["path"].split("/")[-1]]


async def test_a_failed_backup_fails_the_job_and_alerts_each_admin_once_a_day(
    session, env, tmp_path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    env(SOCSTAT_BACKUP_DIR=str(blocker / "backups"))
    admins = [make_user(session, f"admin{i}@example.com", Role.ADMIN) for i in range(2)]
    blocked = make_user(session, "old-admin@example.com", Role.ADMIN)
    blocked.blocked_at = utcnow()
    session.add(blocked)
    analyst = make_user(session, "analyst@example.com")
    session.commit()

    for _ in range(2):  # the second failure the same day adds nothing, read or not
        run = await run_job(BACKUP_JOB, backup_job)
        assert run.status == RunStatus.FAILED and run.error
        session.expire_all()
        for note in session.exec(select(Notification)).all():
            note.read_at = utcnow()
            session.add(note)
        session.commit()

    notices = session.exec(select(Notification)).all()
    assert sorted(n.user_id for n in notices) == sorted(a.id for a in admins)
    assert {(n.title, n.kind) for n in notices} == {(BACKUP_FAILED_TITLE, "system")}
    assert all("socstat backup" in n.body for n in notices)
    assert analyst.id not in {n.user_id for n in notices}
    emails = session.exec(select(Outbox)).all()  # and each admin's email, through the outbox
    assert sorted(m.recipient for m in emails) == sorted(a.email for a in admins)
    rows = session.exec(select(JobRun).where(JobRun.job == BACKUP_JOB)).all()
    assert [r.status for r in rows] == [RunStatus.FAILED, RunStatus.FAILED]

    assert backup_failed(session, reason="диск заполнен", now=utcnow() + timedelta(days=1))
    session.commit()  # the next day's failure is a new notice
    assert len(session.exec(select(Notification)).all()) == 2 * len(admins)


def _scrape_leader() -> float:
    body = TestClient(build_api(), client=("127.0.0.1", 5000)).get("/metrics").text
    line = next(x for x in body.splitlines() if x.startswith("socstat_scheduler_leader "))
    return float(line.split()[1])


async def test_scheduler_off_never_competes_for_the_lock(db, env) -> None:
    env(SOCSTAT_SCHEDULER="off")
    async with scheduler_lifespan() as service:
        assert service is None
        await asyncio.sleep(0.2)
        probe = ProcessLock()
        assert probe.acquire() is True  # nobody took the leader lock
        probe.release()
        assert not process_runs_scheduler() and not process_is_leader()
        assert await asyncio.to_thread(_scrape_leader) == 0


async def test_the_leader_gauge_is_one_in_the_leading_process(db, env, monkeypatch) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    import socstat.scheduler as scheduler_module

    env(SOCSTAT_SCHEDULER="on")
    monkeypatch.setattr(scheduler_module, "build_scheduler", lambda settings: AsyncIOScheduler())
    async with scheduler_lifespan() as service:
        assert service is not None
        deadline = asyncio.get_running_loop().time() + 20  # a new leader waits 1.5 lock checks
        while not service.is_leader:
            assert asyncio.get_running_loop().time() < deadline, "never became leader"
            await asyncio.sleep(0.05)
        assert process_runs_scheduler() and process_is_leader()
        assert await asyncio.to_thread(_scrape_leader) == 1
    assert not process_is_leader()
