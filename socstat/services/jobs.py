"""The job journal (JobRun rows: running → ok | failed | interrupted) of the leader's
scheduled jobs, and the job bodies that are not another package's. Collection is not a
job: every worker collects (services/collection/worker.py, journaled as CollectionRuns)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from socstat.db import run_in_session
from socstat.logging_setup import log_context, redact
from socstat.models import JobRun, RunStatus, utcnow

log = logging.getLogger(__name__)

JobWork = Callable[[], Awaitable[dict[str, Any] | None]]


async def run_job(name: str, work: JobWork) -> JobRun:
    """Run one job with a JobRun journal row (running → ok | failed)."""

    def _start(session: Session) -> int:
        row = JobRun(job=name[:64])
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id

    job_id = await run_in_session(_start)
    status, details, error = RunStatus.OK, {}, ""
    with log_context(job=name, job_run_id=job_id):
        try:
            details = await work() or {}
        except Exception as exc:
            log.exception("job %s failed", name)
            status, error = RunStatus.FAILED, redact(f"{type(exc).__name__}: {exc}")[:2000]

    def _finish(session: Session) -> JobRun:
        row = session.get(JobRun, job_id)
        assert row is not None
        row.status = details.get("status", status) if status == RunStatus.OK else status
        row.finished_at = utcnow()
        row.details = _jsonable(details)
        row.error = error or str(details.get("error", ""))[:2000]
        session.add(row)
        return row

    return await run_in_session(_finish)


def mark_interrupted_jobs(session: Session) -> None:
    """Jobs left "running" by a leader that died (called when a process becomes leader)."""
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
    return await run_in_session(_purge)


async def backup_job() -> dict[str, Any]:
    """The daily backup and pruning; a failure fails the job and becomes a system alert
    (once per day, however many attempts fail)."""
    from socstat.services.alerts.system import backup_failed
    from socstat.services.backup import run_scheduled_backup

    try:
        result = await asyncio.to_thread(run_scheduled_backup)
    except Exception as exc:
        reason = redact(f"{type(exc).__name__}: {exc}")[:1000]
        log.error("scheduled backup failed: %s", reason)
        await run_in_session(lambda s: backup_failed(s, reason=reason, now=utcnow()))
        raise
    return {
        "status": RunStatus.OK,
        "path": str(result.path),
        "size_bytes": result.manifest.size_bytes,
        "pruned": len(result.pruned),
    }
