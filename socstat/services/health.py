"""System health and the figures exported as metrics (read from the database at scrape time,
so every web replica and worker reports the same numbers and no process keeps counters)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, text
from sqlmodel import Session, select

from socstat.models import (
    ApiToken,
    AuditEvent,
    CollectionRun,
    JobRun,
    LoginAttempt,
    Outbox,
    OutboxStatus,
    Report,
    RunStatus,
    Source,
    Subscription,
    User,
    utcnow,
)

if TYPE_CHECKING:
    from socstat.services.collection.usage import TokenQuota

LOGIN_WINDOW = timedelta(hours=1)
UNDELIVERED = (OutboxStatus.PENDING, OutboxStatus.SENDING)


@dataclass
class HealthReport:
    ok: bool
    database: str
    error: str = ""


@dataclass(frozen=True)
class LastRun:
    """The newest finished collection run."""

    finished_at: datetime
    duration_seconds: float
    status: str
    sources_ok: int
    sources_partial: int
    sources_failed: int


@dataclass(frozen=True)
class JobFigures:
    last_started_at: datetime | None
    last_success_at: datetime | None
    last_duration_seconds: float | None
    runs_by_status: dict[str, int]


@dataclass(frozen=True)
class OutboxChannel:
    by_status: dict[str, int]
    oldest_pending_age_seconds: float | None
    failing: int  # pending messages that failed at least once


@dataclass(frozen=True)
class ReportFigures:
    by_status: dict[str, int]
    generation_seconds_sum: float
    generated: int


@dataclass
class SystemFigures:
    sources_by_status: dict[str, int] = field(default_factory=dict)
    users: int = 0
    outbox_pending: int = 0
    last_run_finished_at: datetime | None = None
    runs_by_status: dict[str, int] = field(default_factory=dict)
    last_run: LastRun | None = None
    vk_requests: int = 0
    vk_calls: int = 0
    vk_errors_by_code: dict[str, int] = field(default_factory=dict)
    sources_due: int = 0
    due_lag_seconds: float = 0.0
    outbox: dict[str, OutboxChannel] = field(default_factory=dict)
    reports: ReportFigures | None = None
    login_failures_last_hour: int = 0
    lockouts: int = 0
    jobs: dict[str, JobFigures] = field(default_factory=dict)
    stored_tokens: dict[str, bool] = field(default_factory=dict)  # hint → valid
    vk_method_usage: dict[tuple[str, str], int] = field(default_factory=dict)  # (method, code)
    vk_quotas: list[TokenQuota] = field(default_factory=list)  # tokens used today


def check_health(session: Session) -> HealthReport:
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as exc:
        return HealthReport(ok=False, database="error", error=type(exc).__name__)
    return HealthReport(ok=True, database="ok")


def system_figures(
    session: Session, *, now: datetime | None = None, interval: timedelta | None = None
) -> SystemFigures:
    """Everything /metrics exports; `interval` is the collection interval (default: the
    admin setting)."""
    from socstat.services.collection import collect_interval
    from socstat.services.collection.usage import method_totals, token_quotas

    now = now or utcnow()
    interval = interval if interval is not None else collect_interval(session)
    by_status = session.exec(select(Source.status, func.count()).group_by(Source.status)).all()
    runs = session.exec(
        select(CollectionRun.status, func.count()).group_by(CollectionRun.status)
    ).all()
    outbox = _outbox(session, now=now)
    requests, calls, errors = _vk_usage(session)
    due, lag = _due(session, now=now, interval=interval)
    return SystemFigures(
        sources_by_status={status: count for status, count in by_status},
        users=session.exec(select(func.count()).select_from(User)).one(),
        outbox_pending=sum(
            c.by_status.get(status, 0) for c in outbox.values() for status in UNDELIVERED
        ),
        last_run_finished_at=session.exec(select(func.max(CollectionRun.finished_at))).one(),
        runs_by_status={status: count for status, count in runs},
        last_run=_last_run(session),
        vk_requests=requests,
        vk_calls=calls,
        vk_errors_by_code=errors,
        sources_due=due,
        due_lag_seconds=lag,
        outbox=outbox,
        reports=_reports(session),
        login_failures_last_hour=session.exec(
            select(func.count()).where(
                LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= now - LOGIN_WINDOW
            )
        ).one(),
        lockouts=session.exec(
            select(func.count()).where(AuditEvent.action == "auth.lockout")
        ).one(),
        jobs=_jobs(session),
        stored_tokens={
            hint or f"#{token_id}": invalid_at is None
            for token_id, hint, invalid_at in session.exec(
                select(ApiToken.id, ApiToken.token_hint, ApiToken.invalid_at)
            ).all()
        },
        vk_method_usage=method_totals(session),
        vk_quotas=token_quotas(session),
    )


def _last_run(session: Session) -> LastRun | None:
    run = session.exec(
        select(CollectionRun)
        .where(CollectionRun.finished_at.is_not(None))
        .order_by(CollectionRun.finished_at.desc(), CollectionRun.id.desc())  # type: ignore[union-attr]
        .limit(1)
    ).first()
    if run is None or run.finished_at is None:
        return None
    return LastRun(
        finished_at=run.finished_at,
        duration_seconds=max(0.0, (run.finished_at - run.started_at).total_seconds()),
        status=run.status,
        sources_ok=run.sources_ok,
        sources_partial=run.sources_partial,
        sources_failed=run.sources_failed,
    )


def _vk_usage(session: Session) -> tuple[int, int, dict[str, int]]:
    """API requests, calls and errors by VK code over the whole run journal."""
    requests, calls = session.exec(
        select(
            func.coalesce(func.sum(CollectionRun.requests), 0),
            func.coalesce(func.sum(CollectionRun.calls), 0),
        )
    ).one()
    errors: Counter[str] = Counter()
    for by_code in session.exec(select(CollectionRun.errors_by_code)).all():
        for code, count in (by_code or {}).items():
            errors[str(code)] += int(count)
    return int(requests), int(calls), dict(errors)


def _due(session: Session, *, now: datetime, interval: timedelta) -> tuple[int, float]:
    """How many tracked sources are due, and how long the most overdue one has waited
    (a never-collected source is due since it was added)."""
    tracked = select(Subscription.source_id).where(Subscription.source_id == Source.id).exists()
    never = session.exec(
        select(func.count(), func.min(Source.created_at)).where(
            tracked, Source.last_collected_at.is_(None)
        )
    ).one()
    stale = session.exec(
        select(func.count(), func.min(Source.last_collected_at)).where(
            tracked, Source.last_collected_at <= now - interval
        )
    ).one()
    since = [moment for moment in (never[1], stale[1] + interval if stale[1] else None) if moment]
    lag = max((now - moment).total_seconds() for moment in since) if since else 0.0
    return never[0] + stale[0], max(0.0, lag)


def _outbox(session: Session, *, now: datetime) -> dict[str, OutboxChannel]:
    counts = session.exec(
        select(Outbox.channel, Outbox.status, func.count()).group_by(Outbox.channel, Outbox.status)
    ).all()
    pending = session.exec(
        select(Outbox.channel, func.min(Outbox.created_at), func.count())
        .where(Outbox.status.in_(UNDELIVERED))  # type: ignore[attr-defined]
        .group_by(Outbox.channel)
    ).all()
    failing = dict(
        session.exec(
            select(Outbox.channel, func.count())
            .where(Outbox.status.in_(UNDELIVERED), Outbox.attempts > 0)  # type: ignore[attr-defined]
            .group_by(Outbox.channel)
        ).all()
    )
    by_channel: dict[str, dict[str, int]] = {}
    for channel, status, count in counts:
        by_channel.setdefault(channel, {})[status] = count
    oldest = {channel: created for channel, created, _ in pending}
    return {
        channel: OutboxChannel(
            by_status=statuses,
            oldest_pending_age_seconds=(
                max(0.0, (now - oldest[channel]).total_seconds()) if channel in oldest else None
            ),
            failing=failing.get(channel, 0),
        )
        for channel, statuses in sorted(by_channel.items())
    }


def _reports(session: Session) -> ReportFigures:
    by_status = dict(
        session.exec(select(Report.status, func.count()).group_by(Report.status)).all()
    )
    finished = session.exec(
        select(Report.started_at, Report.generated_at).where(
            Report.generated_at.is_not(None),  # type: ignore[union-attr]
            Report.started_at.is_not(None),  # type: ignore[union-attr]
            Report.status != RunStatus.FAILED,
        )
    ).all()
    durations = [max(0.0, (end - start).total_seconds()) for start, end in finished]
    return ReportFigures(
        by_status=by_status, generation_seconds_sum=sum(durations), generated=len(durations)
    )


def _jobs(session: Session) -> dict[str, JobFigures]:
    names = session.exec(select(JobRun.job).distinct()).all()
    figures = {}
    for name in sorted(names):
        statuses = dict(
            session.exec(
                select(JobRun.status, func.count())
                .where(JobRun.job == name)
                .group_by(JobRun.status)
            ).all()
        )
        last = session.exec(
            select(JobRun).where(JobRun.job == name).order_by(JobRun.started_at.desc()).limit(1)  # type: ignore[attr-defined]
        ).first()
        success = session.exec(
            select(func.max(JobRun.finished_at)).where(
                JobRun.job == name, JobRun.status == RunStatus.OK
            )
        ).one()
        duration = None
        if last is not None and last.finished_at is not None:
            duration = max(0.0, (last.finished_at - last.started_at).total_seconds())
        figures[name] = JobFigures(
            last_started_at=last.started_at if last else None,
            last_success_at=success,
            last_duration_seconds=duration,
            runs_by_status=statuses,
        )
    return figures
