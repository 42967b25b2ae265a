"""APScheduler wiring: jobs run only in the process holding the leader lock; collection and
report generation run in every process that competes for it.

The leader lock is a PostgreSQL session advisory lock held on a dedicated connection for
the process lifetime (SQLite: an exclusive `fcntl` lock on a file under data_dir). Web
workers and `socstat worker` processes all try it; one wins, the others retry now and then
and take over when the leader dies (the lock dies with its connection / process). The
leader's jobs are the ones that must run once (backups, retention, scheduled reports,
alert windows, outbox, Telegram polling). Collection is not one of them: every such
process runs a CollectionWorker (services/collection/worker.py) that leases a VK token and
claims due sources in batches, so collection scales with workers and tokens; waiting
reports are claimed one by one (`generate_reports`), so workers split them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session

from socstat.db import run_in_session
from socstat.models import RunStatus, utcnow
from socstat.services.collection import mark_interrupted_runs
from socstat.services.collection.worker import CollectionWorker
from socstat.services.jobs import backup_job, mark_interrupted_jobs, retention_job, run_job
from socstat.services.locks import LEADER_LOCK_KEY, ProcessLock
from socstat.settings import Settings, get_settings

log = logging.getLogger(__name__)

LEADER_RETRY_SECONDS = 15.0  # default of SOCSTAT_LEADER_RETRY_SECONDS
LEADER_CHECK_SECONDS = 5.0  # how often the leader verifies it still holds its lock
OUTBOX_JOB = "outbox"
RETENTION_JOB = "retention"
BACKUP_JOB = "backup"
REPORTS_JOB = "reports"
REPORTS_INTERVAL_SECONDS = 300
REPORTS_POLL_SECONDS = 30.0  # every collecting process looks for waiting reports
ALERTS_JOB = "alerts"
ALERTS_INTERVAL_MINUTES = 5
TELEGRAM_JOB = "telegram"
TELEGRAM_POLL_SECONDS = 30
MISFIRE_GRACE_SECONDS = 3600


# --- jobs ------------------------------------------------------------------------------


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


async def generate_reports(stop: asyncio.Event) -> None:
    """Every collecting process also generates waiting reports, leader or not: each report
    is claimed with `FOR UPDATE SKIP LOCKED` and a lease (services/reports/generation.py),
    so processes split them and none is made twice. The leader's reports job creates the
    scheduled ones."""
    from socstat.services.reports.generation import process_pending

    while not stop.is_set():
        try:
            done = await asyncio.to_thread(process_pending)
        except Exception:
            log.exception("report generation failed")
            done = []
        if done:
            log.info("reports: generated %d in this process", len(done))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REPORTS_POLL_SECONDS):
                await stop.wait()


def _evaluate_alerts(session: Session) -> dict[str, Any]:
    from socstat.services.alerts import evaluate_due
    from socstat.services.alerts.system import check_system

    now = utcnow()
    result = evaluate_due(session, now=now)
    return {
        "status": RunStatus.OK,
        "system": check_system(session, now=now),
        "fired": len(result.fired),
        "resolved": len(result.resolved),
        "skipped": len(result.skipped),
        "digests": result.digests,
    }


async def alerts_job() -> dict[str, Any]:
    """Evaluate alert rules for windows that closed, send digests held by quiet hours,
    raise system alerts (evaluation after each collection is a post-run hook)."""
    return await run_in_session(_evaluate_alerts)


def _poll_telegram(session: Session) -> int:
    from socstat.services.alerts.contacts import poll_telegram_updates

    return poll_telegram_updates(session)


async def telegram_job() -> None:
    """Receive ``/start <code>`` messages that link users' Telegram chats (not journaled)."""
    from socstat.services.delivery.telegram import TelegramError

    try:
        linked = await run_in_session(_poll_telegram)
    except TelegramError as exc:
        log.warning("telegram getUpdates failed: %s", exc)
        return
    if linked:
        log.info("telegram: %d chat(s) linked", linked)


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
        IntervalTrigger(minutes=ALERTS_INTERVAL_MINUTES, timezone=settings.tz),
        args=[ALERTS_JOB, alerts_job],
        id=ALERTS_JOB,
        name="Проверка правил оповещений",
        next_run_time=utcnow() + timedelta(seconds=5),  # windows closed while nobody led
        replace_existing=True,
    )
    scheduler.add_job(
        telegram_job,
        IntervalTrigger(seconds=TELEGRAM_POLL_SECONDS, timezone=settings.tz),
        id=TELEGRAM_JOB,
        name="Привязка чатов Telegram",
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
    hour, minute = (int(part) for part in settings.backup_time.split(":"))
    scheduler.add_job(
        run_job,
        CronTrigger(hour=hour, minute=minute, timezone=settings.tz),
        args=[BACKUP_JOB, backup_job],
        id=BACKUP_JOB,
        name="Резервная копия базы",
        replace_existing=True,
    )
    return scheduler


# --- running in a process --------------------------------------------------------------


class SchedulerService:
    """Try to become leader; while leader, run the scheduler. Stop releases everything.

    The leader checks its lock every `check_seconds` and stops its scheduler as soon as the
    lock is gone (e.g. its database connection was cut), then competes again. A process
    that just won the lock waits a bit more than `check_seconds` before starting, so a
    leader that lost the lock without knowing has stopped by then.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        retry_seconds: float = LEADER_RETRY_SECONDS,
        check_seconds: float = LEADER_CHECK_SECONDS,
        build: Callable[[Settings], AsyncIOScheduler] | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.lock = ProcessLock(settings=self.settings, key=LEADER_LOCK_KEY, name="scheduler")
        self.scheduler: AsyncIOScheduler | None = None
        self._retry_seconds = retry_seconds
        self._check_seconds = check_seconds
        self._build = build
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._lead(), name="socstat-scheduler-leader")

    async def _lead(self) -> None:
        while True:
            if await self._acquire():
                await asyncio.sleep(self._check_seconds * 1.5)
                if await self._still_held():
                    await self._start_scheduler()
                    await self._watch_lock()
                self._stop_scheduler()
                await asyncio.to_thread(self.lock.release)
            await asyncio.sleep(self._retry_seconds)

    async def _watch_lock(self) -> None:
        """Return as soon as a check finds the leader lock gone."""
        while True:
            await asyncio.sleep(self._check_seconds)
            if not await self._still_held():
                log.warning("leader lock lost: stopping the scheduler")
                return

    async def _acquire(self) -> bool:
        try:
            return await asyncio.to_thread(self.lock.acquire)
        except Exception:
            log.exception("leader lock attempt failed")
            return False

    async def _still_held(self) -> bool:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
        # that arrives as the check finishes, and stop() then waits for this task forever
        try:
            async with asyncio.timeout(self._check_seconds):
                return await asyncio.to_thread(self.lock.check)
        except TimeoutError:
            return False

    async def _start_scheduler(self) -> None:
        await run_in_session(mark_interrupted_jobs)
        await run_in_session(mark_interrupted_runs)
        build = self._build or build_scheduler
        scheduler = await asyncio.to_thread(build, self.settings)
        scheduler.start()
        self.scheduler = scheduler
        log.info("scheduler started (this process holds the leader lock)")

    def _stop_scheduler(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._stop_scheduler()
        await asyncio.to_thread(self.lock.release)


_services: list[SchedulerService] = []  # the scheduler services running in this process


def process_is_leader() -> bool:
    """Whether this process runs the scheduler now (the per-process leader gauge)."""
    return any(service.is_leader for service in _services)


def process_runs_scheduler() -> bool:
    """Whether this process competes for leadership at all (False with SOCSTAT_SCHEDULER=off)."""
    return bool(_services)


def leading_scheduler() -> AsyncIOScheduler | None:
    """The running scheduler of this process, if it is the leader."""
    return next((s.scheduler for s in _services if s.scheduler is not None), None)


@asynccontextmanager
async def scheduler_lifespan(
    app: Any = None, *, force: bool = False
) -> AsyncIterator[SchedulerService | None]:
    """For `app.register_lifespan_task(scheduler_lifespan)` in the Reflex app. Every web
    process and worker collects (its collection worker, a user's refresh), so each installs
    the alerts' post-run hook. A process that competes for leadership also collects and
    generates waiting reports, leader or not. With SOCSTAT_SCHEDULER=off (web replicas) it
    yields None and does neither; `force` (the worker) always does."""
    from socstat.services.alerts.hooks import install

    install()
    if not (force or get_settings().scheduler):
        log.info("scheduler off in this process (SOCSTAT_SCHEDULER=off)")
        yield None
        return
    service = SchedulerService(retry_seconds=get_settings().leader_retry_seconds)
    await service.start()
    _services.append(service)
    stop = asyncio.Event()
    background = [
        asyncio.create_task(CollectionWorker().run(stop), name="socstat-collection-worker"),
        asyncio.create_task(generate_reports(stop), name="socstat-report-generation"),
    ]
    try:
        yield service
    finally:
        stop.set()
        for task in background:  # a collection batch in progress is marked interrupted
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        _services.remove(service)
        await service.stop()


async def run_worker(stop: asyncio.Event | None = None) -> None:
    """`socstat worker`: collection, and the scheduler while leader, without the web UI
    until SIGTERM/SIGINT."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    metrics = _start_metrics_server(get_settings())
    try:
        async with scheduler_lifespan(force=True) as service:
            assert service is not None
            log.info("worker running (leader: %s)", service.is_leader)
            await stop.wait()
    finally:
        if metrics is not None:
            metrics.should_exit = True
    log.info("worker stopped")


def _start_metrics_server(settings: Settings) -> Any:
    """With SOCSTAT_WORKER_METRICS_PORT: /metrics and /healthz of this worker (the same
    routes, token rule included, as the web app) in a thread of their own."""
    if not settings.worker_metrics_port:
        return None
    import threading

    import uvicorn

    from socstat.api.routes import build_api

    config = uvicorn.Config(
        build_api(),
        host=settings.worker_metrics_host,
        port=settings.worker_metrics_port,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, name="socstat-worker-metrics", daemon=True).start()
    log.info(
        "worker metrics on http://%s:%d/metrics",
        settings.worker_metrics_host,
        settings.worker_metrics_port,
    )
    return server


def upcoming_jobs(
    last_started: dict[str, datetime], *, now: datetime | None = None
) -> list[tuple[str, str, datetime | None]]:
    """(job id, title, next run) for every scheduled job, as the leader would run them: an
    interval job runs its interval after its last start (at once when never started)."""
    now = now or utcnow()
    scheduler = build_scheduler()
    upcoming = []
    for job in scheduler.get_jobs():
        interval = getattr(job.trigger, "interval", None)
        if interval is not None:
            last = last_started.get(job.id)
            upcoming.append((job.id, job.name, max(now, last + interval) if last else now))
        else:
            upcoming.append((job.id, job.name, job.trigger.get_next_fire_time(None, now)))
    return upcoming
