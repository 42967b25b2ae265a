"""SourceDayStat: every content kind of a source's day in one row, kept by collection's
rebuild right after DailyStat (``rebuild_source_days``) and read where a day's members
divide its reactions (ERday, ERpost): one row per source-day joins that day's snapshot,
instead of grouping the day's DailyStat rows first.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from socstat.models import ContentKind
from socstat.models.stats import SourceDayStat
from socstat.services.analytics.ids import ids_in
from socstat.services.analytics.query import STAT, reactions, reactions_unknown
from socstat.services.analytics.scope import ResolvedScope

SDAY: Any = SourceDayStat.__table__  # type: ignore[attr-defined]
_CHUNK = 500
FIELDS = ("count", "reactions", "unknown")


def rebuild_source_days(session: Session, *, source_id: int, dates: list[date]) -> None:
    """Rebuild the source's SourceDayStat rows of ``dates`` from its DailyStat rows."""
    remove, rebuild = _rebuild_statements()
    for start in range(0, len(dates), _CHUNK):
        params = {"source_id": source_id, "dates": dates[start : start + _CHUNK]}
        session.execute(remove, params)
        session.execute(rebuild, params)


@functools.cache
def _rebuild_statements() -> tuple[Any, Any]:
    """The DELETE and the INSERT .. SELECT of one source's days (parameters: source_id,
    dates), built once: collection runs them after every stored source."""
    columns = ["source_id", "local_date"]
    pivots = []
    for kind in ContentKind.ALL:
        mine = STAT.c.kind == kind
        columns += [f"{kind}_{name}" for name in FIELDS]
        pivots += [
            func.sum(case((mine, STAT.c.count), else_=0)),
            func.sum(case((mine, reactions(STAT)), else_=0)),
            func.sum(case((mine, reactions_unknown(STAT)), else_=0)),
        ]
    source_id, dates = bindparam("source_id"), bindparam("dates", expanding=True)
    remove = delete(SDAY).where(SDAY.c.source_id == source_id, SDAY.c.local_date.in_(dates))
    grouped = (
        select(STAT.c.source_id, STAT.c.local_date, *pivots)
        .where(STAT.c.source_id == source_id, STAT.c.local_date.in_(dates))
        .group_by(STAT.c.source_id, STAT.c.local_date)
    )
    return remove, insert(SDAY).from_select(columns, grouped)


def kind_column(resolved: ResolvedScope, kind: str, name: str) -> ColumnElement[Any]:
    """A kind's column, 0 for the sources that do not count the kind."""
    by_kind = resolved.ids_by_kind()
    column = SDAY.c[f"{kind}_{name}"]
    if len({tuple(ids) for ids in by_kind.values()}) == 1:
        return column  # every source counts the same kinds
    return case((ids_in(SDAY.c.source_id, by_kind[kind]), column), else_=0)


def scope_sum(resolved: ResolvedScope, name: str) -> ColumnElement[Any]:
    """The day's ``name`` over the kinds each source counts (NULL without a row)."""
    parts = [kind_column(resolved, kind, name) for kind in resolved.ids_by_kind()]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
