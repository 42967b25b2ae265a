"""Rows per source × installation day × content kind (report day sheets, exports).

Each row follows the one rule of ``coverage``: a DailyStat row's figures as stored (a sum
is None when the platform gave no figure), a known zero on a covered day without
publications of that kind, and unknown (every figure None) outside the collected history
or on an unreadable wall.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from socstat.models import ContentKind
from socstat.services.analytics.periods import Period
from socstat.services.analytics.query import STAT, in_period, in_scope
from socstat.services.analytics.scope import ResolvedScope


@dataclass(frozen=True)
class SourceDay:
    source_id: int
    day: date
    kind: str
    count: int | None  # None: unknown (the day is not covered)
    likes: int | None
    reposts: int | None
    comments: int | None
    views: int | None
    views_unknown: int  # publications of the row whose views the platform did not give


def source_days(session: Session, resolved: ResolvedScope, period: Period) -> list[SourceDay]:
    """Every day of the period for every source of the scope and each kind counted for it,
    in the scope's source order, then by day and kind."""
    covs = resolved.coverages(session)
    stored = _stored(session, resolved, period)
    rows = []
    for source in resolved.sources:
        cov = covs.get(source.id)
        kinds = [k for k in ContentKind.ALL if k in source.kinds]
        for day in period.dates():
            covered = cov is not None and cov.covers(day)
            for kind in kinds:
                found = stored.get((source.id, day, kind))
                rows.append(_row(source.id, day, kind, found, covered))
    return rows


def _stored(
    session: Session, resolved: ResolvedScope, period: Period
) -> dict[tuple[int, date, str], Any]:
    query = select(
        STAT.c.source_id,
        STAT.c.local_date,
        STAT.c.kind,
        STAT.c.count,
        STAT.c.likes,
        STAT.c.reposts,
        STAT.c.comments,
        STAT.c.views,
        STAT.c.views_unknown,
    ).where(in_scope(STAT, resolved), in_period(STAT, period))
    return {(r.source_id, r.local_date, r.kind): r for r in session.execute(query).all()}


def _row(source_id: int, day: date, kind: str, found: Any, covered: bool) -> SourceDay:
    if found is not None:
        return SourceDay(
            source_id,
            day,
            kind,
            found.count,
            found.likes,
            found.reposts,
            found.comments,
            found.views,
            found.views_unknown,
        )
    zero = 0 if covered else None
    return SourceDay(source_id, day, kind, zero, zero, zero, zero, zero, 0)
