"""The admin «Система» page's facts: database, Redis, SMTP, VK tokens, the scheduler leader,
the job journal, the outbox and backups — and «Собрать сейчас» for every tracked source."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, text
from sqlmodel import Session, select

from socstat.db import run_in_session
from socstat.models import ApiToken, CollectionRun, JobRun, Outbox, OutboxStatus, User, utcnow
from socstat.services import system_settings
from socstat.services.authz import require_admin
from socstat.services.backup import default_backup_dir, latest_backup
from socstat.services.collection import RunSummary, Trigger
from socstat.services.collection.usage import TokenQuota, token_quotas
from socstat.services.health import check_health
from socstat.services.locks import LEADER_LOCK_KEY
from socstat.settings import get_settings

JOB_HISTORY = 20
FAILED_MESSAGES = 20


@dataclass(frozen=True)
class Check:
    """One dependency: state is "ok", "error" or "off" (not configured)."""

    state: str
    detail: str = ""


@dataclass(frozen=True)
class TokenStatus:
    label: str
    masked: str
    valid: bool
    reason: str


@dataclass(frozen=True)
class JobEntry:
    id: int
    job: str
    started_at: datetime
    duration_seconds: float | None
    status: str
    error: str


@dataclass(frozen=True)
class FailedMessage:
    id: int
    channel: str
    recipient: str
    subject: str
    attempts: int
    status: str
    last_error: str


@dataclass(frozen=True)
class BackupStatus:
    folder: str
    last_at: datetime | None
    last_path: str
    size_bytes: int | None
    count: int

    @property
    def restore_command(self) -> str:
        return f"socstat restore {self.last_path or '<файл>'}"


@dataclass(frozen=True)
class SystemStatus:
    database: Check
    redis: Check
    smtp: Check
    tokens: list[TokenStatus]
    quotas: list[TokenQuota]  # today's quota per token used today
    env_tokens: int
    last_run_errors: dict[str, int]
    leader: str  # who holds the leader lock, "" when nobody (or unknown on SQLite)
    jobs: list[JobEntry]
    last_success: dict[str, datetime]
    last_started: dict[str, datetime]
    outbox_pending: int
    outbox_failed: int
    failed_messages: list[FailedMessage]
    backup: BackupStatus
    checked_at: datetime = field(default_factory=utcnow)


def system_status(session: Session, *, actor: User | None) -> SystemStatus:
    require_admin(actor)
    health = check_health(session)
    return SystemStatus(
        database=Check("ok" if health.ok else "error", _dialect(session) or health.error),
        redis=_redis(),
        smtp=_smtp(session),
        tokens=_tokens(session),
        quotas=token_quotas(session),
        env_tokens=len([t for t in get_settings().vk_tokens.replace(";", ",").split(",") if t]),
        last_run_errors=_last_run_errors(session),
        leader=_leader(session),
        jobs=_jobs(session),
        last_success=_last_success(session),
        last_started=_last_started(session),
        outbox_pending=_count(session, OutboxStatus.PENDING)
        + _count(session, OutboxStatus.SENDING),
        outbox_failed=_count(session, OutboxStatus.FAILED),
        failed_messages=_failed_messages(session),
        backup=_backup(),
    )


def _dialect(session: Session) -> str:
    return "PostgreSQL" if session.get_bind().dialect.name == "postgresql" else "SQLite"


def _redis() -> Check:
    url = os.environ.get("REFLEX_REDIS_URL", "")
    if not url:
        return Check("off", "не используется (один процесс веб-интерфейса)")
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:  # any failure to reach it is what the admin needs to see
        return Check("error", type(exc).__name__)
    return Check("ok", "отвечает")


def _smtp(session: Session) -> Check:
    config = system_settings.smtp_config(session)
    failed = session.exec(
        select(Outbox.last_error)
        .where(Outbox.channel == "email", Outbox.last_error != "")
        .order_by(Outbox.next_attempt_at.desc())  # type: ignore[attr-defined]
        .limit(1)
    ).first()
    if config is None:
        return Check("off", "не настроен: письма пишутся в журнал")
    if failed:
        return Check("error", f"{config.host}:{config.port}; последняя ошибка: {failed[:300]}")
    return Check("ok", f"{config.host}:{config.port}")


def _tokens(session: Session) -> list[TokenStatus]:
    rows = session.exec(select(ApiToken).order_by(ApiToken.id)).all()
    return [
        TokenStatus(
            label=row.label,
            masked=row.token_hint or "***",
            valid=row.invalid_at is None,
            reason=row.invalid_reason,
        )
        for row in rows
    ]


def _last_run_errors(session: Session) -> dict[str, int]:
    run = session.exec(
        select(CollectionRun)
        .where(CollectionRun.finished_at.is_not(None))
        .order_by(CollectionRun.finished_at.desc())  # type: ignore[union-attr]
        .limit(1)
    ).first()
    return dict(run.errors_by_code) if run else {}


def _leader(session: Session) -> str:
    """The PostgreSQL backend holding the leader advisory lock (SQLite: unknown here)."""
    if session.get_bind().dialect.name != "postgresql":
        return ""
    # pg_stat_activity is a snapshot per transaction: take a fresh one
    session.exec(text("SELECT pg_stat_clear_snapshot()"))  # type: ignore[call-overload]
    row = session.exec(
        text(  # type: ignore[call-overload]
            "SELECT l.pid, a.client_addr, a.backend_start FROM pg_locks l "
            "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = :key LIMIT 1"
        ).bindparams(key=LEADER_LOCK_KEY)
    ).first()
    if row is None:
        return ""
    pid, addr, since = row
    where = str(addr) if addr else "локально"
    held = f", с {since.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if since else ""
    return f"процесс с соединением {pid} ({where}){held}"


def _jobs(session: Session) -> list[JobEntry]:
    rows = session.exec(
        select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(JOB_HISTORY)  # type: ignore[attr-defined]
    ).all()
    return [
        JobEntry(
            id=row.id or 0,
            job=row.job,
            started_at=row.started_at,
            duration_seconds=(
                (row.finished_at - row.started_at).total_seconds() if row.finished_at else None
            ),
            status=row.status,
            error=row.error,
        )
        for row in rows
    ]


def _last_success(session: Session) -> dict[str, datetime]:
    rows = session.exec(
        select(JobRun.job, func.max(JobRun.started_at))
        .where(JobRun.status == "ok")
        .group_by(JobRun.job)
    ).all()
    return dict(rows)


def _count(session: Session, status: str) -> int:
    return session.exec(select(func.count()).where(Outbox.status == status)).one()


def _failed_messages(session: Session) -> list[FailedMessage]:
    rows = session.exec(
        select(Outbox)
        .where(
            (Outbox.status == OutboxStatus.FAILED)
            | ((Outbox.status == OutboxStatus.PENDING) & (Outbox.attempts > 0))
        )
        .order_by(Outbox.id.desc())  # type: ignore[union-attr]
        .limit(FAILED_MESSAGES)
    ).all()
    return [
        FailedMessage(
            id=row.id or 0,
            channel=row.channel,
            recipient=row.recipient,
            subject=row.subject,
            attempts=row.attempts,
            status=row.status,
            last_error=row.last_error,
        )
        for row in rows
    ]


def _backup() -> BackupStatus:
    folder = default_backup_dir()
    latest = latest_backup(folder)
    count = len(list(folder.glob("socstat-*.tar"))) if folder.is_dir() else 0
    if latest is None:
        return BackupStatus(str(folder), None, "", None, count)
    moment, path = latest
    return BackupStatus(
        str(folder), moment.replace(tzinfo=UTC), str(path), path.stat().st_size, count
    )


def _last_started(session: Session) -> dict[str, datetime]:
    rows = session.exec(select(JobRun.job, func.max(JobRun.started_at)).group_by(JobRun.job))
    return dict(rows.all())


async def collect_everything_now(*, actor: User) -> RunSummary:
    """«Собрать сейчас»: every tracked source, now, as the admin (CollectionBusy when
    another run holds all of them)."""
    from socstat.services.collection import collect_sources, make_collector, tracked_source_ids

    require_admin(actor)
    source_ids = await run_in_session(tracked_source_ids)
    collector = await asyncio.to_thread(make_collector)
    try:
        return await collect_sources(
            source_ids=source_ids, collector=collector, trigger=Trigger.MANUAL, actor=actor
        )
    finally:
        await collector.aclose()
