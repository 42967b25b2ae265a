"""System health and the figures exported as metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, select

from socstat.models import CollectionRun, Outbox, OutboxStatus, Source, User


@dataclass
class HealthReport:
    ok: bool
    database: str
    error: str = ""


@dataclass
class SystemFigures:
    sources_by_status: dict[str, int] = field(default_factory=dict)
    users: int = 0
    outbox_pending: int = 0
    last_run_finished_at: datetime | None = None
    runs_by_status: dict[str, int] = field(default_factory=dict)


def check_health(session: Session) -> HealthReport:
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as exc:
        return HealthReport(ok=False, database="error", error=type(exc).__name__)
    return HealthReport(ok=True, database="ok")


def system_figures(session: Session) -> SystemFigures:
    by_status = session.exec(select(Source.status, func.count()).group_by(Source.status)).all()
    runs = session.exec(
        select(CollectionRun.status, func.count()).group_by(CollectionRun.status)
    ).all()
    return SystemFigures(
        sources_by_status={status: count for status, count in by_status},
        users=session.exec(select(func.count()).select_from(User)).one(),
        outbox_pending=session.exec(
            select(func.count()).where(Outbox.status == OutboxStatus.PENDING)
        ).one(),
        last_run_finished_at=session.exec(select(func.max(CollectionRun.finished_at))).one(),
        runs_by_status={status: count for status, count in runs},
    )
