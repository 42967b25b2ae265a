"""The dashboard call and its URL filters: round trip, bad values, refused filters, rollup,
the per-source table's order and its CSV."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl

import pytest

from socstat.services.analytics import (
    Period,
    Scope,
    dashboard,
    dashboard_for,
    parse_filters,
    sorted_lines,
    source_table_csv,
)
from socstat.services.authz import PermissionDenied
from tests.services.analytics.conftest import People, add_source, collect, item, msk

TODAY = date(2026, 4, 1)
PERIOD = Period.custom(date(2026, 3, 30), TODAY)


def test_filters_round_trip_through_the_url() -> None:
    query = "from=2026-03-01&to=2026-03-31&types=post,clip&sources=12,15&tags=конкуренты"
    query += "&sort=likes&desc=1"
    filters, errors = parse_filters(dict(parse_qsl(query)), today=TODAY)
    assert errors == []
    assert (filters.period.start, filters.period.end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert filters.kinds == ("post", "clip") and filters.source_ids == (12, 15)
    assert filters.tags == ("конкуренты",) and (filters.sort, filters.descending) == ("likes", True)
    again, _ = parse_filters(dict(parse_qsl(filters.query())), today=TODAY)
    assert again == filters
    preset, _ = parse_filters({"period": "last_month"}, today=TODAY)
    assert preset.query() == "period=last_month" and preset.period.start == date(2026, 3, 1)
    assert parse_filters({}, today=TODAY)[0].query() == ""


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "zzz"}, "Неизвестный период"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "позже"),
        ({"from": "2026-05-01", "to": "2026-05-02"}, "не начался"),
        ({"from": "01.03.2026", "to": "2026-03-02"}, "ГГГГ-ММ-ДД"),
        ({"types": "post,story"}, "Неизвестный тип"),
        ({"sources": "12,abc"}, "источники"),
        ({"user": "1,2"}, "пользователь"),
        ({"sort": "drop table"}, "сортировка"),
    ],
)
def test_bad_values_are_reported_and_replaced(params, message) -> None:
    filters, errors = parse_filters(params, today=TODAY)
    assert len(errors) == 1 and message in errors[0]
    default, _ = parse_filters({}, today=TODAY)
    assert filters.query() == default.query()


@pytest.fixture
def sources(session, people: People):
    ann = add_source(session, people.ann, "1", history_start=date(2026, 3, 1))
    dora = add_source(session, people.dora, "2", history_start=date(2026, 3, 1))
    bob = add_source(session, people.bob, "3", history_start=date(2026, 3, 1))
    for source, likes in ((ann, 10), (dora, 30), (bob, 50)):
        collect(
            session,
            source,
            at=msk(TODAY, 12),
            members=1000,
            items=(item("1", msk(TODAY, 9), likes=likes, reposts=0, comments=0, views=100),),
        )
    return {"ann": ann.id, "dora": dora.id, "bob": bob.id}


def test_refused_filters_are_dropped_with_a_message(session, people, sources) -> None:
    filters, _ = parse_filters({"sources": str(sources["bob"])}, today=TODAY)
    board, applied, messages = dashboard_for(session, actor=people.ann, filters=filters)
    assert applied.source_ids == () and "Нет доступа к источнику" in messages[0]
    assert [line.source.id for line in board.sources] == [sources["ann"]]
    filters, _ = parse_filters({"team": str(people.team.id)}, today=TODAY)
    _board, applied, messages = dashboard_for(session, actor=people.ann, filters=filters)
    assert applied.team_id is None and messages
    with pytest.raises(PermissionDenied):
        dashboard_for(session, actor=None, filters=filters)


def test_rollup_is_the_directors_and_admins_only(session, people, sources) -> None:
    assert dashboard(session, actor=people.ann, scope=Scope(), period=PERIOD).rollup == ()
    board = dashboard(session, actor=people.dora, scope=Scope(), period=PERIOD)
    rollup = {r.name: (r.sources, r.current.likes.value) for r in board.rollup}
    assert rollup == {"Ann": (1, 10), "Dora": (1, 30)}
    assert board.totals.current.likes.value == 40
    everyone = dashboard(session, actor=people.admin, scope=Scope(), period=PERIOD)
    assert {r.name for r in everyone.rollup} == {"Ann", "Dora", "Bob"}


def test_table_order_and_csv(session, people, sources) -> None:
    board = dashboard(session, actor=people.admin, scope=Scope(), period=PERIOD)
    by_likes = sorted_lines(board.sources, "likes", True)
    assert [line.current.likes.value for line in by_likes] == [50, 30, 10]
    rows = source_table_csv(by_likes).lstrip("\ufeff").splitlines()
    assert rows[0].startswith("id,Источник,Посты,Видео,Клипы,Лайки")
    first = rows[1].split(",")
    assert first[0] == str(sources["bob"]) and first[5] == "50"
    assert first[9] == "5.0000"  # ERpost 50 / 1000, in percent as on the page
    assert len(board.sources[0].sparkline) == PERIOD.days
