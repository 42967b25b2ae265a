"""Series over a period: every day present (or every week / month / quarter, derived from
the days), and members over time. Known zero vs unknown follows ``coverage`` — the one rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from socstat.models import ContentKind, User
from socstat.services.analytics.coverage import Coverage, coverages, covered_per_day
from socstat.services.analytics.periods import Granularity, Period, bucket_start
from socstat.services.analytics.query import (
    DAY_SUMS,
    FIGURES,
    SNAPSHOT,
    STAT,
    day_index,
    day_sums,
    ids_in,
    in_period,
    in_scope,
)
from socstat.services.analytics.scope import ResolvedScope, Scope, SourceRef, resolve_scope
from socstat.services.analytics.sourcedays import SDAY, scope_sum
from socstat.services.analytics.totals import Figure, er_day_sums


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
    days = _days(
        resolved,
        period,
        covs,
        rows=_rows_by_day(session, resolved, period),
        er_days=er_day_sums(session, resolved, period, covs, by=("local_date",)),
        members=_members_by_day(session, resolved.source_ids, period),
    )
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
    rows = _rows_by_day(session, resolved, period, per_source=True)
    er_days = er_day_sums(session, resolved, period, covs, by=("source_id", "local_date"))
    readings = _readings(session, resolved.source_ids, period)
    result = []
    for source in resolved.sources:
        one = ResolvedScope(sources=(source,), kinds=resolved.kinds)
        days = _days(
            one,
            period,
            {source.id: covs[source.id]},
            rows={(d, k): r for (sid, d, k), r in rows.items() if sid == source.id},
            er_days={d: v for (sid, d), v in er_days.items() if sid == source.id},
            members=readings.get(source.id, {}),
        )
        result.append(SourceSeries(source, _series(period, granularity, days, [covs[source.id]])))
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
    resolved: ResolvedScope,
    period: Period,
    covs: dict[int, Coverage],
    *,
    rows: dict[tuple[date, str], dict[str, Any]],
    er_days: dict[date, tuple[float, int]],
    members: dict[date, int],
) -> list[_Day]:
    covered = {
        kind: covered_per_day([covs[i] for i in ids if i in covs], period)
        for kind, ids in resolved.ids_by_kind().items()
    }
    everyone = covered_per_day(covs.values(), period)
    result = []
    for index, day in enumerate(period.dates()):
        by_kind = {k: rows.get((day, k)) for k in covered}
        known = {k: by_kind[k] is not None or covered[k][index] > 0 for k in covered}
        counts: dict[str, int | None] = {
            kind: (row["count"] if row else 0) if known.get(kind) else None
            for kind, row in ((k, by_kind.get(k)) for k in ContentKind.ALL)
        }
        present = [r for r in by_kind.values() if r is not None]
        result.append(
            _Day(
                counts=counts,
                figures={f: _day_figure(present, f, any(known.values())) for f in FIGURES},
                er_day=er_days.get(day, (0.0, 0)),
                members=members.get(day),
                complete=bool(resolved.sources) and everyone[index] == len(resolved.sources),
            )
        )
    return result


def _day_figure(rows: list[dict[str, Any]], name: str, known: bool) -> tuple[int | None, int]:
    unknown = sum(r[f"{name}_unknown"] for r in rows)
    values = [r[name] for r in rows if r[name] is not None]
    if values:
        return sum(values), unknown
    return (None if rows or not known else 0), unknown


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


def _rows_by_day(
    session: Session, resolved: ResolvedScope, period: Period, *, per_source: bool = False
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """DailyStat sums keyed by (day, kind), or (source id, day, kind) when ``per_source``."""
    keys = [STAT.c.source_id] if per_source else []
    keys += [STAT.c.local_date, STAT.c.kind]
    query = (
        select(*keys, *(func.sum(STAT.c[n]) for n in DAY_SUMS))
        .where(in_scope(STAT, resolved), in_period(STAT, period))
        .group_by(*keys)
    )
    result: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in session.execute(query).all():
        key, values = tuple(row[: len(keys)]), row[len(keys) :]
        result[key] = day_sums(dict(zip(DAY_SUMS, values, strict=True)))
    return result


def _members_by_day(session: Session, source_ids: list[int], period: Period) -> dict[date, int]:
    """Members summed over the sources, on the days every one of them has a reading."""
    if not source_ids:
        return {}
    query = (
        select(SNAPSHOT.c.local_date, func.sum(SNAPSHOT.c.members), func.count(SNAPSHOT.c.members))
        .where(ids_in(SNAPSHOT.c.source_id, source_ids), in_period(SNAPSHOT, period))
        .group_by(SNAPSHOT.c.local_date)
    )
    return {
        day: int(total)
        for day, total, n in session.execute(query).all()
        if n == len(source_ids) and total is not None
    }


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
    total = _members_by_day(session, resolved.source_ids, period)
    return MembersSeries(None, tuple(MembersPoint(d, total.get(d)) for d in period.dates()))


def members_of(day_series: Series) -> MembersSeries:
    """``members_total`` read off a day series already loaded (its points are the days)."""
    assert day_series.granularity == Granularity.DAY
    return MembersSeries(None, tuple(MembersPoint(p.start, p.members) for p in day_series.points))


def members_over_time(
    session: Session, resolved: ResolvedScope, period: Period
) -> list[MembersSeries]:
    ids = resolved.source_ids
    readings = _readings(session, ids, period)
    days = list(period.dates())
    result = [members_total(session, resolved, period)]
    for source_id in ids:
        mine = readings.get(source_id, {})
        result.append(MembersSeries(source_id, tuple(MembersPoint(d, mine.get(d)) for d in days)))
    return result


def _readings(session: Session, ids: list[int], period: Period) -> dict[int, dict[date, int]]:
    """Members per source per day of the period (days without a reading are absent)."""
    readings: dict[int, dict[date, int]] = {}
    if not ids:
        return readings
    query = select(SNAPSHOT.c.source_id, SNAPSHOT.c.local_date, SNAPSHOT.c.members).where(
        ids_in(SNAPSHOT.c.source_id, ids),
        in_period(SNAPSHOT, period),
        SNAPSHOT.c.members.is_not(None),
    )
    for source_id, day, members in session.execute(query).all():
        readings.setdefault(source_id, {})[day] = int(members)
    return readings


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
    runs = -(-period.days // step)
    counts = _run_counts(session, resolved, period, step) if resolved.sources else {}
    covs = coverages(session, resolved.source_ids) if covs is None else covs
    spans = [
        Period.custom(
            period.start + timedelta(days=run * step),
            min(period.end, period.start + timedelta(days=(run + 1) * step - 1)),
        )
        for run in range(runs)
    ]
    result = {}
    for source in resolved.sources:
        cov = covs[source.id]
        result[source.id] = tuple(
            counts[(source.id, run)]
            if (source.id, run) in counts
            else (0 if cov.days_in(span) > 0 else None)
            for run, span in enumerate(spans)
        )
    return result


def _run_counts(
    session: Session, resolved: ResolvedScope, period: Period, step: int
) -> dict[tuple[int, int], int]:
    """Publications per (source, run of ``step`` days) from SourceDayStat (one row per
    source-day, the kinds each source counts); runs without any are left out."""
    index = day_index(session, SDAY.c.local_date, period) // step
    published = func.sum(scope_sum(resolved, "count"))
    query = (
        select(SDAY.c.source_id, index.label("run"), published)
        .where(ids_in(SDAY.c.source_id, resolved.source_ids), in_period(SDAY, period))
        .group_by(SDAY.c.source_id, "run")
        .having(published > 0)
    )
    return {(source_id, int(run)): int(n) for source_id, run, n in session.execute(query).all()}


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
