"""Totals, ER and the day series on a hand-made history written through the write path.

Source «1» (ann's; history from 25.03.2026), collected three times (Moscow time):
- 29.03 12:00, members 900: a post of 28.03 10:00 — 7/1/2, 50 views;
- 31.03 12:00, members 1000: p0 30.03 09:00 — 100/0/0, 1000 views; p1 31.03 10:00 — 10/2/3, 200;
- 01.04 12:00, members 1100: p2 31.03 23:30 — 5/0/0, views not given; p3 01.04 00:30 — 20/4/6, 300.
"""

from __future__ import annotations

from datetime import date

import pytest

from socstat.services.analytics import (
    Figure,
    Granularity,
    Period,
    PublicationSort,
    Ratio,
    Scope,
    day_series,
    heatmap,
    members_series,
    percent_change,
    top_publications,
    totals,
    totals_by_kind,
    totals_by_source,
)
from tests.services.analytics.conftest import People, add_source, collect, item, msk

D = date(2026, 3, 30)
PERIOD = Period.custom(date(2026, 3, 30), date(2026, 4, 1))


def post(external_id: str, at, likes, reposts, comments, views):  # type: ignore[no-untyped-def]
    return item(external_id, at, likes=likes, reposts=reposts, comments=comments, views=views)


@pytest.fixture
def history(session, people: People):
    source = add_source(session, people.ann, "1", history_start=date(2026, 3, 25))
    collect(
        session,
        source,
        at=msk(date(2026, 3, 29), 12),
        members=900,
        items=(post("9", msk(date(2026, 3, 28), 10), 7, 1, 2, 50),),
    )
    collect(
        session,
        source,
        at=msk(date(2026, 3, 31), 12),
        members=1000,
        items=(
            post("10", msk(date(2026, 3, 30), 9), 100, 0, 0, 1000),
            post("11", msk(date(2026, 3, 31), 10), 10, 2, 3, 200),
        ),
    )
    collect(
        session,
        source,
        at=msk(date(2026, 4, 1), 12),
        members=1100,
        items=(
            post("12", msk(date(2026, 3, 31), 23, 30), 5, 0, 0, None),
            post("13", msk(date(2026, 4, 1), 0, 30), 20, 4, 6, 300),
        ),
    )
    return source


def test_totals_and_er_by_hand(session, people, history) -> None:
    result = totals(session, actor=people.ann, scope=Scope(), period=PERIOD)
    now = result.current
    assert (now.posts, now.videos, now.clips, now.publications) == (4, 0, 0, 4)
    assert now.likes == Figure(135, 0)
    assert now.reposts == Figure(6, 0) and now.comments == Figure(9, 0)
    assert now.views == Figure(1500, 1)  # p2's views were not given
    # ERpost: p0's day has no members reading (unknown); p1 15/1000, p2 5/1000, p3 30/1100
    assert now.er_post.items == 3 and now.er_post.unknown == 1
    assert now.er_post.value == pytest.approx((0.015 + 0.005 + 30 / 1100) / 3)
    # ERview: p0 0.1, p1 0.075, p3 0.1; p2 unknown
    assert now.er_view.value == pytest.approx(0.275 / 3)
    assert (now.er_view.items, now.er_view.unknown) == (3, 1)
    # ERday: 31.03 (15 + 5) / 1000, 01.04 30 / 1100; 30.03 has no members reading
    assert now.er_day.value == pytest.approx((0.02 + 30 / 1100) / 2)
    assert (now.er_day.items, now.er_day.unknown) == (2, 1)
    assert now.members_end == Figure(1100, 0)
    assert now.members_delta == Figure(200, 0)  # 1100 now vs 900 at the end of 27–29.03

    before = result.previous
    assert before.period == Period.custom(date(2026, 3, 27), date(2026, 3, 29))
    assert (before.posts, before.likes, before.views) == (1, Figure(7, 0), Figure(50, 0))
    assert before.er_post == Ratio(None, 0, 1)  # 28.03: no members reading
    assert before.er_day == Ratio(0.0, 1, 2)  # 29.03: nothing published, a known 0
    assert before.members_end == Figure(900, 0)
    assert before.members_delta == Figure(None, 1)  # nothing read in 24–26.03
    assert percent_change(now.posts, before.posts) == 300.0
    assert percent_change(1, 0) is None and percent_change(None, 3) is None


def test_unknown_figures_and_members_make_er_unknown(session, people, history) -> None:
    other = add_source(session, people.ann, "2", history_start=date(2026, 3, 30))
    collect(
        session,
        other,
        at=msk(date(2026, 3, 31), 12),
        members=None,  # VK did not say
        items=(item("1", msk(date(2026, 3, 31), 8), likes=None, reposts=1, comments=0, views=0),),
    )
    rows = totals_by_source(session, actor=people.ann, scope=Scope(), period=PERIOD)
    mine = {row.source.external_id: row.current for row in rows}["2"]
    assert mine.likes == Figure(None, 1) and mine.reposts == Figure(1, 0)
    assert mine.views == Figure(0, 0)
    assert mine.er_post == Ratio(None, 0, 1) and mine.er_view == Ratio(None, 0, 1)
    assert mine.er_day == Ratio(None, 0, 2)  # covered 30–31.03, no members known
    assert mine.members_end == Figure(None, 1) and mine.members_delta == Figure(None, 1)
    both = totals(session, actor=people.ann, scope=Scope(), period=PERIOD).current
    assert both.likes == Figure(135, 1) and both.members_end == Figure(1100, 1)
    assert both.members_delta == Figure(200, 1)


def test_day_series_known_zero_vs_unknown_and_time_zone(session, people, history) -> None:
    period = Period.custom(date(2026, 3, 23), date(2026, 4, 2))
    series = day_series(session, actor=people.ann, scope=Scope(), period=period)
    by_day = {p.start: p for p in series.points}
    assert len(series.points) == 11 and series.first_day == date(2026, 3, 25)
    posts = [by_day[d].posts for d in period.dates()]
    # 23–24.03 before the history, 02.04 after the last collection: unknown, not 0.
    # The post at 23:30 Moscow time on 31.03 counts on 31.03 (20:30 UTC), 00:30 on 01.04.
    assert posts == [None, None, 0, 0, 0, 1, 0, 1, 2, 1, None]
    assert by_day[date(2026, 3, 25)].likes == Figure(0, 0)
    assert by_day[date(2026, 3, 23)].likes == Figure(None, 0)
    assert by_day[date(2026, 3, 31)].views == Figure(200, 1)
    assert by_day[date(2026, 3, 31)].er_day == pytest.approx(0.02)
    assert by_day[date(2026, 3, 29)].er_day == 0.0 and by_day[date(2026, 3, 28)].er_day is None
    assert [by_day[d].members for d in (date(2026, 3, 29), date(2026, 3, 30))] == [900, None]
    assert not by_day[date(2026, 3, 24)].complete and by_day[date(2026, 3, 25)].complete


def test_week_month_quarter_series(session, people, history) -> None:
    period = Period.custom(date(2026, 3, 25), date(2026, 4, 1))
    weeks = day_series(
        session, actor=people.ann, scope=Scope(), period=period, granularity=Granularity.WEEK
    )
    assert [(p.start, p.end, p.posts, p.members) for p in weeks.points] == [
        (date(2026, 3, 25), date(2026, 3, 29), 1, 900),  # the week of 23.03, cut to the period
        (date(2026, 3, 30), date(2026, 4, 1), 4, 1100),
    ]
    assert weeks.points[1].likes == Figure(135, 0) and weeks.points[1].views == Figure(1500, 1)
    for granularity in (Granularity.MONTH, Granularity.QUARTER):  # 31.03 ends March and Q1
        buckets = day_series(
            session, actor=people.ann, scope=Scope(), period=period, granularity=granularity
        ).points
        assert [(p.start, p.end, p.posts) for p in buckets] == [
            (date(2026, 3, 25), date(2026, 3, 31), 4),
            (date(2026, 4, 1), date(2026, 4, 1), 1),
        ]


def test_by_kind_and_members_series(session, people, history) -> None:
    kinds = totals_by_kind(session, actor=people.ann, scope=Scope(kinds=("post",)), period=PERIOD)
    assert [(k.kind, k.current.publications, k.previous.publications) for k in kinds] == [
        ("post", 4, 1)
    ]
    clips = totals(session, actor=people.ann, scope=Scope(kinds=("clip",)), period=PERIOD)
    assert clips.current.posts is None and clips.current.clips == 0
    lines = members_series(session, actor=people.ann, scope=Scope(), period=PERIOD)
    assert [p.members for p in lines[0].points] == [None, 1000, 1100]
    assert lines[1].source_id == history.id


def test_top_publications_sorted_paginated_without_deleted(session, people, history) -> None:
    def page(sort: str, **kw: object) -> list[str]:
        result = top_publications(
            session, actor=people.ann, scope=Scope(), period=PERIOD, sort=sort, **kw
        )
        return [p.url.rsplit("_", 1)[-1] for p in result.items]

    assert page(PublicationSort.LIKES) == ["10", "13", "11", "12"]
    assert page(PublicationSort.ER_VIEW) == ["13", "10", "11", "12"]  # unknown last
    assert page(PublicationSort.ER_POST) == ["13", "11", "12", "10"]
    assert page(PublicationSort.PUBLISHED, descending=False) == ["10", "11", "12", "13"]
    assert page(PublicationSort.LIKES, page=2, page_size=3) == ["12"]
    first = top_publications(session, actor=people.ann, scope=Scope(), period=PERIOD).items[0]
    assert first.url == "https://vk.com/wall-1_10" and first.source_name == "Сообщество 1"
    assert first.er_post is None and first.er_view == pytest.approx(0.1)
    collect(session, history, at=msk(date(2026, 4, 1), 13), members=1100, deleted=("10",))
    assert page(PublicationSort.LIKES) == ["13", "11", "12"]
    assert totals(session, actor=people.ann, scope=Scope(), period=PERIOD).current.posts == 3


def test_heatmap_in_moscow_time(session, people, history) -> None:
    cells = heatmap(session, actor=people.ann, scope=Scope(), period=PERIOD).cells
    assert len(cells) == 7 * 24
    busy = {
        (c.weekday, c.hour): (c.publications, c.average_reactions) for c in cells if c.publications
    }
    assert busy == {(0, 9): (1, 100.0), (1, 10): (1, 15.0), (1, 23): (1, 5.0), (2, 0): (1, 30.0)}


def test_other_users_source_is_refused_everywhere(session, people, history) -> None:
    from socstat.services.authz import PermissionDenied

    scope = Scope(source_ids=(history.id,))
    for call in (totals, totals_by_source, day_series, top_publications, heatmap):
        with pytest.raises(PermissionDenied):
            call(session, actor=people.bob, scope=scope, period=PERIOD)
    assert totals(session, actor=people.dora, scope=scope, period=PERIOD).current.posts == 4
