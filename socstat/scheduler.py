"""APScheduler wiring: jobs run only in the process holding the leader lock.

The leader lock is a PostgreSQL session advisory lock held on a dedicated connection for
the process lifetime (SQLite: an exclusive `fcntl` lock on a file under data_dir). Web
workers and `socstat worker` processes all try it; one wins, the others retry now and then
and take over when the leader dies (the lock dies with its connection / process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from sqlmodel import Session

from socstat.db import session_scope
from socstat.models import JobRun, RunStatus, utcnow
from socstat.services.locks import LEADER_LOCK_KEY, ProcessLock
from socstat.settings import Settings, get_settings

LeaderLock = ProcessLock  # the scheduler's lock: ProcessLock(key=LEADER_LOCK_KEY)

log = logging.getLogger(__name__)

LEADER_RETRY_SECONDS = 60.0
COLLECTION_JOB = "collection"
OUTBOX_JOB = "outbox"
RETENTION_JOB = "retention"
REPORTS_JOB = "reports"
REPORTS_INTERVAL_SECONDS = 300
MISFIRE_GRACE_SECONDS = 3600


# --- job journal -----------------------------------------------------------------------


async def run_job(name: str, work: Callable[[], Awaitable[dict[str, Any] | None]]) -> JobRun:
    """Run one job with a JobRun journal row (running → ok | failed)."""

    def _start(session: Session) -> int:
        row = JobRun(job=name[:64])
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id

    job_id = await asyncio.to_thread(_with_session, _start)
    status, details, error = RunStatus.OK, {}, ""
    try:
        details = await work() or {}
    except Exception as exc:
        log.exception("job %s failed", name)
        status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]

    def _finish(session: Session) -> JobRun:
        row = session.get(JobRun, job_id)
        assert row is not None
        row.status = details.get("status", status) if status == RunStatus.OK else status
        row.finished_at = utcnow()
        row.details = _jsonable(details)
        row.error = error or str(details.get("error", ""))[:2000]
        session.add(row)
        return row

    return await asyncio.to_thread(_with_session, _finish)


def mark_interrupted_jobs(session: Session) -> None:
    session.execute(
        update(JobRun)
        .where(JobRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.INTERRUPTED, finished_at=utcnow())
    )


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, int | float | str | bool | None | dict | list) else str(v)
        for k, v in details.items()
    }


def _with_session(func):  # type: ignore[no-untyped-def]
    with session_scope() as session:
        return func(session)


# --- jobs ------------------------------------------------------------------------------


async def collection_job() -> dict[str, Any]:
    """Collect due sources with a fresh collector (closed afterwards)."""
    from socstat.services.collection import collect_due_sources, make_collector

    collector = await asyncio.to_thread(make_collector)
    try:
        summary = await collect_due_sources(collector=collector)
    finally:
        await collector.aclose()
    if summary is None:
        return {"status": RunStatus.OK, "sources": 0}
    return {
        "status": summary.status,
        "run_id": summary.run_id,
        "sources_ok": summary.sources_ok,
        "sources_partial": summary.sources_partial,
        "sources_failed": summary.sources_failed,
        "items_new": summary.items_new,
        "items_updated": summary.items_updated,
        "error": summary.error,
    }


async def outbox_job() -> None:
    """Deliver due outbox messages; not journaled (it runs every few seconds), only logged."""
    from socstat.services.delivery import deliver_due

    report = await asyncio.to_thread(deliver_due)
    if report.sent or report.logged or report.retrying or report.failed:
        log.info(
            "outbox: sent %d, logged %d, will retry %d, failed %d",
            len(report.sent),
            len(report.logged),
            len(report.retrying),
            len(report.failed),
        )


async def reports_job() -> None:
    """Make the scheduled reports whose time has come (the same code as
    `socstat reports run-due`; catching up after downtime is part of it). Runs every few
    minutes, so it is logged when it did something rather than journaled."""
    from socstat.services.reports.schedule import run_due

    result = await asyncio.to_thread(run_due)
    if result.created or result.generated:
        log.info("reports: created %d, generated %d", len(result.created), len(result.generated))


def _purge(session: Session) -> dict[str, Any]:
    from socstat.services.accounts import purge_login_attempts
    from socstat.services.sessions import purge_expired

    return {
        "status": RunStatus.OK,
        "sessions_deleted": purge_expired(session),
        "login_attempts_deleted": purge_login_attempts(session),
    }


async def retention_job() -> dict[str, Any]:
    """Delete ended sessions and old sign-in attempts."""
    return await asyncio.to_thread(_with_session, _purge)


def current_interval(settings: Settings) -> timedelta:
    from socstat.services.collection import collect_interval

    return _with_session(collect_interval)


def build_scheduler(settings: Settings | None = None) -> AsyncIOScheduler:
    """The scheduler with every job (not started; start it only while leader)."""
    settings = settings or get_settings()
    scheduler = AsyncIOScheduler(
        timezone=settings.tz,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
    interval = current_interval(settings)

    async def _collection() -> None:
        await run_job(COLLECTION_JOB, collection_job)
        wanted = await asyncio.to_thread(current_interval, settings)
        _follow_interval(scheduler, settings, wanted)

    scheduler.add_job(
        _collection,
        IntervalTrigger(seconds=interval.total_seconds(), timezone=settings.tz),
        id=COLLECTION_JOB,
        name="Сбор статистики",
        next_run_time=utcnow() + timedelta(seconds=5),
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
    )
    scheduler.add_job(
        outbox_job,
        IntervalTrigger(seconds=settings.outbox_interval_seconds, timezone=settings.tz),
        id=OUTBOX_JOB,
        name="Доставка писем",
        next_run_time=utcnow() + timedelta(seconds=10),
        replace_existing=True,
    )
    scheduler.add_job(
        reports_job,
        IntervalTrigger(seconds=REPORTS_INTERVAL_SECONDS, timezone=settings.tz),
        id=REPORTS_JOB,
        name="Отчёты по расписанию",
        next_run_time=utcnow() + timedelta(seconds=30),
        replace_existing=True,
    )
    scheduler.add_job(
        run_job,
        CronTrigger(hour=3, minute=30, timezone=settings.tz),
        args=[RETENTION_JOB, retention_job],
        id=RETENTION_JOB,
        name="Очистка устаревших записей",
        replace_existing=True,
    )
    return scheduler


def _follow_interval(scheduler: AsyncIOScheduler, settings: Settings, wanted: timedelta) -> None:
    """Pick up an admin's change of the collection interval after each run."""
    job = scheduler.get_job(COLLECTION_JOB)
    if job is None:
        return
    if getattr(job.trigger, "interval", None) != wanted:
        job.reschedule(IntervalTrigger(seconds=wanted.total_seconds(), timezone=settings.tz))
        log.info("collection interval is now %s", wanted)


# --- running in a process --------------------------------------------------------------


class SchedulerService:
    """Try to become leader; while leader, run the scheduler. Stop releases everything."""

    def __init__(
        self, settings: Settings | None = None, retry_seconds: float = LEADER_RETRY_SECONDS
    ) -> None:
        self.settings = settings or get_settings()
        self.lock = ProcessLock(settings=self.settings, key=LEADER_LOCK_KEY, name="scheduler")
        self.scheduler: AsyncIOScheduler | None = None
        self._retry_seconds = retry_seconds
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        return self.lock.held

    async def start(self) -> None:
        self._task = asyncio.create_task(self._lead(), name="socstat-scheduler-leader")

    async def _lead(self) -> None:
        while True:
            try:
                got = await asyncio.to_thread(self.lock.acquire)
            except Exception:
                log.exception("leader lock attempt failed")
                got = False
            if got:
                await asyncio.to_thread(_with_session, mark_interrupted_jobs)
                self.scheduler = await asyncio.to_thread(build_scheduler, self.settings)
                self.scheduler.start()
                log.info("scheduler started (this process holds the leader lock)")
                return
            await asyncio.sleep(self._retry_seconds)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
        await asyncio.to_thread(self.lock.release)


@asynccontextmanager
async def scheduler_lifespan(app: Any = None) -> AsyncIterator[SchedulerService]:
    """For `app.register_lifespan_task(scheduler_lifespan)` in the Reflex app."""
    service = SchedulerService()
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def run_worker(stop: asyncio.Event | None = None) -> None:
    """`socstat worker`: the scheduler without the web UI until SIGTERM/SIGINT."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with scheduler_lifespan() as service:
        log.info("worker running (leader: %s)", service.is_leader)
        await stop.wait()
    log.info("worker stopped")
