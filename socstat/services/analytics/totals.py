"""Totals of a period beside the previous period: overall, per source, per content kind.

Read from DailyStat (sums, unknown counts, ERview sums) and, where a day's members divide
its reactions (ERpost, ERday), from SourceDayStat (every kind of a source's day in one row)
joined with that day's CounterSnapshot. ER follows Popsters (docs/metrics.md):
- ERpost of a publication = (likes + reposts + comments) / members of its day; the
  period's average ERpost is their mean over the publications whose members are known;
- ERview = (likes + reposts + comments) / views; the average is the mean over the
  publications whose views are known and positive;
- ERday = a source's reactions of a day / its members that day; the average is the mean
  over the source-days of the collected history whose members are known.
Unknown members or views leave a publication (day) out and count it as unknown; with
nothing known the ER is None, never computed against a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, cast, func, literal, select
from sqlmodel import Session

from socstat.models import ContentKind, User
from socstat.services.analytics.coverage import Coverage, coverages
from socstat.services.analytics.periods import Period
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
    ratio,
    same_day,
)
from socstat.services.analytics.scope import ResolvedScope, Scope, SourceRef, resolve_scope
from socstat.services.analytics.sourcedays import SDAY, scope_sum


@dataclass(frozen=True)
class Figure:
    """A sum over the known values and how many items (sources, for members) lack one.
    ``value`` is None when nothing is known."""

    value: int | None
    unknown: int = 0


@dataclass(frozen=True)
class Ratio:
    """An average ER over ``items`` publications (source-days for ERday); ``unknown`` were
    left out for lack of members or views. None when nothing is known."""

    value: float | None
    items: int = 0
    unknown: int = 0


@dataclass(frozen=True)
class Totals:
    period: Period
    posts: int | None  # None: the kind is not counted, or no day of the period is known
    videos: int | None
    clips: int | None
    publications: int | None
    likes: Figure
    reposts: Figure
    comments: Figure
    views: Figure
    members_end: Figure  # the last reading of the period, summed over the sources
    members_delta: Figure  # members_end minus the previous period's members_end
    er_post: Ratio
    er_view: Ratio
    er_day: Ratio

    def count(self, kind: str) -> int | None:
        return {ContentKind.POST: self.posts, ContentKind.VIDEO: self.videos}.get(kind, self.clips)


@dataclass(frozen=True)
class Comparison:
    """A period's totals and the previous period's (same length, immediately before)."""

    current: Totals
    previous: Totals


@dataclass(frozen=True)
class SourceComparison:
    source: SourceRef
    current: Totals
    previous: Totals


@dataclass(frozen=True)
class KindTotals:
    """One content kind over the scope: its publications, engagement and ER."""

    kind: str
    current: Totals
    previous: Totals


def percent_change(current: float | None, previous: float | None) -> float | None:
    """(current − previous) / previous × 100; None when either is unknown or previous is 0."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / abs(previous) * 100


def totals(session: Session, *, actor: User | None, scope: Scope, period: Period) -> Comparison:
    """The scope's totals for ``period`` and the previous period."""
    resolved = resolve_scope(session, actor=actor, scope=scope)
    return compare(session, resolved, period)


def totals_by_source(
    session: Session, *, actor: User | None, scope: Scope, period: Period
) -> list[SourceComparison]:
    """Every source of the scope with its own totals (ordered by name)."""
    resolved = resolve_scope(session, actor=actor, scope=scope)
    return compare_by_source(session, resolved, period)


def totals_by_kind(
    session: Session, *, actor: User | None, scope: Scope, period: Period
) -> list[KindTotals]:
    """The scope's totals restricted to each counted kind in turn."""
    resolved = resolve_scope(session, actor=actor, scope=scope)
    current, previous = load_periods(session, resolved, period)
    return [
        KindTotals(
            kind=kind,
            current=current.totals(resolved.sources, kinds=(kind,)),
            previous=previous.totals(resolved.sources, kinds=(kind,)),
        )
        for kind in resolved.kinds
        if any(kind in s.kinds for s in resolved.sources)
    ]


def compare(session: Session, resolved: ResolvedScope, period: Period) -> Comparison:
    current, previous = load_periods(session, resolved, period)
    return Comparison(current.totals(resolved.sources), previous.totals(resolved.sources))


def compare_by_source(
    session: Session, resolved: ResolvedScope, period: Period
) -> list[SourceComparison]:
    current, previous = load_periods(session, resolved, period)
    return [
        SourceComparison(source, current.totals([source]), previous.totals([source]))
        for source in resolved.sources
    ]


# --- loading -------------------------------------------------------------------------

_RATIO_SUMS = ("er_view_sum", "er_post_sum")


class PeriodData:
    """What one period's totals are built from, for any subset of the scope's sources."""

    def __init__(
        self,
        period: Period,
        rows: dict[tuple[int, str], dict[str, Any]],
        er_day: dict[int, tuple[float, int]],
        members: dict[int, int],
        members_before: dict[int, int],
        covs: dict[int, Coverage],
    ) -> None:
        self.period = period
        self.rows = rows
        self.er_day = er_day
        self.members = members
        self.members_before = members_before
        self.covs = covs

    def totals(self, sources: Iterable[SourceRef], kinds: tuple[str, ...] | None = None) -> Totals:
        """The totals of ``sources`` (each for the kinds it counts, narrowed to ``kinds``):
        one pass over their rows (the dashboard asks for every source of the scope)."""
        sources = list(sources)
        acc = _Sums()
        for source in sources:
            covered = self._covered(source.id)
            for kind in ContentKind.ALL:
                if kind in source.kinds and (kinds is None or kind in kinds):
                    acc.add(kind, self.rows.get((source.id, kind)), covered)
        publications = acc.publications if acc.known else None
        total = publications or 0
        return Totals(
            period=self.period,
            posts=acc.count(ContentKind.POST),
            videos=acc.count(ContentKind.VIDEO),
            clips=acc.count(ContentKind.CLIP),
            publications=publications,
            **{f: acc.figure(f) for f in FIGURES},
            members_end=self._members_end(sources),
            members_delta=self._members_delta(sources),
            er_post=acc.ratio("er_post_sum", "er_post_items", total),
            er_view=acc.ratio("er_view_sum", "er_view_items", total),
            er_day=self._er_day(sources),
        )

    def publications(self) -> int:
        """The scope's live publications of the period (what DailyStat counts)."""
        return sum(row["count"] for row in self.rows.values())

    def _covered(self, source_id: int) -> bool:
        cov = self.covs.get(source_id)
        return cov is not None and cov.days_in(self.period) > 0

    def _members_end(self, sources: list[SourceRef]) -> Figure:
        known = [self.members[s.id] for s in sources if s.id in self.members]
        return Figure(sum(known) if known else None, len(sources) - len(known))

    def _members_delta(self, sources: list[SourceRef]) -> Figure:
        both = [s.id for s in sources if s.id in self.members and s.id in self.members_before]
        value = sum(self.members[i] - self.members_before[i] for i in both) if both else None
        return Figure(value, len(sources) - len(both))

    def _er_day(self, sources: list[SourceRef]) -> Ratio:
        days = sum(self.covs[s.id].days_in(self.period) for s in sources if s.id in self.covs)
        total, items = 0.0, 0
        for source in sources:
            part, n = self.er_day.get(source.id, (0.0, 0))
            total, items = total + part, items + n
        return Ratio(total / items if items else None, items, max(0, days - items))


class _Sums:
    """Running sums over (source, kind) rows of a period, in the order they are added.

    A kind's count is known when some source counting it has a row or covers a day of the
    period; a figure sums the known values (None when no row has one: unknown if there are
    rows, a known 0 if there are none but some pair is known)."""

    def __init__(self) -> None:
        self.known = False
        self.rows = 0
        self.publications = 0
        self.counts: dict[str, int | None] = dict.fromkeys(ContentKind.ALL)
        self.values: dict[str, int | None] = dict.fromkeys(FIGURES)
        self.unknown: dict[str, int] = dict.fromkeys(FIGURES, 0)
        self.ratios: dict[str, float] = dict.fromkeys(_RATIO_SUMS, 0.0)
        self.items: dict[str, int] = {"er_post_items": 0, "er_view_items": 0}

    def add(self, kind: str, row: dict[str, Any] | None, covered: bool) -> None:
        if row is None:
            if covered:
                self.known = True
                self.counts[kind] = self.counts[kind] or 0
            return
        self.known = True
        self.rows += 1
        self.publications += row["count"]
        self.counts[kind] = (self.counts[kind] or 0) + row["count"]
        for name in FIGURES:
            self.unknown[name] += row[f"{name}_unknown"]
            value = row[name]
            if value is not None:
                known = self.values[name]
                self.values[name] = value if known is None else known + value
        for name in _RATIO_SUMS:
            self.ratios[name] += row[name] or 0.0
        for name in self.items:
            self.items[name] += row[name]

    def count(self, kind: str) -> int | None:
        return self.counts[kind]

    def figure(self, name: str) -> Figure:
        if self.values[name] is not None:
            return Figure(self.values[name], self.unknown[name])
        if self.rows:  # publications, none with this figure
            return Figure(None, self.unknown[name])
        return Figure(0 if self.known else None, 0)

    def ratio(self, sum_key: str, items_key: str, total: int) -> Ratio:
        items = self.items[items_key]
        return Ratio(self.ratios[sum_key] / items if items else None, items, total - items)


def load_period(
    session: Session,
    resolved: ResolvedScope,
    period: Period,
    covs: dict[int, Coverage] | None = None,
) -> PeriodData:
    (data,) = _load(session, resolved, (period,), covs)
    return data


def load_periods(
    session: Session,
    resolved: ResolvedScope,
    period: Period,
    covs: dict[int, Coverage] | None = None,
) -> tuple[PeriodData, PeriodData]:
    """``period`` and the previous period, each table read once for both."""
    current, previous = _load(session, resolved, (period, period.previous()), covs)
    return current, previous


def _load(
    session: Session,
    resolved: ResolvedScope,
    periods: tuple[Period, ...],
    covs: dict[int, Coverage] | None,
) -> list[PeriodData]:
    ids = resolved.source_ids
    covs = coverages(session, ids) if covs is None else covs
    rows = _grouped_rows(session, resolved, periods)
    ratios = [_day_ratios(session, resolved, p, covs) for p in periods]
    for period_rows, (_er_day, er_post) in zip(rows, ratios, strict=True):
        for (source_id, kind), row in period_rows.items():
            row["er_post_sum"], row["er_post_items"] = er_post.get((source_id, kind), (None, 0))
    # each period's last reading, and the one before it (the previous period's last)
    befores = tuple(p.previous() for p in periods)
    readings = last_members(session, ids, tuple(dict.fromkeys(periods + befores)))
    return [
        PeriodData(
            period=p,
            rows=rows[index],
            er_day=ratios[index][0],
            members=readings[p],
            members_before=readings[before],
            covs=covs,
        )
        for index, (p, before) in enumerate(zip(periods, befores, strict=True))
    ]


def _each_period(
    session: Session,
    one: Callable[[int, Period], Select[Any] | None],
    periods: tuple[Period, ...],
) -> list[Any]:
    """Every period's rows: ``one(index, period)`` selects a period's rows with its index
    first, each with its own plain date range (well estimated by the planner, unlike one
    range split by CASE). One statement per period: as one UNION ALL, PostgreSQL ran the
    parts in parallel workers whose start cost more than the reads of a week or a month."""
    rows: list[Any] = []
    for index, period in enumerate(periods):
        query = one(index, period)
        if query is not None:
            rows.extend(session.execute(query).all())
    return rows


def _grouped_rows(
    session: Session, resolved: ResolvedScope, periods: tuple[Period, ...]
) -> list[dict[tuple[int, str], dict[str, Any]]]:
    """DailyStat sums per source and kind (ERpost, which needs each day's members, is
    added from ``_day_ratios``)."""

    def one(index: int, period: Period) -> Select[Any]:
        return (
            select(
                literal(index).label("which"),
                STAT.c.source_id,
                STAT.c.kind,
                *(func.sum(STAT.c[name]) for name in (*DAY_SUMS, "er_view_sum", "er_view_items")),
            )
            .where(in_scope(STAT, resolved), in_period(STAT, period))
            .group_by(STAT.c.source_id, STAT.c.kind)
        )

    result: list[dict[tuple[int, str], dict[str, Any]]] = [{} for _ in periods]
    for index, source_id, kind, *values in _each_period(session, one, periods):
        *sums, er_view_sum, er_view_items = values
        result[int(index)][(source_id, kind)] = {
            **day_sums(dict(zip(DAY_SUMS, sums, strict=True))),
            "er_view_sum": None if er_view_sum is None else float(er_view_sum),
            "er_view_items": int(er_view_items or 0),
        }
    return result


def _snapshot_days(resolved: ResolvedScope, period: Period) -> Any:
    """The scope's snapshots of the period with members, each with its SourceDayStat row
    (NULLs for a day without publications)."""
    return SNAPSHOT.outerjoin(
        SDAY,
        # the row's own range and sources (implied by the day) let the planner read only
        # the period's rows
        and_(
            same_day(SDAY, SNAPSHOT),
            in_period(SDAY, period),
            ids_in(SDAY.c.source_id, resolved.source_ids),
        ),
    )


def _day_ratios(
    session: Session, resolved: ResolvedScope, period: Period, covs: dict[int, Coverage]
) -> tuple[dict[int, tuple[float, int]], dict[tuple[int, str], tuple[float | None, int]]]:
    """Per source: its ERday (sum, source-days) and per kind its ERpost (sum over the
    publications, how many), from one join of the period's snapshots with SourceDayStat.

    ERday counts the source-days of readable sources whose members are known and none of
    whose reactions is unknown (a day without publications is a known 0); ERpost the
    kind's days with members known and its reactions all known."""
    if not resolved.sources:
        return {}, {}
    members = SNAPSHOT.c.members
    readable = [sid for sid, cov in covs.items() if cov.days_in(period) > 0]
    counted = and_(
        ids_in(SNAPSHOT.c.source_id, readable),
        func.coalesce(scope_sum(resolved, "unknown"), 0) == 0,
    )
    kinds = list(resolved.ids_by_kind())
    per_kind = []
    for kind in kinds:
        known = SDAY.c[f"{kind}_unknown"] == 0
        per_kind += [
            func.sum(case((known, ratio(SDAY.c[f"{kind}_reactions"], members)))),
            func.sum(case((known, SDAY.c[f"{kind}_count"]), else_=0)),
        ]
    query = (
        select(
            SNAPSHOT.c.source_id,
            func.sum(
                case((counted, ratio(func.coalesce(scope_sum(resolved, "reactions"), 0), members)))
            ),
            func.sum(case((counted, 1), else_=0)),
            *per_kind,
        )
        .select_from(_snapshot_days(resolved, period))
        .where(
            ids_in(SNAPSHOT.c.source_id, resolved.source_ids),
            in_period(SNAPSHOT, period),
            members > 0,
        )
        .group_by(SNAPSHOT.c.source_id)
    )
    er_day: dict[int, tuple[float, int]] = {}
    er_post: dict[tuple[int, str], tuple[float | None, int]] = {}
    for source_id, day_total, days, *posts in session.execute(query).all():
        if days:
            er_day[source_id] = (float(day_total or 0.0), int(days))
        for index, kind in enumerate(kinds):
            total, items = posts[2 * index], posts[2 * index + 1]
            er_post[(source_id, kind)] = (None if total is None else float(total), int(items or 0))
    return er_day, er_post


def er_day_sums(
    session: Session,
    resolved: ResolvedScope,
    period: Period,
    covs: dict[int, Coverage],
    *,
    by: tuple[str, ...] = ("source_id",),
) -> dict[Any, tuple[float, int]]:
    """Per ``by`` (snapshot columns: source_id and/or local_date; a tuple key for two): the
    sum of the source-days' ERday and how many source-days had members and reactions known.
    """
    readable = [sid for sid, cov in covs.items() if cov.days_in(period) > 0]
    if not readable or not resolved.sources:
        return {}
    keys = [SNAPSHOT.c[name] for name in by]
    query = (
        select(
            *keys,
            func.sum(ratio(func.coalesce(scope_sum(resolved, "reactions"), 0), SNAPSHOT.c.members)),
            func.count(),
        )
        .select_from(_snapshot_days(resolved, period))
        .where(
            ids_in(SNAPSHOT.c.source_id, readable),
            in_period(SNAPSHOT, period),
            SNAPSHOT.c.members > 0,
            func.coalesce(scope_sum(resolved, "unknown"), 0) == 0,
        )
        .group_by(*keys)
    )
    result: dict[Any, tuple[float, int]] = {}
    for *key, total, n in session.execute(query).all():
        result[tuple(key) if len(key) > 1 else key[0]] = (float(total or 0.0), int(n))
    return result


def last_members(
    session: Session, source_ids: list[int], periods: tuple[Period, ...]
) -> dict[Period, dict[int, int]]:
    """Per period, per source: members of its last snapshot within the period that has
    them. One grouped range read per period (no probe per source): the day and the members
    packed into one integer whose maximum is the last day's reading."""
    result: dict[Period, dict[int, int]] = {p: {} for p in periods}
    if not source_ids:
        return result

    def one(index: int, period: Period) -> Select[Any]:
        day = cast(day_index(session, SNAPSHOT.c.local_date, period), BigInteger)
        offset = cast(SNAPSHOT.c.members, BigInteger) + literal(_MEMBERS_SPAN // 2, BigInteger)
        packed = day * literal(_MEMBERS_SPAN, BigInteger) + offset
        return (
            select(literal(index).label("which"), SNAPSHOT.c.source_id, func.max(packed))
            .where(
                ids_in(SNAPSHOT.c.source_id, source_ids),
                in_period(SNAPSHOT, period),
                SNAPSHOT.c.members.is_not(None),
            )
            .group_by(SNAPSHOT.c.source_id)
        )

    for index, source_id, packed in _each_period(session, one, periods):
        members = int(packed) % _MEMBERS_SPAN - _MEMBERS_SPAN // 2
        result[periods[int(index)]][source_id] = members
    return result


_MEMBERS_SPAN = 2**32  # members is a 32-bit integer column
