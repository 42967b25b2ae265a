"""HourlyStat (the heatmap's pre-aggregate) and analytics' in-process day tables (every kind
of a source's day, for ERday and ERpost) equal what the content items give, and collection
keeps them so — the day tables reloaded under each new stats token: new, updated, deleted
and restored posts, unknown reactions. The dashboard's shared reads give the numbers of
the single calls."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from socstat.models import ContentItem, HourlyStat, Source
from socstat.services.analytics import (
    Figure,
    Period,
    Scope,
    dashboard,
    heatmap,
    members_series,
    top_publications,
    totals,
    totals_by_source,
)
from socstat.services.analytics.scope import SourceRef
from socstat.services.analytics.store import aggregate_store, field
from socstat.settings import get_settings
from tests.services.analytics.conftest import People, add_source, collect, item, msk

PERIOD = Period.custom(date(2026, 3, 23), date(2026, 4, 5))


def _raw_hours(session: Session) -> dict[tuple, tuple[int, int, int]]:
    """(source, day, kind, local hour) → count, known reactions, items with them known."""
    zone = get_settings().tz
    found: dict[tuple, tuple[int, int, int]] = {}
    for row in session.exec(select(ContentItem).where(ContentItem.deleted_at.is_(None))).all():
        key = (row.source_id, row.local_date, row.kind, row.published_at.astimezone(zone).hour)
        figures = (row.likes, row.reposts, row.comments)
        known = None not in figures
        count, total, items = found.get(key, (0, 0, 0))
        found[key] = (count + 1, total + (sum(figures) if known else 0), items + known)
    return found


def _stored_hours(session: Session) -> dict[tuple, tuple[int, int, int]]:
    return {
        (r.source_id, r.local_date, r.kind, r.hour): (r.count, r.reactions, r.reactions_items)
        for r in session.exec(select(HourlyStat)).all()
    }


def _raw_days(session: Session) -> dict[tuple, dict[str, tuple[int, int, int]]]:
    """(source, day) → per kind published: count, known reactions, unknown reaction figures."""
    found: dict[tuple, dict[str, tuple[int, int, int]]] = {}
    for row in session.exec(select(ContentItem).where(ContentItem.deleted_at.is_(None))).all():
        kinds = found.setdefault((row.source_id, row.local_date), {})
        figures = (row.likes, row.reposts, row.comments)
        count, total, unknown = kinds.get(row.kind, (0, 0, 0))
        kinds[row.kind] = (
            count + 1,
            total + sum(f or 0 for f in figures),
            unknown + figures.count(None),
        )
    return found


_DAY_FIGURES = ("count", "reactions", "reactions_unknown")


def _stored_days(session: Session) -> dict[tuple, dict[str, tuple[int, int, int]]]:
    """Per (source, day) with publications, per kind: count, reactions, unknown figures —
    as this process's day tables hold them (the sources as the collection left them)."""
    sources = session.exec(select(Source).order_by(Source.id)).all()
    refs = [
        SourceRef(s.id, s.name, "", "", "", s.status, frozenset(), s.stats_token) for s in sources
    ]
    tables = aggregate_store().days(session, refs, PERIOD.start, PERIOD.end)
    stored: dict[tuple, dict[str, tuple[int, int, int]]] = {}
    for ref in refs:
        days = tables[ref.id]
        for column, values in enumerate(days.values().T):
            kinds = {
                kind: tuple(
                    int(values[field(kind, name)])
                    for name in ("count", "reactions", "reactions_unknown")
                )
                for kind in ("post", "video", "clip")
            }
            kinds = {k: v for k, v in kinds.items() if v[0]}
            if kinds:
                stored[(ref.id, date.fromordinal(days.start + column))] = kinds
    return stored


def _raw_heatmap(session: Session, period: Period) -> dict[tuple[int, int], tuple]:
    """Busy (weekday, hour) cells straight from the items: publications, mean reactions."""
    zone = get_settings().tz
    cells: dict[tuple[int, int], list] = {}
    for row in session.exec(select(ContentItem).where(ContentItem.deleted_at.is_(None))).all():
        if not period.start <= row.local_date <= period.end:
            continue
        local = row.published_at.astimezone(zone)
        cell = cells.setdefault((local.weekday(), local.hour), [0, 0, 0])
        cell[0] += 1
        figures = (row.likes, row.reposts, row.comments)
        if None not in figures:
            cell[1], cell[2] = cell[1] + sum(figures), cell[2] + 1
    return {k: (n, total / known if known else None) for k, (n, total, known) in cells.items()}


def test_hourly_stat_follows_new_updated_deleted_posts(session, people: People) -> None:
    source = add_source(session, people.ann, "1", history_start=date(2026, 3, 23))
    other = add_source(session, people.ann, "2", history_start=date(2026, 3, 23))
    collect(
        session,
        source,
        at=msk(date(2026, 3, 31), 12),
        members=1000,
        items=(
            item("1", msk(date(2026, 3, 30), 9, 10), likes=10, reposts=1, comments=2, views=90),
            item("2", msk(date(2026, 3, 30), 9, 50), likes=4, reposts=0, comments=0, views=None),
            item("3", msk(date(2026, 3, 30), 23, 59), likes=None, reposts=3, comments=1),
            item("4", msk(date(2026, 3, 31), 0, 1), likes=7, reposts=7, comments=7, views=10),
            item("-1_5", msk(date(2026, 3, 31), 0, 20), "clip", likes=2, reposts=0, comments=0),
        ),
    )
    collect(
        session,
        other,
        at=msk(date(2026, 3, 31), 12),
        members=None,
        items=(item("1", msk(date(2026, 3, 30), 9, 5), likes=1, reposts=1, comments=1),),
    )
    assert _stored_hours(session) == _raw_hours(session)
    assert (source.id, date(2026, 3, 30), "post", 9) in _stored_hours(session)
    assert _stored_days(session) == _raw_days(session)
    assert _stored_days(session)[(source.id, date(2026, 3, 31))] == {
        "post": (1, 21, 0),
        "clip": (1, 2, 0),
    }

    # updated figures (one becomes known), a new post, a deleted one
    collect(
        session,
        source,
        at=msk(date(2026, 4, 1), 12),
        members=1010,
        items=(
            item("3", msk(date(2026, 3, 30), 23, 59), likes=5, reposts=3, comments=1),
            item("1", msk(date(2026, 3, 30), 9, 10), likes=20, reposts=1, comments=2, views=95),
            item("6", msk(date(2026, 4, 1), 11), likes=0, reposts=0, comments=0, views=0),
        ),
        deleted=("2",),
    )
    assert _stored_hours(session) == _raw_hours(session)
    assert _stored_hours(session)[(source.id, date(2026, 3, 30), "post", 9)] == (1, 23, 1)
    assert _stored_days(session) == _raw_days(session)

    # the deleted post comes back; every post of a day deleted leaves no row for it
    collect(
        session,
        source,
        at=msk(date(2026, 4, 2), 12),
        members=1020,
        items=(item("2", msk(date(2026, 3, 30), 9, 50), likes=4, reposts=0, comments=0),),
        deleted=("6",),
    )
    stored = _stored_hours(session)
    assert stored == _raw_hours(session)
    assert (source.id, date(2026, 4, 1), "post", 11) not in stored
    assert _stored_days(session) == _raw_days(session)
    assert (source.id, date(2026, 4, 1)) not in _stored_days(session)

    cells = heatmap(session, actor=people.ann, scope=Scope(), period=PERIOD).cells
    busy = {(c.weekday, c.hour): (c.publications, c.average_reactions) for c in cells}
    busy = {k: v for k, v in busy.items() if v[0]}
    assert busy == _raw_heatmap(session, PERIOD)
    # 30.03 is a Monday: posts 1, 2 (source 1) and 1 (source 2) at 9 h, all known
    assert busy[(0, 9)] == (3, (23 + 4 + 3) / 3)
    assert busy[(0, 23)] == (1, 9.0)  # post 3, its likes known since the second collection


def test_heatmap_counts_unknown_reactions_as_publications_only(session, people) -> None:
    source = add_source(session, people.ann, "1", history_start=date(2026, 3, 23))
    collect(
        session,
        source,
        at=msk(date(2026, 3, 31), 12),
        members=1000,
        items=(item("1", msk(date(2026, 3, 31), 8), likes=None, reposts=None, comments=None),),
    )
    cells = heatmap(session, actor=people.ann, scope=Scope(), period=PERIOD).cells
    (busy,) = [c for c in cells if c.publications]
    assert (busy.weekday, busy.hour, busy.publications, busy.average_reactions) == (1, 8, 1, None)
    assert _stored_hours(session) == _raw_hours(session)


def test_top_publications_total_is_the_live_items(session, people) -> None:
    source = add_source(session, people.ann, "1", history_start=date(2026, 3, 23))
    collect(
        session,
        source,
        at=msk(date(2026, 3, 31), 12),
        members=1000,
        items=tuple(
            item(str(n), msk(date(2026, 3, 30), n), likes=n, reposts=0, comments=0)
            for n in range(1, 8)
        ),
    )
    collect(session, source, at=msk(date(2026, 3, 31), 13), members=1000, deleted=("3",))
    page = top_publications(
        session, actor=people.ann, scope=Scope(), period=PERIOD, page=2, page_size=4
    )
    assert page.total == 6 and page.pages == 2
    assert [p.likes for p in page.items] == [2, 1]
    assert page.items[0].source_name == "Сообщество 1"


def test_dashboard_blocks_equal_the_single_calls(session, people) -> None:
    """The dashboard reads both periods in one pass and members off its day series: the
    same numbers as each block asked for on its own."""
    source = add_source(session, people.ann, "1", history_start=date(2026, 3, 16))
    collect(
        session,
        source,
        at=msk(date(2026, 3, 25), 12),
        members=900,
        items=(item("1", msk(date(2026, 3, 22), 10), likes=3, reposts=1, comments=None),),
    )
    collect(
        session,
        source,
        at=msk(date(2026, 4, 2), 12),
        members=1000,
        items=(
            item("2", msk(date(2026, 3, 30), 9), likes=10, reposts=1, comments=2, views=90),
            item("3", msk(date(2026, 4, 1), 19), likes=None, reposts=3, comments=1),
        ),
    )
    period = Period.custom(date(2026, 3, 28), date(2026, 4, 3))
    board = dashboard(session, actor=people.ann, scope=Scope(), period=period)
    alone = totals(session, actor=people.ann, scope=Scope(), period=period)
    assert board.totals == alone
    assert board.totals.previous.likes == Figure(3, 0)
    assert board.totals.current.members_delta == Figure(100, 0)
    assert (
        board.members == members_series(session, actor=people.ann, scope=Scope(), period=period)[0]
    )
    assert board.heatmap == heatmap(session, actor=people.ann, scope=Scope(), period=period)
    top = top_publications(session, actor=people.ann, scope=Scope(), period=period, page_size=10)
    assert board.top == top and top.total == 2
    (line,) = totals_by_source(session, actor=people.ann, scope=Scope(), period=period)
    assert (board.sources[0].current, board.sources[0].previous) == (line.current, line.previous)
    # one day a run: 03.04 is after the last collection (02.04), so unknown, not 0
    assert board.sources[0].sparkline == (0, 0, 1, 0, 1, 0, None)
    # 60 days in runs of two: before the history (from 16.03) unknown; 22.03, 30.03, 01.04
    sixty = Period.custom(date(2026, 2, 3), date(2026, 4, 3))
    long = dashboard(session, actor=people.ann, scope=Scope(), period=sixty).sources[0]
    assert long.sparkline == (None,) * 20 + (0, 0, 0, 1, 0, 0, 0, 1, 1, 0)


def test_top_publications_total_counts_only_the_kinds_in_scope(session, people) -> None:
    """The dashboard's top page takes its total from the period's sums: with only posts
    chosen, the source's clips are not among them."""
    source = add_source(session, people.ann, "1", history_start=date(2026, 3, 23))
    collect(
        session,
        source,
        at=msk(date(2026, 3, 31), 12),
        members=1000,
        items=(
            item("1", msk(date(2026, 3, 30), 9), likes=5, reposts=0, comments=0),
            item("-1_2", msk(date(2026, 3, 30), 10), "clip", likes=7, reposts=0, comments=0),
        ),
    )
    posts = Scope(kinds=("post",))
    board = dashboard(session, actor=people.ann, scope=posts, period=PERIOD)
    alone = top_publications(session, actor=people.ann, scope=posts, period=PERIOD)
    assert board.totals.current.publications == 1
    assert board.top.total == alone.total == 1
