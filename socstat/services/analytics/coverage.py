"""The one rule for known zero vs unknown.

A source's figure for an installation day is
- what DailyStat holds when it has a row (a sum is NULL when the platform gave no figure);
- a known zero when the day lies within the source's collected history — from
  ``Source.history_start`` to the day of its last successful collection — and its wall is
  readable (nothing was published that day);
- unknown otherwise: before the history, after the last collection, or a wall that is
  closed, private, deleted, banned or disabled (its days are not zeros we saw).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlmodel import Session, select

from socstat.models import Source, SourceStatus
from socstat.services.analytics.ids import ids_in
from socstat.services.analytics.periods import Period
from socstat.settings import get_settings

UNREADABLE = frozenset(
    {
        SourceStatus.CLOSED,
        SourceStatus.PRIVATE,
        SourceStatus.DELETED,
        SourceStatus.BANNED,
        SourceStatus.WALL_DISABLED,
    }
)


@dataclass(frozen=True)
class Coverage:
    """The installation days a source's publications were collected for (None: none)."""

    first: date | None
    last: date | None

    def covers(self, day: date) -> bool:
        return self.first is not None and self.last is not None and self.first <= day <= self.last


def coverage_of(source: Source) -> Coverage:
    return coverage_from(source.status, source.history_start, source.last_collected_at)


def coverage_from(status: str, history_start: date | None, last_collected_at: Any) -> Coverage:
    if status in UNREADABLE or history_start is None or last_collected_at is None:
        return Coverage(None, None)
    last = last_collected_at.astimezone(get_settings().tz).date()
    if last < history_start:
        return Coverage(None, None)
    return Coverage(history_start, last)


def coverages(session: Session, source_ids: Iterable[int]) -> dict[int, Coverage]:
    ids = sorted(set(source_ids))
    if not ids:
        return {}
    columns = (Source.id, Source.status, Source.history_start, Source.last_collected_at)
    rows = session.exec(select(*columns).where(ids_in(Source.id, ids))).all()
    return {source_id: coverage_from(*rest) for source_id, *rest in rows}


# an empty span: no day is >= its first or <= its last
_NO_FIRST, _NO_LAST = date.max.toordinal() + 1, 0


@dataclass(frozen=True)
class Spans:
    """Sources' coverages as day ordinals, one row per source, for figures over many
    sources at once."""

    first: np.ndarray
    last: np.ndarray

    @classmethod
    def of(cls, covs: Sequence[Coverage | None]) -> Spans:
        pairs = [
            (c.first.toordinal(), c.last.toordinal())
            if c is not None and c.first is not None and c.last is not None
            else (_NO_FIRST, _NO_LAST)
            for c in covs
        ]
        both = np.array(pairs, dtype=np.int64).reshape(len(pairs), 2)
        return cls(both[:, 0], both[:, 1])

    def days_in(self, period: Period) -> np.ndarray:
        """Each source's covered days within the period."""
        first = np.maximum(self.first, period.start.toordinal())
        last = np.minimum(self.last, period.end.toordinal())
        return np.maximum(0, last - first + 1)

    def per_day(self, period: Period, rows: np.ndarray | None = None) -> np.ndarray:
        """How many of the sources (those ``rows`` selects) cover each day of the period:
        those begun by the day less those ended before it."""
        first, last = (
            (self.first, self.last) if rows is None else (self.first[rows], self.last[rows])
        )
        spanning = first <= last
        days = np.arange(period.start.toordinal(), period.end.toordinal() + 1)
        begun = np.searchsorted(np.sort(first[spanning]), days, side="right")
        ended = np.searchsorted(np.sort(last[spanning]), days, side="left")
        return begun - ended


def first_collected_day(covs: Iterable[Coverage]) -> date | None:
    firsts = [c.first for c in covs if c.first is not None]
    return min(firsts, default=None)
