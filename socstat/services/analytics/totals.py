"""Totals of a period beside the previous period: overall, per source, per content kind.

Read from the sources' day tables (``store``: DailyStat's sums, unknown counts and ERview
sums, with each day's members from its CounterSnapshot). ER follows Popsters (docs/metrics.md):
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

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session

from socstat.models import ContentKind, User
from socstat.services.analytics.coverage import Coverage
from socstat.services.analytics.periods import Period
from socstat.services.analytics.query import FIGURES
from socstat.services.analytics.scope import ResolvedScope, Scope, SourceRef, resolve_scope
from socstat.services.analytics.store import (
    KIND_FIELD,
    KINDS,
    WIDTH,
    DayStack,
    aggregate_store,
    known_floats,
    known_ints,
)


@dataclass(slots=True)  # not frozen: built by the thousand per dashboard
class Figure:
    """A sum over the known values and how many items (sources, for members) lack one.
    ``value`` is None when nothing is known."""

    value: int | None
    unknown: int = 0


@dataclass(slots=True)  # not frozen: built by the thousand per dashboard
class Ratio:
    """An average ER over ``items`` publications (source-days for ERday); ``unknown`` were
    left out for lack of members or views. None when nothing is known."""

    value: float | None
    items: int = 0
    unknown: int = 0


@dataclass(slots=True)  # not frozen: built by the thousand per dashboard
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
    return source_comparisons(resolved.sources, *load_periods(session, resolved, period))


def source_comparisons(
    sources: tuple[SourceRef, ...], current: PeriodData, previous: PeriodData
) -> list[SourceComparison]:
    """Every source's own totals in both periods."""
    pairs = zip(current.each(sources), previous.each(sources), strict=True)
    return [SourceComparison(s, now, then) for s, (now, then) in zip(sources, pairs, strict=True)]


# --- loading -------------------------------------------------------------------------


class PeriodData:
    """What one period's totals are built from, for any subset of the scope's sources: per
    source and kind the sums of its day table over the period (zeros for a kind it does not
    count), its ERday sums, its last members readings (NaN: none) and its covered days."""

    def __init__(
        self,
        period: Period,
        sources: tuple[SourceRef, ...],
        sums: np.ndarray,
        er_day: np.ndarray,
        members: np.ndarray,
        members_before: np.ndarray,
        days: np.ndarray,
    ) -> None:
        self.period = period
        self.index = {source.id: row for row, source in enumerate(sources)}
        self.sums = sums  # (sources, kinds, WIDTH)
        self.er_day = er_day  # (sources, 2): Σ ERday, source-days counted
        self.members = members  # (sources,): the period's last reading
        self.members_before = members_before  # the previous period's
        self.days = days  # (sources,): days of the period within the collected history
        counting = np.array([[k in s.kinds for k in KINDS] for s in sources], dtype=bool)
        self.counting = counting.reshape(len(sources), len(KINDS))  # (0, kinds) when empty

    def totals(self, sources: Iterable[SourceRef], kinds: tuple[str, ...] | None = None) -> Totals:
        """The totals of ``sources`` together, each for the kinds it counts (narrowed to
        ``kinds``)."""
        sources = list(sources)
        rows = [self.index[s.id] for s in sources]
        counting = self.counting[rows]
        if kinds is not None:
            counting = counting & np.array([k in kinds for k in KINDS])
        sums, seen, covered = self._parts(rows, counting)
        (result,) = self._build(
            [rows],
            sums.sum(axis=0, keepdims=True),
            seen.sum(axis=0, keepdims=True),
            covered.sum(axis=0, keepdims=True),
            self.er_day[rows].sum(axis=0, keepdims=True),
            self.days[rows].sum(keepdims=True),
        )
        return result

    def each(self, sources: Iterable[SourceRef]) -> list[Totals]:
        """Every source's own totals (what ``totals([source])`` gives), in one pass."""
        sources = list(sources)
        rows = [self.index[s.id] for s in sources]
        sums, seen, covered = self._parts(rows, self.counting[rows])
        groups = [[row] for row in rows]
        return self._build(groups, sums, seen, covered, self.er_day[rows], self.days[rows])

    def publications(self) -> int:
        """The scope's live publications of the period (what DailyStat counts), each source
        for the kinds it counts."""
        return int((self.sums[:, :, _COUNT] * self.counting).sum())

    def _parts(
        self, rows: list[int], counting: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per source and kind: the sums of the kinds it counts, whether it has publications
        of the kind in the period (a row) and whether, without any, the period is within
        its collected history (the kind's count a known 0)."""
        sums = self.sums[rows] * counting[:, :, None]
        seen = sums[:, :, _PRESENT] > 0
        covered = counting & ~seen & (self.days[rows] > 0)[:, None]
        return sums, seen.astype(float), covered.astype(float)

    def _build(
        self,
        groups: list[list[int]],
        sums: np.ndarray,
        seen: np.ndarray,
        covered: np.ndarray,
        er_day: np.ndarray,
        days: np.ndarray,
    ) -> list[Totals]:
        """The totals of each group of sources (rows) from its sums per kind (group × kind × field),
        its source-kind pairs with a row (``seen``) or a known 0 (``covered``), its ERday sums
        and its covered days: every rule computed over all groups at once, then the objects.

        A kind's count is known when some pair of it has a row or is covered; a figure is
        the known values' sum (unknown with rows but no value; a known 0 with no rows when a
        count is known); an ER ratio averages over the items it could be computed for."""
        known_kind = (seen + covered) > 0
        counts = np.where(known_kind, sums[:, :, _COUNT], np.nan)
        total = sums.sum(axis=1)
        known = known_kind.any(axis=1)
        rows = seen.sum(axis=1) > 0
        publications = np.where(known, total[:, _COUNT], np.nan)
        figures = {}
        for name in FIGURES:
            has_value = total[:, KIND_FIELD[f"{name}_known"]] > 0
            empty = np.where(known, 0.0, np.nan)
            value = np.where(has_value, total[:, KIND_FIELD[name]], np.where(rows, np.nan, empty))
            unknown = np.where(has_value | rows, total[:, KIND_FIELD[f"{name}_unknown"]], 0.0)
            figures[name] = list(map(Figure, known_ints(value), _ints(unknown)))
        ratios = {
            name: _ratios(total, name, np.nan_to_num(publications))
            for name in ("er_post", "er_view")
        }
        er_items = er_day[:, 1]
        er_value = np.divide(
            er_day[:, 0], er_items, out=np.full(len(er_items), np.nan), where=er_items > 0
        )
        left_out = np.maximum(0, days.astype(np.int64) - er_items.astype(np.int64))
        er_days = list(map(Ratio, known_floats(er_value), _ints(er_items), left_out.tolist()))
        members_end, members_delta = self._members(groups)
        columns = zip(
            *(known_ints(kind) for kind in counts.T),
            known_ints(publications),
            figures["likes"],
            figures["reposts"],
            figures["comments"],
            figures["views"],
            members_end,
            members_delta,
            ratios["er_post"],
            ratios["er_view"],
            er_days,
            strict=True,
        )
        return [Totals(self.period, *values) for values in columns]

    def _members(self, groups: list[list[int]]) -> tuple[list[Figure], list[Figure]]:
        """Each group's members at the period's end, summed over its sources with a reading,
        and their change since the previous period's end, over those read at both (the
        others count as unknown)."""
        sizes = np.array([len(group) for group in groups], dtype=np.int64)
        rows = [row for group in groups for row in group]
        now, then = self.members[rows], self.members_before[rows]
        read = ~np.isnan(now)
        both = read & ~np.isnan(then)
        filled = sizes > 0
        starts = (np.cumsum(sizes) - sizes)[filled]

        def per_group(values: np.ndarray) -> np.ndarray:
            result = np.zeros(len(groups))
            if rows:
                result[filled] = np.add.reduceat(values, starts)
            return result

        n_read, n_both = per_group(read.astype(float)), per_group(both.astype(float))
        end = np.where(n_read > 0, np.round(per_group(np.where(read, now, 0.0))), np.nan)
        delta = np.where(n_both > 0, np.round(per_group(np.where(both, now - then, 0.0))), np.nan)
        return (
            list(map(Figure, known_ints(end), _ints(sizes - n_read))),
            list(map(Figure, known_ints(delta), _ints(sizes - n_both))),
        )


_PRESENT = KIND_FIELD["present"]
_COUNT = KIND_FIELD["count"]


def _ratios(total: np.ndarray, name: str, publications: np.ndarray) -> list[Ratio]:
    """Each group's average ``name`` (ERpost, ERview) over the items it was computed for."""
    items = total[:, KIND_FIELD[f"{name}_items"]]
    value = np.divide(
        total[:, KIND_FIELD[f"{name}_sum"]], items, out=np.full(len(items), np.nan), where=items > 0
    )
    left_out = publications.astype(np.int64) - items.astype(np.int64)
    return list(map(Ratio, known_floats(value), _ints(items), left_out.tolist()))


def _ints(values: np.ndarray) -> list[int]:
    """Whole-number sums (floats) as ints."""
    return values.astype(np.int64).tolist()


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
    covs = resolved.coverages(session) if covs is None else covs
    # each period's last reading, and the one before it (the previous period's last)
    befores = tuple(p.previous() for p in periods)
    spans = periods + befores
    stack = aggregate_store().stack(
        session, resolved.sources, min(p.start for p in spans), max(p.end for p in spans)
    )
    return [
        _period_data(resolved, p, before, stack, covs)
        for p, before in zip(periods, befores, strict=True)
    ]


def _period_data(
    resolved: ResolvedScope,
    period: Period,
    before: Period,
    stack: DayStack,
    covs: dict[int, Coverage],
) -> PeriodData:
    sources = resolved.sources
    days = resolved.spans(covs).days_in(period).astype(float)
    sums = stack.sums(period)[:, : len(KINDS) * WIDTH].reshape(len(sources), len(KINDS), WIDTH)
    # ERday is unknown, not 0, for a source with none of the period in its history
    er_day = np.where((days > 0)[:, None], stack.er_sums(period), 0.0)
    members, members_before = stack.members_at_end(period), stack.members_at_end(before)
    return PeriodData(period, sources, sums, er_day, members, members_before, days)
