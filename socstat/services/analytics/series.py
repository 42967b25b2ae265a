"""Series over a period: every day present (or every week / month / quarter, derived from
the days), and members over time, summed from the sources' day tables (``store``). Known
zero vs unknown follows ``coverage`` — the one rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlmodel import Session

from socstat.models import ContentKind, User
from socstat.services.analytics.coverage import Coverage, coverages, covered_per_day
from socstat.services.analytics.periods import Granularity, Period, bucket_start
from socstat.services.analytics.query import FIGURES, SNAPSHOT, ids_in, in_period
from socstat.services.analytics.scope import ResolvedScope, Scope, SourceRef, resolve_scope
from socstat.services.analytics.store import (
    KIND_FIELDS,
    MEMBERS,
    MEMBERS_KNOWN,
    WIDTH,
    SourceDays,
    aggregate_store,
    field,
    fields,
)
from socstat.services.analytics.totals import Figure


@dataclass(frozen=True)
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


@dataclass
class _Day:
    counts: dict[str, int | None]
    figures: dict[str, tuple[int | None, int]]
    er_day: tuple[float, int]
    members: int | None
    complete: bool


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
    covs = coverages(session, resolved.source_ids) if covs is None else covs
    tables = aggregate_store().days(session, resolved.sources, period.start, period.end)
    days = _days(resolved.sources, period, covs, tables)
    return _series(period, granularity, days, covs.values())


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
    covs = coverages(session, resolved.source_ids)
    tables = aggregate_store().days(session, resolved.sources, period.start, period.end)
    result = []
    for source in resolved.sources:
        mine = {source.id: covs[source.id]}
        days = _days((source,), period, mine, tables)
        result.append(SourceSeries(source, _series(period, granularity, days, mine.values())))
    return result


def _series(
    period: Period, granularity: Granularity, days: list[_Day], covs: Iterable[Coverage]
) -> Series:
    buckets: dict[date, list[tuple[date, _Day]]] = {}
    for day, entry in zip(period.dates(), days, strict=True):
        buckets.setdefault(bucket_start(day, granularity), []).append((day, entry))
    points = tuple(_point(entries) for entries in buckets.values())
    firsts = [c.first for c in covs if c.first is not None]
    return Series(period, granularity, points, min(firsts, default=None))


def _days(
    sources: Sequence[SourceRef],
    period: Period,
    covs: dict[int, Coverage],
    tables: dict[int, SourceDays],
) -> list[_Day]:
    """The sources' figures of every day of the period, summed per kind."""
    per_kind: dict[str, np.ndarray] = {}
    er_total, er_items = np.zeros(period.days), np.zeros(period.days)
    members, read = np.zeros(period.days), np.zeros(period.days)
    for source in sources:
        days = tables[source.id]
        skip, window = days.window(period)
        end = skip + window.shape[1]
        for kind in source.kinds:
            base = field(kind, "present")
            if kind not in per_kind:
                per_kind[kind] = np.zeros((WIDTH, period.days))
            per_kind[kind][:, skip:end] += window[base : base + WIDTH]
        cov = covs.get(source.id)
        if cov is not None and cov.days_in(period) > 0:
            values, counted = days.er(source.kinds)
            _skip, lo, hi = days.span(period)
            er_total[skip:end] += values[lo:hi]
            er_items[skip:end] += counted[lo:hi]
        members[skip:end] += window[MEMBERS]
        read[skip:end] += window[MEMBERS_KNOWN]
    kinds = [k for k in ContentKind.ALL if k in per_kind]
    covered = {
        kind: covered_per_day(
            [covs[s.id] for s in sources if kind in s.kinds and s.id in covs], period
        )
        for kind in kinds
    }
    everyone = covered_per_day(covs.values(), period)
    column = {kind: dict(zip(KIND_FIELDS, per_kind[kind].tolist(), strict=True)) for kind in kinds}
    er_total_days, er_items_days = er_total.tolist(), er_items.tolist()
    members_days, read_days = members.tolist(), read.tolist()
    result = []
    for index in range(period.days):
        present = [k for k in kinds if column[k]["present"][index] > 0]
        known = {k: k in present or covered[k][index] > 0 for k in kinds}
        result.append(
            _Day(
                counts={
                    k: int(column[k]["count"][index]) if known.get(k) else None
                    for k in ContentKind.ALL
                },
                figures={
                    f: _day_figure(column, present, f, index, any(known.values())) for f in FIGURES
                },
                er_day=(er_total_days[index], int(er_items_days[index])),
                members=int(members_days[index])
                if sources and read_days[index] == len(sources)
                else None,
                complete=bool(sources) and everyone[index] == len(sources),
            )
        )
    return result


def _day_figure(
    column: dict[str, dict[str, list[float]]],
    present: list[str],
    name: str,
    index: int,
    known: bool,
) -> tuple[int | None, int]:
    """A figure of a day over the kinds with publications: the known values' sum (None if
    none is known; a known 0 on a covered day without publications) and the unknowns."""
    unknown = sum(int(column[k][f"{name}_unknown"][index]) for k in present)
    if any(column[k][f"{name}_known"][index] > 0 for k in present):
        return sum(int(column[k][name][index]) for k in present), unknown
    return (None if present or not known else 0), unknown


def _point(entries: list[tuple[date, _Day]]) -> Point:
    days = [entry for _day, entry in entries]
    counts = {k: _sum([d.counts[k] for d in days]) for k in ContentKind.ALL}
    known_counts = [v for v in counts.values() if v is not None]
    er_total = sum(d.er_day[0] for d in days)
    er_items = sum(d.er_day[1] for d in days)
    members = [d.members for d in days if d.members is not None]
    return Point(
        start=entries[0][0],
        end=entries[-1][0],
        posts=counts[ContentKind.POST],
        videos=counts[ContentKind.VIDEO],
        clips=counts[ContentKind.CLIP],
        publications=sum(known_counts) if known_counts else None,
        **{
            f: Figure(_sum([d.figures[f][0] for d in days]), sum(d.figures[f][1] for d in days))
            for f in FIGURES
        },
        er_day=er_total / er_items if er_items else None,
        members=members[-1] if members else None,
        complete=all(d.complete for d in days),
    )


def _sum(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


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
    tables = aggregate_store().days(session, resolved.sources, period.start, period.end)
    total, read = np.zeros(period.days), np.zeros(period.days)
    for source in resolved.sources:
        members = tables[source.id].rows(period, [MEMBERS, MEMBERS_KNOWN])
        total += members[0]
        read += members[1]
    everyone = len(resolved.sources)
    points = (
        MembersPoint(day, int(value) if everyone and n == everyone else None)
        for day, value, n in zip(period.dates(), total.tolist(), read.tolist(), strict=True)
    )
    return MembersSeries(None, tuple(points))


def members_of(day_series: Series) -> MembersSeries:
    """``members_total`` read off a day series already loaded (its points are the days)."""
    assert day_series.granularity == Granularity.DAY
    return MembersSeries(None, tuple(MembersPoint(p.start, p.members) for p in day_series.points))


def members_over_time(
    session: Session, resolved: ResolvedScope, period: Period
) -> list[MembersSeries]:
    tables = aggregate_store().days(session, resolved.sources, period.start, period.end)
    result = [members_total(session, resolved, period)]
    for source in resolved.sources:
        values, read = tables[source.id].rows(period, [MEMBERS, MEMBERS_KNOWN]).tolist()
        points = (
            MembersPoint(day, int(value) if known else None)
            for day, value, known in zip(period.dates(), values, read, strict=True)
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
    starts = np.arange(0, period.days, step)
    covs = coverages(session, resolved.source_ids) if covs is None else covs
    tables = aggregate_store().days(session, resolved.sources, period.start, period.end)
    spans = [
        Period.custom(
            period.start + timedelta(days=int(start)),
            min(period.end, period.start + timedelta(days=int(start) + step - 1)),
        )
        for start in starts
    ]
    result = {}
    for source in resolved.sources:
        published = tables[source.id].rows(period, fields(source.kinds, "count")).sum(axis=0)
        runs = np.add.reduceat(published, starts).tolist()
        cov = covs[source.id]
        result[source.id] = tuple(
            int(n) if n > 0 else (0 if cov.days_in(span) > 0 else None)
            for n, span in zip(runs, spans, strict=True)
        )
    return result


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
