"""Series over a period: every day present (or every week / month / quarter, derived from
the days), and members over time, summed from the sources' day tables (``store``). Known
zero vs unknown follows ``coverage`` — the one rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import func, select
from sqlmodel import Session

from socstat.models import ContentKind, User
from socstat.services.analytics.coverage import Coverage, Spans
from socstat.services.analytics.periods import Granularity, Period, bucket_start
from socstat.services.analytics.query import FIGURES, SNAPSHOT, ids_in, in_period
from socstat.services.analytics.scope import ResolvedScope, Scope, SourceRef, resolve_scope
from socstat.services.analytics.store import (
    KIND_FIELD,
    MEMBERS,
    MEMBERS_KNOWN,
    DayStack,
    aggregate_store,
    field,
    known_float,
    known_int,
)
from socstat.services.analytics.totals import Figure


@dataclass(slots=True)  # not frozen: built by the thousand per dashboard
class Point:
    """One day (or week / month / quarter, cut to the period) of the scope.

    A count is None when no source counting that kind has the day in its collected
    history; ``complete`` is False when some source of the scope does not.
    """

    start: date
    end: date
    posts: int | None
    videos: int | None
    clips: int | None
    publications: int | None
    likes: Figure
    reposts: Figure
    comments: Figure
    views: Figure
    er_day: float | None
    members: int | None  # every source's reading summed, on the last day that has them all
    complete: bool


@dataclass(frozen=True)
class Series:
    period: Period
    granularity: Granularity
    points: tuple[Point, ...]
    first_day: date | None  # the first day of collected history in the scope


def day_series(
    session: Session,
    *,
    actor: User | None,
    scope: Scope,
    period: Period,
    granularity: Granularity = Granularity.DAY,
) -> Series:
    """The scope's figures for every day (or bucket) of the period."""
    resolved = resolve_scope(session, actor=actor, scope=scope)
    return series(session, resolved, period, granularity)


def series(
    session: Session,
    resolved: ResolvedScope,
    period: Period,
    granularity: Granularity = Granularity.DAY,
    covs: dict[int, Coverage] | None = None,
) -> Series:
    covs = resolved.coverages(session) if covs is None else covs
    stack = aggregate_store().stack(session, resolved.sources, period.start, period.end)
    return _series(resolved.sources, period, granularity, covs, resolved.spans(covs), stack)


@dataclass(frozen=True)
class SourceSeries:
    source: SourceRef
    series: Series


def source_series(
    session: Session,
    *,
    actor: User | None,
    scope: Scope,
    period: Period,
    granularity: Granularity = Granularity.DAY,
) -> list[SourceSeries]:
    """Every source of the scope with its own series (ordered by name)."""
    resolved = resolve_scope(session, actor=actor, scope=scope)
    return series_per_source(session, resolved, period, granularity)


def series_per_source(
    session: Session,
    resolved: ResolvedScope,
    period: Period,
    granularity: Granularity = Granularity.DAY,
) -> list[SourceSeries]:
    covs = resolved.coverages(session)
    tables = aggregate_store().days(session, resolved.sources, period.start, period.end)
    result = []
    for source in resolved.sources:
        mine = {source.id: covs[source.id]}
        spans = Spans.of([covs[source.id]])
        stack = DayStack.build([tables[source.id]], [source.kinds])
        points = _series((source,), period, granularity, mine, spans, stack)
        result.append(SourceSeries(source, points))
    return result


def _series(
    sources: Sequence[SourceRef],
    period: Period,
    granularity: Granularity,
    covs: dict[int, Coverage],
    spans: Spans,
    stack: DayStack,
) -> Series:
    """The sources' figures summed per day, then per bucket (day, week, month, quarter).

    A day's count of a kind is known when a source counting the kind has publications of it
    that day or the day in its collected history; a bucket's when any of its days' is. A
    figure sums the known values (unknown where publications lack it; a known 0 on a known
    day without publications); members are the sources' sum on the bucket's last day that
    has every source's reading."""
    day = _DaySums(sources, period, spans, stack)
    dates = list(period.dates())
    if granularity == Granularity.DAY:
        starts = list(range(len(dates)))
    else:
        marks = [bucket_start(d, granularity) for d in dates]
        starts = [i for i, mark in enumerate(marks) if i == 0 or mark != marks[i - 1]]
    ends = [*(i - 1 for i in starts[1:]), len(dates) - 1]

    def per_bucket(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts, axis=-1)

    counts = {}
    for kind in ContentKind.ALL:
        if kind in day.kinds:
            known = per_bucket(day.known[kind].astype(float)) > 0
            counts[kind] = np.where(known, per_bucket(day.kinds[kind][KIND_FIELD["count"]]), np.nan)
        else:
            counts[kind] = np.full(len(starts), np.nan)
    stacked = np.stack(list(counts.values()))
    publications = np.where(np.isnan(stacked).all(axis=0), np.nan, np.nansum(stacked, axis=0))
    likes, reposts, comments, views = (_bucket_figures(day, name, per_bucket) for name in FIGURES)
    er_total, er_items = per_bucket(day.er_total), per_bucket(day.er_items)
    er = np.divide(er_total, er_items, out=np.full(len(starts), np.nan), where=er_items > 0)
    complete = per_bucket(day.complete.astype(float)) == np.diff([*starts, len(dates)])
    last = np.maximum.accumulate(np.where(day.members_known, np.arange(len(dates)), -1))
    reading = last[ends]
    members = np.where(reading >= starts, day.members[np.maximum(reading, 0)], np.nan)
    columns = zip(
        starts,
        ends,
        *(
            counts[kind].tolist()
            for kind in (ContentKind.POST, ContentKind.VIDEO, ContentKind.CLIP)
        ),
        publications.tolist(),
        likes,
        reposts,
        comments,
        views,
        er.tolist(),
        members.tolist(),
        complete.tolist(),
        strict=True,
    )
    points = [
        Point(
            dates[first],
            dates[end],
            known_int(posts),
            known_int(videos),
            known_int(clips),
            known_int(published),
            *figures,
            known_float(er_day),
            known_int(in_all),
            done,
        )
        for first, end, posts, videos, clips, published, *figures, er_day, in_all, done in columns
    ]
    firsts = [c.first for c in covs.values() if c.first is not None]
    return Series(period, granularity, tuple(points), min(firsts, default=None))


_DAY_ROWS = KIND_FIELD["er_view_sum"]  # a kind's leading rows a series reads: count, figures


class _DaySums:
    """The sources' day tables summed over the period: per counted kind its fields and
    whether its count is known each day; ERday sums; members where every source was read."""

    def __init__(
        self,
        sources: Sequence[SourceRef],
        period: Period,
        spans: Spans,
        stack: DayStack,
    ) -> None:
        total = stack.running(period)
        counted = {kind for source in sources for kind in source.kinds}
        running = {
            kind: total[field(kind, "present") : field(kind, "present") + _DAY_ROWS]
            for kind in ContentKind.ALL
            if kind in counted
        }
        er = stack.running(period, stack.er_total)
        # a source with none of the period in its history: its ERday is unknown, not 0
        outside = spans.days_in(period) == 0
        if outside.any():
            ordinals = np.arange(period.days + 1) + period.start.toordinal()
            columns = stack.columns(ordinals)[outside]
            er = er - stack.er[:, columns].sum(axis=1)
        readings = total[MEMBERS : MEMBERS_KNOWN + 1]
        self.kinds = {kind: np.diff(sums, axis=1) for kind, sums in running.items()}
        self.er_total, self.er_items = np.diff(er, axis=1)
        self.er_items = np.round(self.er_items)
        members, read = np.diff(readings, axis=1)
        self.known = {
            kind: (sums[KIND_FIELD["present"]] > 0)
            | (spans.per_day(period, np.array([kind in s.kinds for s in sources], dtype=bool)) > 0)
            for kind, sums in self.kinds.items()
        }
        everyone = spans.per_day(period)
        self.complete = (everyone == len(sources)) & bool(sources)
        self.members_known = (read == len(sources)) & bool(sources)
        self.members = members


def _bucket_figures(
    day: _DaySums, name: str, per_bucket: Callable[[np.ndarray], np.ndarray]
) -> list[Figure]:
    """A figure per bucket: a day with publications but no known value is unknown, a known
    day without publications a known 0; the bucket sums its days' known values."""
    zeros = np.zeros(len(day.er_total))
    value = sum((k[KIND_FIELD[name]] for k in day.kinds.values()), zeros)
    has_value = sum((k[KIND_FIELD[f"{name}_known"]] for k in day.kinds.values()), zeros) > 0
    published = sum((k[KIND_FIELD["present"]] for k in day.kinds.values()), zeros) > 0
    known_day = np.zeros(len(zeros), dtype=bool)
    for known in day.known.values():
        known_day |= known
    # a day's figure is known with a value, or as 0 on a known day without publications
    day_known = has_value | (~published & known_day)
    unknown = sum((k[KIND_FIELD[f"{name}_unknown"]] for k in day.kinds.values()), zeros)
    totals = per_bucket(np.where(day_known, value, 0.0))
    known_days = per_bucket(day_known.astype(float))
    return [
        Figure(int(total) if n > 0 else None, int(u))
        for total, n, u in zip(
            totals.tolist(), known_days.tolist(), per_bucket(unknown).tolist(), strict=True
        )
    ]


@dataclass(frozen=True)
class MembersPoint:
    day: date
    members: int | None


@dataclass(frozen=True)
class MembersSeries:
    """Members of one source (or the scope's sum) on each day of the period."""

    source_id: int | None
    points: tuple[MembersPoint, ...]


def members_series(
    session: Session, *, actor: User | None, scope: Scope, period: Period
) -> list[MembersSeries]:
    """The scope's total first (source_id None), then each source: members every day of the
    period, None on days without a reading."""
    resolved = resolve_scope(session, actor=actor, scope=scope)
    return members_over_time(session, resolved, period)


def members_total(session: Session, resolved: ResolvedScope, period: Period) -> MembersSeries:
    """The scope's members summed on each day of the period (None unless all were read)."""
    stack = aggregate_store().stack(session, resolved.sources, period.start, period.end)
    total, read = np.diff(stack.running(period)[MEMBERS : MEMBERS_KNOWN + 1], axis=1).tolist()
    everyone = len(resolved.sources)
    points = (
        MembersPoint(day, int(value) if everyone and n == everyone else None)
        for day, value, n in zip(period.dates(), total, read, strict=True)
    )
    return MembersSeries(None, tuple(points))


def members_of(day_series: Series) -> MembersSeries:
    """``members_total`` read off a day series already loaded (its points are the days)."""
    assert day_series.granularity == Granularity.DAY
    return MembersSeries(None, tuple(MembersPoint(p.start, p.members) for p in day_series.points))


def members_over_time(
    session: Session, resolved: ResolvedScope, period: Period
) -> list[MembersSeries]:
    stack = aggregate_store().stack(session, resolved.sources, period.start, period.end)
    columns = stack.columns(np.arange(period.days + 1) + period.start.toordinal())
    values = np.diff(stack.cum[MEMBERS][columns], axis=1).tolist()
    read = np.diff(stack.cum[MEMBERS_KNOWN][columns], axis=1).tolist()
    result = [members_total(session, resolved, period)]
    for source, mine, known in zip(resolved.sources, values, read, strict=True):
        points = (
            MembersPoint(day, int(value) if n else None)
            for day, value, n in zip(period.dates(), mine, known, strict=True)
        )
        result.append(MembersSeries(source.id, tuple(points)))
    return result


SPARK_POINTS = 30


def sparklines(
    session: Session,
    resolved: ResolvedScope,
    period: Period,
    covs: dict[int, Coverage] | None = None,
) -> dict[int, tuple[int | None, ...]]:
    """Per source: publications in up to SPARK_POINTS equal runs of days of the period
    (one day each for a month or less); None for a run outside the collected history."""
    step = -(-period.days // SPARK_POINTS)
    bounds = np.append(np.arange(0, period.days, step), period.days)  # runs' first days, end
    first_day = period.start.toordinal()
    run_first, run_last = bounds[:-1] + first_day, bounds[1:] - 1 + first_day
    covs = resolved.coverages(session) if covs is None else covs
    sources = resolved.sources
    stack = aggregate_store().stack(session, sources, period.start, period.end)
    columns = stack.columns(bounds + first_day)
    running = np.zeros(columns.shape)
    for kind in ContentKind.ALL:
        counting = np.array([kind in source.kinds for source in sources], dtype=float)
        running += stack.cum[field(kind, "count")][columns] * counting[:, None]
    runs = np.round(np.diff(running, axis=1)).astype(np.int64)
    spans = resolved.spans(covs)
    covered = (run_last >= spans.first[:, None]) & (run_first <= spans.last[:, None])
    points = runs.astype(object)
    points[(runs == 0) & ~covered] = None
    return dict(zip(resolved.source_ids, map(tuple, points.tolist()), strict=True))


@dataclass(frozen=True)
class CounterRow:
    """A source's counters as read on one day (None: not read or not given)."""

    day: date
    members: int | None
    videos: int | None
    clips: int | None


def counters_history(
    session: Session, *, actor: User | None, source_id: int, period: Period
) -> tuple[CounterRow, ...]:
    """The counter readings of one source within the period, newest first."""
    resolve_scope(session, actor=actor, scope=Scope(source_ids=(source_id,)))
    query = (
        select(SNAPSHOT.c.local_date, SNAPSHOT.c.members, SNAPSHOT.c.videos, SNAPSHOT.c.clips)
        .where(SNAPSHOT.c.source_id == source_id, in_period(SNAPSHOT, period))
        .order_by(SNAPSHOT.c.local_date.desc())
    )
    return tuple(CounterRow(*row) for row in session.execute(query).all())


def members_since(
    session: Session, *, actor: User | None, source_ids: Iterable[int]
) -> date | None:
    """The first day any of the sources has a members reading (None: never read) — what
    a members chart without a point in its period says data exist from."""
    ids = tuple(source_ids)
    if not ids:
        return None
    resolve_scope(session, actor=actor, scope=Scope(source_ids=ids))
    query = select(func.min(SNAPSHOT.c.local_date)).where(
        ids_in(SNAPSHOT.c.source_id, list(ids)), SNAPSHOT.c.members.is_not(None)
    )
    return session.execute(query).scalar_one()
