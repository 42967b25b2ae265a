"""SQL building blocks over DailyStat and CounterSnapshot shared by the analytics modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, and_, bindparam, cast, false, func, literal, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from socstat.models import CounterSnapshot, DailyStat
from socstat.services.analytics.ids import ids_in
from socstat.services.analytics.periods import Period
from socstat.services.analytics.scope import ResolvedScope

STAT: Any = DailyStat.__table__  # type: ignore[attr-defined]
SNAPSHOT: Any = CounterSnapshot.__table__  # type: ignore[attr-defined]

FIGURES = ("likes", "reposts", "comments", "views")


def same_day(left: Any, right: Any) -> ColumnElement[bool]:
    """Rows of the same source and installation day (to join stats with snapshots)."""
    return and_(left.c.source_id == right.c.source_id, left.c.local_date == right.c.local_date)


def in_scope(table: Any, scope: ResolvedScope) -> ColumnElement[bool]:
    """Rows of the scope's sources, each for the kinds counted for it."""
    return in_sources(table, scope.ids_by_kind())


def in_sources(table: Any, by_kind: Mapping[str, Sequence[int]]) -> ColumnElement[bool]:
    """Rows of each kind's sources (``ResolvedScope.ids_by_kind``)."""
    lists = {tuple(ids) for ids in by_kind.values()}
    if len(lists) == 1:  # every source counts the same kinds: one plain condition per column
        (ids,) = lists
        return and_(table.c.kind.in_(list(by_kind)), ids_in(table.c.source_id, ids))
    parts = [
        and_(table.c.kind == kind, ids_in(table.c.source_id, ids)) for kind, ids in by_kind.items()
    ]
    return or_(*parts) if parts else false()


def in_period(table: Any, period: Period) -> ColumnElement[bool]:
    """The period's days; the dates are written into the statement so that it is planned
    for them (see ``ids.IdsIn``)."""
    return in_days(table, period.start, period.end)


def in_days(table: Any, first: date, last: date) -> ColumnElement[bool]:
    """The days ``first``..``last`` (any number of them), written into the statement."""
    start = bindparam(None, first, type_=Date, literal_execute=True)
    end = bindparam(None, last, type_=Date, literal_execute=True)
    return and_(table.c.local_date >= start, table.c.local_date <= end)


def day_index(session: Session, column: Any, first: date) -> Any:
    """Days from ``first`` to ``column`` (a date), as an SQL integer."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column - literal(first), Integer)
    start = literal(first.isoformat())
    return cast(func.julianday(column) - func.julianday(start), Integer)
