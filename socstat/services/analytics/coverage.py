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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

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

    def days_in(self, period: Period) -> int:
        if self.first is None or self.last is None:
            return 0
        first, last = max(self.first, period.start), min(self.last, period.end)
        return max(0, (last - first).days + 1)


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


def covered_per_day(covs: Iterable[Coverage], period: Period) -> list[int]:
    """How many of the sources cover each day of the period (a difference array)."""
    marks = [0] * (period.days + 1)
    for cov in covs:
        if cov.first is None or cov.last is None:
            continue
        first, last = max(cov.first, period.start), min(cov.last, period.end)
        if first > last:
            continue
        marks[(first - period.start).days] += 1
        marks[(last - period.start).days + 1] -= 1
    counts, running = [], 0
    for mark in marks[:-1]:
        running += mark
        counts.append(running)
    return counts


def first_collected_day(covs: Iterable[Coverage]) -> date | None:
    firsts = [c.first for c in covs if c.first is not None]
    return min(firsts, default=None)
