"""The in-process copy of the day aggregates (``analytics.store``): a dashboard computed
before a collection and after it in the same process shows the new numbers (the copy is
filed under the source's stats token, which collection renews); a longer period extends a
copy; the memory budget drops the least recently used copies; a source without a token is
refused rather than cached forever; a scope's stack reads what each source's table holds."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlmodel import Session

from socstat.services.analytics import Period, Scope, heatmap, totals
from socstat.services.analytics.scope import SourceRef, resolve_scope
from socstat.services.analytics.store import (
    MEMBERS,
    MEMBERS_KNOWN,
    AggregateStore,
    DayStack,
    SourceDays,
    _day_table,
    aggregate_store,
    er_days,
    fields,
)
from tests.services.analytics.conftest import People, add_source, collect, item, msk

DAY = date(2026, 3, 31)
WEEK = Period.custom(DAY - timedelta(days=6), DAY)


def test_a_collection_shows_in_the_next_call_of_the_same_process(
    session: Session, people: People
) -> None:
    source = add_source(session, people.ann, "1", history_start=date(2026, 3, 1))
    collect(
        session,
        source,
        at=msk(DAY, 12),
        members=1000,
        items=(item("1", msk(DAY, 9), likes=10, reposts=1, comments=2, views=90),),
    )
    before = totals(session, actor=people.ann, scope=Scope(), period=WEEK).current
    assert (before.posts, before.likes.value, before.members_end.value) == (1, 10, 1000)
    token = source.stats_token

    collect(
        session,
        source,
        at=msk(DAY, 18),
        members=1005,
        items=(
            item("1", msk(DAY, 9), likes=15, reposts=1, comments=2, views=120),
            item("2", msk(DAY, 17), likes=4, reposts=0, comments=0, views=40),
        ),
    )
    session.refresh(source)
    assert source.stats_token != token
    after = totals(session, actor=people.ann, scope=Scope(), period=WEEK).current
    assert (after.posts, after.likes.value, after.views.value) == (2, 19, 160)
    assert after.members_end.value == 1005
    cells = heatmap(session, actor=people.ann, scope=Scope(), period=WEEK).cells
    assert sum(c.publications for c in cells) == 2


def test_a_longer_period_extends_the_copy(session: Session, people: People) -> None:
    source = add_source(session, people.ann, "1", history_start=date(2025, 4, 1))
    old = DAY - timedelta(days=200)
    collect(
        session,
        source,
        at=msk(DAY, 12),
        members=1000,
        items=(
            item("1", msk(old, 9), likes=7, reposts=0, comments=0),
            item("2", msk(DAY, 9), likes=3, reposts=0, comments=0),
        ),
    )
    store = aggregate_store()
    week = totals(session, actor=people.ann, scope=Scope(), period=WEEK).current
    year = Period.custom(DAY - timedelta(days=364), DAY)
    whole = totals(session, actor=people.ann, scope=Scope(), period=year).current
    assert (week.posts, week.likes.value) == (1, 3)
    assert (whole.posts, whole.likes.value) == (2, 10)
    (ref,) = resolve_scope(session, actor=people.ann, scope=Scope()).sources
    days = store.days(session, [ref], year.previous().start, DAY)[ref.id]
    assert days.first <= year.previous().start.toordinal() and days.last >= DAY.toordinal()


def test_the_budget_drops_the_least_recently_used(session: Session, people: People) -> None:
    sources = [
        add_source(session, people.ann, str(n), history_start=date(2026, 3, 1)) for n in (1, 2, 3)
    ]
    for source in sources:
        collect(session, source, at=msk(DAY, 12), members=100, items=())
    refs = resolve_scope(session, actor=people.ann, scope=Scope()).sources
    one = AggregateStore(budget_bytes=10**9).days(session, refs[:1], WEEK.start, WEEK.end)
    size = one[refs[0].id].nbytes
    store = AggregateStore(budget_bytes=2 * size)
    for ref in refs:
        store.days(session, [ref], WEEK.start, WEEK.end)
    assert store.nbytes == 2 * size
    assert set(store._entries) == {("days", refs[1].id), ("days", refs[2].id)}
    store.days(session, [refs[1]], WEEK.start, WEEK.end)  # used: now the most recent
    store.days(session, [refs[0]], WEEK.start, WEEK.end)
    assert set(store._entries) == {("days", refs[1].id), ("days", refs[0].id)}


def test_a_source_without_a_token_is_refused(session: Session, people: People) -> None:
    ref = SourceRef(1, "a", "a", "1", "https://vk.com/a", "active", frozenset({"post"}))
    with pytest.raises(ValueError, match="no stats token"):
        AggregateStore(budget_bytes=10**6).days(session, [ref], WEEK.start, WEEK.end)


def _table(first: int, last: int, days: range, kinds: tuple[int, ...], seed: int) -> SourceDays:
    """A source's day table from DailyStat-shaped rows (``days`` from ``first``, counted
    from 0) with members read every other day."""
    rng = np.random.default_rng(seed)
    stats = np.array(
        [
            [1, day, kind, *rng.integers(1, 9, 1), *rng.integers(0, 50, 4), *rng.integers(0, 2, 4),
             rng.random(), 1]
            for day in days
            for kind in kinds
        ],
        dtype=float,
    ).reshape(-1, 14)  # fmt: skip
    readings = np.array([[1, day, 1000 + day] for day in days[::2]], dtype=float).reshape(-1, 3)
    return _day_table("t", first, last, stats if len(stats) else None, readings)


def test_a_stack_gives_each_source_what_its_own_table_gives() -> None:
    """Sources with different histories (every day; a fortnight inside; none) stacked:
    each one's period sums, ERday and last members reading, and the scope's sums of every
    day, equal what its own table gives for the kinds it counts."""
    start = date(2026, 1, 1)
    first, last = start.toordinal(), start.toordinal() + 59
    parts = [
        _table(first, last, range(60), (0, 2), seed=1),
        _table(first, last, range(30, 46), (0, 1, 2), seed=2),
        _table(first, last, range(0), (), seed=3),
    ]
    kinds = [frozenset({"post", "clip"}), frozenset({"post", "video"}), frozenset({"post"})]
    stack = DayStack.build(parts, kinds)
    for lo, hi in ((0, 6), (25, 34), (40, 59), (0, 59), (46, 50)):
        period = Period.custom(start + timedelta(days=lo), start + timedelta(days=hi))
        ordinals = range(period.start.toordinal(), period.end.toordinal() + 1)
        day_sums = np.zeros((len(fields(frozenset({"post"}), "count")), period.days))
        for row, (part, mine) in enumerate(zip(parts, kinds, strict=True)):
            values = part.values()
            columns = [d - part.start for d in ordinals if 0 <= d - part.start < values.shape[1]]
            assert np.allclose(stack.sums(period)[row], values[:, columns].sum(axis=1))
            er_day = np.stack(er_days(values, mine))[:, columns].sum(axis=1)
            assert np.allclose(stack.er_sums(period)[row], er_day)
            read = [c for c in columns if values[MEMBERS_KNOWN, c] > 0]
            members = values[MEMBERS, read[-1]] if read else np.nan
            assert np.allclose(stack.members_at_end(period)[row], members, equal_nan=True)
            for day, ordinal in enumerate(ordinals):
                if 0 <= ordinal - part.start < values.shape[1]:
                    day_sums[0, day] += values[
                        fields(mine & {"post"}, "count"), ordinal - part.start
                    ].sum()
        running = stack.running(period)[fields(frozenset({"post"}), "count")]
        assert np.allclose(np.diff(running, axis=1), day_sums)
