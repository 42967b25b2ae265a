"""The dashboard's sort and paging handlers do only what they need and show what the whole
path shows: a table sort re-sorts the rows the page has (no query) into what opening the
sorted URL gives; a top publications page reads that page only. The table's own order
(``model.sort_sources``, for the rows kept in the state) is services' ``sorted_lines``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import reflex as rx
from sqlalchemy import event
from sqlmodel import Session, select

from socstat.db import get_engine
from socstat.models import Role, User
from socstat.services import sessions
from socstat.services.analytics import (
    TABLE_SORTS,
    Figure,
    Period,
    Ratio,
    SourceLine,
    SourceRef,
    Totals,
    installation_today,
    sorted_lines,
)
from socstat.ui.components.analytics import model
from socstat.ui.pages.dashboard import state as dashboard_state
from socstat.ui.pages.dashboard.state import BLOCKS, DashboardBlocks, DashboardState, load_top
from tests.services.analytics.conftest import add_source, collect, item, msk
from tests.ui.cookies import set_session_cookie

NAMES = ("альфа", "Бета", "бета", "Гамма", "дельта", "Эпсилон")


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def token(session: Session) -> str:
    """Ann's session: six sources (names differing in case only among them), one never
    collected (every value unknown), 25 publications with ties and unknown views."""
    ann = User(email="ann@example.com", role=Role.ANALYST, name="Ann")
    session.add(ann)
    session.commit()
    today = installation_today()
    for n, name in enumerate(NAMES):
        source = add_source(session, ann, str(100 + n), history_start=today - timedelta(days=20))
        source.name = name
        session.add(source)
        session.commit()
        if n == 5:
            continue  # never collected
        items = tuple(
            item(
                f"{n}-{k}",
                msk(today - timedelta(days=1 + k), 9 + n),
                likes=(k * n) % 7,
                reposts=n % 2,
                comments=k % 3,
                views=None if (n + k) % 4 == 0 else 100 * k + n,
            )
            for k in range(n + 3)
        )
        collect(session, source, at=datetime.now(UTC), members=1000 + 10 * (n % 3), items=items)
    created = sessions.create_session(session, user=ann)
    session.commit()
    return created.token


def dashboard(token: str) -> Any:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(DashboardState.get_full_name().split("."))
    set_session_cookie(state, token)
    return state


def blocks(state: Any) -> Any:
    """The page's substate with the table, the top and the charts."""
    return state.get_substate([DashboardBlocks.get_name()])


def value(state: Any, name: str) -> Any:
    return (blocks(state) if name in BLOCKS else state).get_value(name)


async def drained(events: AsyncIterator[Any]) -> list[Any]:
    """Run a generator handler to its end (each item: an update sent on the way)."""
    return [event async for event in events]


def shown(state: Any) -> dict[str, Any]:
    names = ("table", "sources_figure", "sort", "descending", "query", "csv_url")
    return {name: value(state, name) for name in names}


async def test_table_sort_re_sorts_without_a_query(token: str) -> None:
    state = dashboard(token)
    await drained(state.load())
    assert len(blocks(state).table) == len(NAMES)
    for column in TABLE_SORTS:
        for _click in range(2):  # each column, both ways
            with counted_queries() as queries:
                await drained(state.sort_by(column))
            assert queries == []
            opened = dashboard(token)
            await drained(opened._show(opened._params() | state._params()))
            assert shown(state) == shown(opened), (column, state.descending)


DRAWN_LATER = sorted(BLOCKS - {"history_note", "members_note", "table_total", "table_all"})


async def test_the_numbers_are_sent_before_the_table_and_charts(token: str) -> None:
    """Opening the page and changing a filter both send the KPIs and the filters in a first
    update (computed before the rest); the table, the top and the charts of the same reads
    follow in the next, which ends the event (the URL)."""
    state = dashboard(token)
    shows = state.load()
    assert await anext(shows) is None  # the first update: the numbers
    assert state.kpis and state.loaded
    assert all(value(state, name) in ([], {}) for name in DRAWN_LATER)
    await drained(shows)
    assert blocks(state).table and blocks(state).publications_figure
    month = {name: value(state, name) for name in ("kpis", *DRAWN_LATER)}
    week = state.choose_preset("7d")
    assert await anext(week) is None and state.preset == "7d"
    assert state.kpis != month["kpis"]
    assert all(value(state, name) == month[name] for name in DRAWN_LATER)
    assert await anext(week) is not None  # the URL, with everything
    opened = dashboard(token)
    await drained(opened._show(opened._params() | state._params()))
    assert shown(state) == shown(opened) and opened.kpis == state.kpis
    assert blocks(state).publications_figure != month["publications_figure"]


async def test_the_table_shows_its_first_rows_until_asked_for_all(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past TABLE_ROWS the table sends its first rows (in the chosen order, sorted over
    every source) and says how many there are; «Показать все» sends the rest."""
    monkeypatch.setattr(dashboard_state, "TABLE_ROWS", 3)
    state = dashboard(token)
    await drained(state.load())
    full = dashboard(token)
    blocks(full).table_all = True
    await drained(full._show(full._params()))
    assert (len(blocks(state).table), blocks(state).table_total, len(blocks(full).table)) == (
        3,
        len(NAMES),
        len(NAMES),
    )
    assert blocks(state).table == blocks(full).table[:3]
    for column in ("likes", "name"):
        await drained(state.sort_by(column))
        await drained(full.sort_by(column))
        assert blocks(state).table == blocks(full).table[:3], column
    blocks(state).show_all_sources()
    assert blocks(state).table == blocks(full).table


async def test_top_pages_read_the_page_only(token: str) -> None:
    state = dashboard(token)
    with counted_queries() as whole:
        await drained(state.load())
    assert (state.top_total, state.top_pages) == (25, 3)
    for step, sort in ((1, "likes"), (1, "views"), (-1, "er_post"), (1, "published")):
        if sort != state.top_sort:
            await drained(state.sort_top(sort))
        with counted_queries() as queries:
            await drained(state.top_step(step))
        assert 0 < len(queries) < len(whole)
        # the page itself (one read of the items), no heatmap, series or table behind it
        assert sum("contentitem" in q for q in queries) == 1
        assert not any("hourlystat" in q or q.startswith("SELECT countersnapshot") for q in queries)
        opened = dashboard(token)
        opened.top_sort, opened.top_page = state.top_sort, state.top_page
        await drained(opened._show(opened._params()))
        assert [blocks(state).top, state.top_page, state.top_total] == [
            blocks(opened).top,
            opened.top_page,
            opened.top_total,
        ]


async def test_top_page_past_the_end_is_the_last(token: str, session: Session) -> None:
    user = session.exec(select(User)).one()
    view = load_top(session, user, {"period": "30d"}, "likes", 9)
    assert view is not None and view["top_page"] == 3 and len(view["top"]) == 5
    assert load_top(session, user, {"period": "nonsense"}, "likes", 1) is None


def totals(i: int, unknown: bool) -> Totals:
    def figure(value: int) -> Figure:
        return Figure(None if unknown else value)

    return Totals(
        period=Period.custom(date(2026, 3, 1), date(2026, 3, 30)),
        posts=None if unknown else i % 4,
        videos=i % 3,
        clips=0,
        publications=i % 4,
        likes=figure(i % 5 * 10),
        reposts=figure(i % 2),
        comments=figure(3),
        views=figure(i * 1000),
        members_end=figure(5000 + i % 3),
        members_delta=figure(i % 3 - 1),
        er_post=Ratio(None if unknown else i % 4 / 700),
        er_view=Ratio(None if unknown else (i % 5) / 123),
        er_day=Ratio(None),
    )


def test_table_order_is_sorted_lines() -> None:
    names = ["б", "А", "а", "в", "Б", "а"] * 3
    lines = tuple(
        SourceLine(
            SourceRef(i, name, "s", str(i), "https://vk.com", "active", frozenset()),
            totals(i, unknown=i % 5 == 2),
            (),
        )
        for i, name in enumerate(names)
    )
    values = model.source_values(lines)
    shuffled = [values[line.source.id] for line in reversed(lines)]
    for column in TABLE_SORTS:
        for descending in (False, True):
            expected = [line.source.id for line in sorted_lines(lines, column, descending)]
            ordered = model.sort_sources(shuffled, column, descending)
            assert [lines[s.position].source.id for s in ordered] == expected
