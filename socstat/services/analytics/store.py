"""An in-process columnar copy of the day aggregates the dashboard reads.

Per source: its DailyStat rows and its counter snapshots' members as one table (field ×
day, float64: sums stay exact far beyond any real count) over the days loaded, and its
HourlyStat rows as arrays sorted by day. A dashboard then sums slices of these tables
instead of grouping hundreds of thousands of rows in SQL on every call; the figures are
the same as the stored aggregates', read once.

A source's copy is used only while its ``Source.stats_token`` is the one it was loaded
with: collection writes a new token in the transaction that rewrites the source's
aggregates, and the token is read (with the scope) before the copy, so a copy is never
older than the token it is filed under. Copies are extended to longer periods on demand
and the least recently used are dropped beyond ``SOCSTAT_ANALYTICS_MEMORY_MB``.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import case, select
from sqlmodel import Session

from socstat.models import ContentKind, HourlyStat
from socstat.services.analytics.periods import Period
from socstat.services.analytics.query import FIGURES, SNAPSHOT, STAT, day_index, ids_in, in_days
from socstat.services.analytics.scope import SourceRef
from socstat.settings import get_settings

KINDS: tuple[str, ...] = ContentKind.ALL
# one block of these per content kind, then the day's members
KIND_FIELDS: tuple[str, ...] = (
    "present",  # 1 where the source has a DailyStat row of the kind that day
    "count",
    *FIGURES,  # the known values' sums (0 where none is known)
    *(f"{f}_known" for f in FIGURES),  # 1 where the row's sum is known
    *(f"{f}_unknown" for f in FIGURES),
    "er_view_sum",
    "er_view_items",
    "er_post_sum",  # Σ reactions / members over the day's publications, where both known
    "er_post_items",
    "reactions",  # likes + reposts + comments (the known ones)
    "reactions_unknown",
)
WIDTH = len(KIND_FIELDS)
KIND_FIELD = {name: index for index, name in enumerate(KIND_FIELDS)}  # row within a kind
MEMBERS = len(KINDS) * WIDTH  # members of the day's snapshot (0 where not read)
MEMBERS_KNOWN = MEMBERS + 1
FIELDS = MEMBERS + 2
SLOTS = 7 * 24  # weekday × hour
RECENT_KEPT = 64  # stacks found by their tuple of sources (see AggregateStore.stack)
MERGED_KEPT = 8  # scopes' merged copies kept (hourly rows, day stacks: see AggregateStore)
HOURLY: Any = HourlyStat.__table__  # type: ignore[attr-defined]


def field(kind: str, name: str) -> int:
    """The row of ``kind``'s ``name`` in a source's table."""
    return KINDS.index(kind) * WIDTH + KIND_FIELD[name]


@functools.cache
def fields(kinds: frozenset[str] | tuple[str, ...], name: str) -> list[int]:
    """The rows of ``name`` of each of ``kinds``."""
    return [field(kind, name) for kind in KINDS if kind in kinds]


@dataclass(frozen=True)
class SourceDays:
    """One source's day table, loaded for the ordinal days ``first``..``last``, kept as
    running sums: its columns are the days from ``start`` (the first with data, or
    ``last``+1 for none) to ``last``, and ``cum[:, i]`` sums the columns before ``i``. A
    period's sums are then two reads whatever its length, and sums over sources add their
    running sums (a constant offset vanishes in the differences)."""

    token: str
    first: int
    last: int
    start: int
    cum: np.ndarray  # (FIELDS, last − start + 2)
    last_reading: np.ndarray  # per column: the last column up to it with members, −1 none
    _er: dict[frozenset[str], np.ndarray] = dataclass_field(
        default_factory=dict, compare=False, repr=False
    )

    def er(self, kinds: frozenset[str]) -> np.ndarray:
        """Running sums of ``er_days`` over ``kinds`` (row 0: ERday, row 1: days counted),
        computed once per set of kinds."""
        found = self._er.get(kinds)
        if found is None:
            values = np.stack(er_days(self.values(), kinds))
            found = np.zeros((2, values.shape[1] + 1))
            np.cumsum(values, axis=1, out=found[:, 1:])
            self._er[kinds] = found
        return found

    def values(self) -> np.ndarray:
        """The day table itself (FIELDS × columns)."""
        return np.diff(self.cum, axis=1)

    @property
    def nbytes(self) -> int:
        return int(self.cum.nbytes + self.last_reading.nbytes)


@dataclass(frozen=True)
class DayStack:
    """Several sources' day tables side by side, each over the kinds it counts, so that a
    period's sums of every source, or the scope's sums of every day, are a few array reads
    instead of a loop over the sources. Source ``i``'s running sums are the columns
    ``offsets[i]``..``offsets[i] + lengths[i]`` of ``cum`` (its days from the ordinal
    ``starts[i]``); ``total`` sums every source's running sums (the rows of the kinds it
    counts, and its members) over the common days from ``origin``."""

    starts: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    cum: np.ndarray  # (FIELDS, Σ (lengths + 1))
    er: np.ndarray  # (2, Σ (lengths + 1)): running ERday over the source's kinds, days counted
    reading: np.ndarray  # per column: the source's last column up to it with members, −1 none
    origin: int
    total: np.ndarray  # (FIELDS, days + 1)
    er_total: np.ndarray  # (2, days + 1)

    @classmethod
    def build(cls, parts: Sequence[SourceDays], kinds: Sequence[frozenset[str]]) -> DayStack:
        lengths = np.array([p.cum.shape[1] - 1 for p in parts], dtype=np.intp)
        starts = np.array([p.start for p in parts], dtype=np.intp)
        offsets = np.cumsum(lengths + 1) - (lengths + 1)
        origin = int(starts.min()) if parts else 0
        days = int((starts + lengths).max()) - origin if parts else 0
        total, er_total = np.zeros((FIELDS, days + 1)), np.zeros((2, days + 1))
        for part, mine, start in zip(parts, kinds, starts.tolist(), strict=True):
            rows, first = _rows_of(mine), start - origin
            for into, at, running in ((total, rows, part.cum[rows]), (er_total, ER, part.er(mine))):
                end = first + running.shape[1]
                into[at, first:end] += running
                into[at, end:] += running[:, -1:]
        readings = [
            np.append(p.last_reading, p.last_reading[-1] if len(p.last_reading) else -1)
            for p in parts
        ]
        return cls(
            starts=starts,
            lengths=lengths,
            offsets=offsets,
            cum=np.concatenate([p.cum for p in parts], axis=1) if parts else np.zeros((FIELDS, 0)),
            er=np.concatenate([p.er(k) for p, k in zip(parts, kinds, strict=True)], axis=1)
            if parts
            else np.zeros((2, 0)),
            reading=np.concatenate(readings) if parts else np.zeros(0, dtype=np.intp),
            origin=origin,
            total=total,
            er_total=er_total,
        )

    def bounds(self, period: Period) -> tuple[np.ndarray, np.ndarray]:
        """Each source's columns (its own) before the period's first day and after its last."""
        begin = period.start.toordinal() - self.starts
        lo = np.clip(begin, 0, self.lengths)
        return lo, np.clip(begin + period.days, 0, self.lengths)

    def sums(self, period: Period) -> np.ndarray:
        """(sources, FIELDS): every source's sums over the period."""
        lo, hi = self.bounds(period)
        return (self.cum[:, self.offsets + hi] - self.cum[:, self.offsets + lo]).T

    def er_sums(self, period: Period) -> np.ndarray:
        """(sources, 2): every source's ERday sum over its kinds and the days counted."""
        lo, hi = self.bounds(period)
        sums = (self.er[:, self.offsets + hi] - self.er[:, self.offsets + lo]).T
        sums[:, 1] = np.round(sums[:, 1])
        return sums

    def members_at_end(self, period: Period) -> np.ndarray:
        """Every source's members of its last reading within the period (NaN: none)."""
        lo, hi = self.bounds(period)
        last = np.where(hi > lo, self.reading[self.offsets + np.maximum(hi - 1, 0)], -1)
        read = (hi > lo) & (last >= lo)
        at = (self.offsets + last)[read]
        members = np.full(len(lo), np.nan)
        members[read] = np.round(self.cum[MEMBERS, at + 1] - self.cum[MEMBERS, at])
        return members

    def columns(self, ordinals: np.ndarray) -> np.ndarray:
        """(sources, len(ordinals)): the column of ``cum`` before each ordinal day."""
        local = np.clip(ordinals[None, :] - self.starts[:, None], 0, self.lengths[:, None])
        return self.offsets[:, None] + local

    def running(self, period: Period, table: np.ndarray | None = None) -> np.ndarray:
        """``total`` (or ``er_total``) before each day of the period and after its last:
        ``np.diff`` gives the scope's sums of each day."""
        table = self.total if table is None else table
        days = np.arange(period.days + 1) + (period.start.toordinal() - self.origin)
        return table[:, np.clip(days, 0, table.shape[1] - 1)]

    @property
    def nbytes(self) -> int:
        arrays = (self.cum, self.er, self.reading, self.total, self.er_total)
        return sum(int(a.nbytes) for a in arrays)


ER = [0, 1]  # the rows of DayStack.er


@functools.cache
def _rows_of(kinds: frozenset[str]) -> list[int]:
    """The rows of a source's table that count for a scope: its kinds' and its members."""
    base = [field(kind, "present") for kind in KINDS if kind in kinds]
    return [*(b + i for b in base for i in range(WIDTH)), MEMBERS, MEMBERS_KNOWN]


@dataclass(frozen=True)
class SourceHours:
    """One source's HourlyStat rows over the ordinal days ``first``..``last``, by day."""

    token: str
    first: int
    last: int
    day: np.ndarray  # ordinal day of each row, ascending
    slot: np.ndarray  # kind index × SLOTS + weekday × 24 + hour
    count: np.ndarray
    reactions: np.ndarray
    reactions_items: np.ndarray

    @property
    def nbytes(self) -> int:
        arrays = (self.day, self.slot, self.count, self.reactions, self.reactions_items)
        return sum(int(a.nbytes) for a in arrays)


def known_int(value: float) -> int | None:
    """A summed count as an int; NaN (unknown) as None."""
    return None if value != value else int(value)


def known_float(value: float) -> float | None:
    """A ratio as a float; NaN (unknown) as None."""
    return None if value != value else value


def known_ints(values: np.ndarray) -> list[int | None]:
    """``known_int`` of each value, converted at once."""
    unknown = np.isnan(values)
    result: list[int | None] = np.where(unknown, 0.0, values).astype(np.int64).tolist()
    for index in np.flatnonzero(unknown).tolist():
        result[index] = None
    return result


def known_floats(values: np.ndarray) -> list[float | None]:
    """``known_float`` of each value, converted at once."""
    result: list[float | None] = values.tolist()
    for index in np.flatnonzero(np.isnan(values)).tolist():
        result[index] = None
    return result


def er_days(table: np.ndarray, kinds: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per day (column) of a source's day table: its ERday over ``kinds`` (the day's
    reactions / its members) and whether the day counts — members read and above 0, no
    reaction unknown (a day without publications is a known 0). Days not counted hold 0."""
    reactions = table[fields(kinds, "reactions")].sum(axis=0)
    unknown = table[fields(kinds, "reactions_unknown")].sum(axis=0)
    members = table[MEMBERS]
    counted = (table[MEMBERS_KNOWN] > 0) & (members > 0) & (unknown == 0)
    values = np.divide(reactions, members, out=np.zeros_like(members), where=counted)
    return values, counted


@dataclass(frozen=True)
class HourCube:
    """A scope's hourly rows (each source over the kinds it counts) summed per day and
    weekday × hour, kept as running sums over the days: a period's cells are two reads."""

    origin: int  # the ordinal day of the first row of sums
    cum: np.ndarray  # (days + 1, 3, SLOTS): publications, reactions, reactions known

    @classmethod
    def build(cls, parts: Sequence[SourceHours], kinds: Sequence[frozenset[str]]) -> HourCube:
        day = np.concatenate([p.day for p in parts]) if parts else np.empty(0, dtype=np.int64)
        if not len(day):
            return cls(0, np.zeros((1, 3, SLOTS)))
        origin, days = int(day.min()), int(day.max() - day.min()) + 1
        counted = [np.array([kind in mine for kind in KINDS], dtype=float) for mine in kinds]
        keep = np.concatenate([c[p.slot // SLOTS] for c, p in zip(counted, parts, strict=True)])
        cell = (day - origin) * SLOTS + np.concatenate([p.slot % SLOTS for p in parts])
        table = np.stack(
            [
                np.bincount(
                    cell,
                    weights=np.concatenate([getattr(p, name) for p in parts]) * keep,
                    minlength=days * SLOTS,
                ).reshape(days, SLOTS)
                for name in ("count", "reactions", "reactions_items")
            ],
            axis=1,
        )
        cum = np.zeros((days + 1, 3, SLOTS))
        np.cumsum(table, axis=0, out=cum[1:])
        return cls(origin, cum)

    def cells(self, period: Period) -> np.ndarray:
        """(3, SLOTS): publications, reactions and publications with reactions known per
        weekday × hour of the period."""
        last = self.cum.shape[0] - 1
        lo, hi = np.clip(
            (period.start.toordinal() - self.origin, period.end.toordinal() + 1 - self.origin),
            0,
            last,
        )
        return self.cum[hi] - self.cum[lo]

    @property
    def nbytes(self) -> int:
        return int(self.cum.nbytes)


class AggregateStore:
    """The per-source copies of one process, filed by (table, source id)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._bytes = 0
        # scopes' hourly rows merged and day tables stacked, by the copies they were made
        # of (a source's new copy: a new token)
        self._merged: OrderedDict[tuple, HourCube | DayStack] = OrderedDict()
        # (id of a tuple of sources, first, last) → (that tuple, its stack while kept)
        self._recent: dict[tuple[int, date, date], tuple[tuple, weakref.ref[DayStack]]] = {}

    def days(
        self, session: Session, sources: Sequence[SourceRef], first: date, last: date
    ) -> dict[int, SourceDays]:
        """Every source's day table covering ``first``..``last``."""
        return self._get(session, "days", sources, first.toordinal(), last.toordinal())

    def hours(
        self, session: Session, sources: Sequence[SourceRef], period: Period
    ) -> dict[int, SourceHours]:
        """Every source's hourly rows covering the period."""
        first, last = period.start.toordinal(), period.end.toordinal()
        return self._get(session, "hours", sources, first, last)

    def heat(self, session: Session, sources: Sequence[SourceRef], period: Period) -> np.ndarray:
        """``HourCube.cells`` of the sources' hourly rows over the period. The cube is kept
        for the last few scopes (sets of copies and kinds asked together): only a new copy
        or other kinds build it anew."""
        hours = self.hours(session, sources, period)
        parts = [hours[source.id] for source in sources]
        kinds = [source.kinds for source in sources]
        key = ("hours", *((p.token, p.first, p.last, k) for p, k in zip(parts, kinds, strict=True)))
        return self._kept(key, lambda: HourCube.build(parts, kinds)).cells(period)

    def stack(
        self, session: Session, sources: Sequence[SourceRef], first: date, last: date
    ) -> DayStack:
        """The sources' day tables covering ``first``..``last`` as one ``DayStack`` (each
        over its kinds), kept like the hourly cubes for the last few scopes. The same tuple
        of sources asked again for the same days (a resolved scope is reused while its rows,
        tokens included, are unchanged) gets its stack without the copies looked up again."""
        recent = (id(sources), first, last)
        found = self._recent.get(recent)
        if found is not None and found[0] is sources and (stack := found[1]()) is not None:
            return stack
        tables = self.days(session, sources, first, last)
        parts = [tables[source.id] for source in sources]
        kinds = [source.kinds for source in sources]
        key = ("days", *((p.token, p.first, p.last, k) for p, k in zip(parts, kinds, strict=True)))
        stack = self._kept(key, lambda: DayStack.build(parts, kinds))
        if isinstance(sources, tuple):  # immutable: its id stands for it while it is held
            with self._lock:
                if len(self._recent) >= RECENT_KEPT:
                    self._recent.clear()
                self._recent[recent] = (sources, weakref.ref(stack))
        return stack

    def _kept(self, key: tuple, build: Callable[[], Any]) -> Any:
        with self._lock:
            found = self._merged.get(key)
            if found is not None:
                self._merged.move_to_end(key)
                return found
        found = build()
        with self._lock:
            if key not in self._merged:
                self._merged[key] = found
                self._bytes += found.nbytes
            while len(self._merged) > MERGED_KEPT:
                self._bytes -= self._merged.popitem(last=False)[1].nbytes
        return found

    @property
    def nbytes(self) -> int:
        """What the copies hold now."""
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._merged.clear()
            self._recent.clear()
            self._bytes = 0

    def _get(
        self, session: Session, table: str, sources: Sequence[SourceRef], first: int, last: int
    ) -> dict[int, Any]:
        found: dict[int, Any] = {}
        spans: dict[tuple[int, int], list[SourceRef]] = {}
        with self._lock:
            for source in sources:
                if not source.stats_token:  # a copy without one could never be refreshed
                    raise ValueError(f"source {source.id} has no stats token")
                entry = self._entries.get((table, source.id))
                if entry is not None and entry.token == source.stats_token:
                    if entry.first <= first and entry.last >= last:
                        self._entries.move_to_end((table, source.id))
                        found[source.id] = entry
                        continue
                    span = (min(entry.first, first), max(entry.last, last))
                else:
                    span = (first, last)
                spans.setdefault(span, []).append(source)
        loader: Callable[..., dict[int, Any]] = _load_days if table == "days" else _load_hours
        for (lo, hi), stale in spans.items():
            tokens = {s.id: s.stats_token for s in stale}
            loaded = loader(session, tokens, lo, hi)
            found.update(loaded)
            self._put(table, loaded)
        return found

    def _put(self, table: str, loaded: dict[int, Any]) -> None:
        with self._lock:
            for source_id, entry in loaded.items():
                old = self._entries.pop((table, source_id), None)
                if old is not None:
                    self._bytes -= old.nbytes
                self._entries[(table, source_id)] = entry
                self._bytes += entry.nbytes
            while self._merged and self._bytes > self.budget:
                self._bytes -= self._merged.popitem(last=False)[1].nbytes
            while self._bytes > self.budget and len(self._entries) > len(loaded):
                _key, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes


_store: AggregateStore | None = None
_store_lock = threading.Lock()


def aggregate_store() -> AggregateStore:
    """This process's store (its budget from the settings)."""
    global _store
    with _store_lock:
        if _store is None:
            _store = AggregateStore(get_settings().analytics_memory_mb * 2**20)
        return _store


# --- loading --------------------------------------------------------------------------


def _rows(session: Session, query: Any, columns: int) -> np.ndarray:
    """A statement's numeric rows as a float array (NULL becomes NaN). Fetched as the
    driver's plain tuples: numpy converts those in C, but SQLAlchemy's rows one value at
    a time through Python (50 times slower for a year of a few hundred sources)."""
    result = session.execute(query)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    return np.array(rows, dtype=float) if rows else np.empty((0, columns))


def _by_source(rows: np.ndarray) -> dict[int, np.ndarray]:
    """Rows whose first column is the source id, split per source."""
    if not len(rows):
        return {}
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    ids, starts = np.unique(rows[:, 0], return_index=True)
    return {int(sid): part for sid, part in zip(ids, np.split(rows, starts[1:]), strict=True)}


def _kind_index(table: Any) -> Any:
    return case(*((table.c.kind == kind, index) for index, kind in enumerate(KINDS)), else_=-1)


_DAILY = ("count", *FIGURES, *(f"{f}_unknown" for f in FIGURES), "er_view_sum", "er_view_items")


def _load_days(
    session: Session, tokens: dict[int, str], first: int, last: int
) -> dict[int, SourceDays]:
    start, end = date.fromordinal(first), date.fromordinal(last)
    ids = sorted(tokens)
    daily = select(
        STAT.c.source_id,
        day_index(session, STAT.c.local_date, start),
        _kind_index(STAT),
        *(STAT.c[name] for name in _DAILY),
    ).where(ids_in(STAT.c.source_id, ids), in_days(STAT, start, end), STAT.c.kind.in_(KINDS))
    snapshots = select(
        SNAPSHOT.c.source_id, day_index(session, SNAPSHOT.c.local_date, start), SNAPSHOT.c.members
    ).where(
        ids_in(SNAPSHOT.c.source_id, ids),
        in_days(SNAPSHOT, start, end),
        SNAPSHOT.c.members.is_not(None),
    )
    stats = _by_source(_rows(session, daily, 3 + len(_DAILY)))
    readings = _by_source(_rows(session, snapshots, 3))
    empty = np.empty((0, 3))
    return {
        sid: _day_table(token, first, last, stats.get(sid), readings.get(sid, empty))
        for sid, token in tokens.items()
    }


def _day_table(
    token: str, first: int, last: int, stats: np.ndarray | None, readings: np.ndarray
) -> SourceDays:
    days = [readings[:, 1]] + ([] if stats is None else [stats[:, 1]])
    skip = int(min((d.min() for d in days if len(d)), default=last - first + 1))
    if skip:  # the table starts at the first day with data
        readings = readings.copy()
        readings[:, 1] -= skip
        if stats is not None:
            stats = stats.copy()
            stats[:, 1] -= skip
    table = np.zeros((FIELDS, last - first + 1 - skip))
    day = readings[:, 1].astype(np.intp)
    table[MEMBERS, day] = readings[:, 2]
    table[MEMBERS_KNOWN, day] = 1
    members = table[MEMBERS]
    if stats is not None:
        day, base = stats[:, 1].astype(np.intp), stats[:, 2].astype(np.intp) * WIDTH
        column = dict(zip(_DAILY, stats[:, 3:].T, strict=True))

        def put(name: str, values: Any) -> None:
            table[base + KIND_FIELD[name], day] = values

        put("present", 1)
        for name in ("count", "er_view_items", *(f"{f}_unknown" for f in FIGURES)):
            put(name, column[name])
        for name in FIGURES:
            known = ~np.isnan(column[name])
            put(name, np.where(known, column[name], 0))
            put(f"{name}_known", known)
        put("er_view_sum", np.nan_to_num(column["er_view_sum"]))
        for kind in KINDS:
            block = table[KINDS.index(kind) * WIDTH : (KINDS.index(kind) + 1) * WIDTH]
            row = dict(zip(KIND_FIELDS, block, strict=True))
            row["reactions"][:] = row["likes"] + row["reposts"] + row["comments"]
            row["reactions_unknown"][:] = (
                row["likes_unknown"] + row["reposts_unknown"] + row["comments_unknown"]
            )
            # the kind's publications of a day whose members and reactions are known
            counted = (row["present"] > 0) & (members > 0) & (row["reactions_unknown"] == 0)
            row["er_post_sum"][:] = np.divide(
                row["reactions"], members, out=np.zeros_like(members), where=counted
            )
            row["er_post_items"][:] = np.where(counted, row["count"], 0)
    read = np.where(table[MEMBERS_KNOWN] > 0, np.arange(table.shape[1]), -1)
    last_reading = np.maximum.accumulate(read) if len(read) else read
    cum = np.zeros((FIELDS, table.shape[1] + 1))
    np.cumsum(table, axis=1, out=cum[:, 1:])
    return SourceDays(token, first, last, first + skip, cum, last_reading)


def _load_hours(
    session: Session, tokens: dict[int, str], first: int, last: int
) -> dict[int, SourceHours]:
    start, end = date.fromordinal(first), date.fromordinal(last)
    query = select(
        HOURLY.c.source_id,
        day_index(session, HOURLY.c.local_date, start),
        _kind_index(HOURLY),
        HOURLY.c.hour,
        HOURLY.c.count,
        HOURLY.c.reactions,
        HOURLY.c.reactions_items,
    ).where(
        ids_in(HOURLY.c.source_id, sorted(tokens)),
        in_days(HOURLY, start, end),
        HOURLY.c.kind.in_(KINDS),
    )
    rows = _by_source(_rows(session, query, 7))
    empty = np.empty((0, 7))
    return {
        sid: _hour_rows(token, first, last, rows.get(sid, empty)) for sid, token in tokens.items()
    }


def _hour_rows(token: str, first: int, last: int, rows: np.ndarray) -> SourceHours:
    rows = rows[np.argsort(rows[:, 1], kind="stable")]
    day = rows[:, 1].astype(np.int64) + first
    weekday = (day - 1) % 7  # ordinal 1 (0001-01-01) was a Monday
    slot = rows[:, 2].astype(np.int64) * SLOTS + weekday * 24 + rows[:, 3].astype(np.int64)
    return SourceHours(token, first, last, day, slot, rows[:, 4], rows[:, 5], rows[:, 6])
