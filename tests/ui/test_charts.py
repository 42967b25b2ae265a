"""The charts' plain JSON is exactly what Plotly makes of it: ``go.Figure(figure)`` (which
validates every value and normalizes it — a title string to ``{"text": …}``, a named colour
scale to its colours, tuples to lists) gives back the same JSON, key order and number types
included. Data sets: nothing, one day, unknown values, a week, a quarter, a year; every sort
of the comparison chart; an empty and a filled heatmap."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import pytest

from socstat.services.analytics import (
    TABLE_SORTS,
    Figure,
    Granularity,
    HeatCell,
    Heatmap,
    MembersPoint,
    MembersSeries,
    Period,
    Point,
    Ratio,
    Series,
    SourceLine,
    SourceRef,
    Totals,
)
from socstat.ui.components.analytics import charts, model

START = date(2025, 12, 1)


def plotly_json(figure: dict[str, Any]) -> dict[str, Any]:
    """What Plotly makes of ``figure``, without the template it adds."""
    plain = go.Figure(figure).to_plotly_json()
    plain["layout"].pop("template")
    return plain


def same_json(ours: Any, theirs: Any) -> bool:
    """Equal as JSON text (key order included) and with the same Python types (1 ≠ 1.0)."""
    if type(ours) is not type(theirs):
        return False
    if isinstance(ours, dict):
        return list(ours) == list(theirs) and all(same_json(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list):
        return len(ours) == len(theirs) and all(map(same_json, ours, theirs))
    return ours == theirs


def assert_plotly_keeps(figure: dict[str, Any]) -> None:
    normalized = plotly_json(figure)
    assert json.dumps(figure, ensure_ascii=False) == json.dumps(normalized, ensure_ascii=False)
    assert same_json(figure, normalized)


def series(days: int, *, unknown_every: int = 0, scale: int = 1) -> Series:
    """``days`` days from START; every ``unknown_every``-th day unknown (None, not 0)."""
    points = []
    for i in range(days):
        day = START + timedelta(days=i)
        known = not unknown_every or i % unknown_every
        count = i * 7 * scale if known else None
        points.append(
            Point(
                start=day,
                end=day,
                posts=count,
                videos=None if count is None else i % 3,
                clips=2,
                publications=None if count is None else count + i % 3 + 2,
                likes=Figure(None if count is None else count * 11),
                reposts=Figure(5),
                comments=Figure(None if unknown_every else i),
                views=Figure(None if count is None else count * 1000),
                er_day=None,
                members=None if count is None else 1_000_000 * scale + i,
                complete=bool(known),
            )
        )
    period = Period.custom(START, START + timedelta(days=max(days - 1, 0)))
    return Series(period, Granularity.DAY, tuple(points), first_day=START if days else None)


def members(days: Series) -> MembersSeries:
    return MembersSeries(None, tuple(MembersPoint(p.start, p.members) for p in days.points))


def totals(i: int, unknown: bool) -> Totals:
    def figure(value: int) -> Figure:
        return Figure(None if unknown else value)

    period = Period.custom(START, START + timedelta(days=29))
    return Totals(
        period=period,
        posts=None if unknown else i,
        videos=i,
        clips=0,
        publications=i,
        likes=figure(i * 10),
        reposts=figure(i),
        comments=figure(3),
        views=figure(i * 100_000),
        members_end=figure(5000 + i),
        members_delta=figure(i - 3),
        er_post=Ratio(None if unknown else i / 700),
        er_view=Ratio(None if unknown else i / 123),
        er_day=Ratio(None),
    )


def lines(count: int, *, unknown_every: int = 0) -> list[SourceLine]:
    result = []
    for i in range(count):
        name = f"Сообщество номер {i} с очень длинным названием" if i % 4 == 0 else f"Клуб {i}"
        source = SourceRef(i, name, f"club{i}", str(i), "https://vk.com", "active", frozenset())
        unknown = bool(unknown_every) and i % unknown_every == 0
        result.append(SourceLine(source, totals(i, unknown), ()))
    return result


def heatmap(filled: bool) -> Heatmap:
    cells = tuple(
        HeatCell(d, h, d + h if filled else 0, d * h / 7 if filled and h % 2 else None)
        for d in range(7)
        for h in range(24)
    )
    return Heatmap("Europe/Moscow", cells)


SERIES = {
    "empty": series(0),
    "one day": series(1),
    "unknown days": series(10, unknown_every=3),
    "week": series(7),
    "quarter": series(90, scale=1000),
    "year": series(365, unknown_every=5, scale=10_000),
}


@pytest.mark.parametrize("name", SERIES)
def test_day_charts_are_plotly_json(name: str) -> None:
    days = SERIES[name]
    for figure in (
        charts.publications_figure(days),
        charts.engagement_figure(days),
        charts.members_figure(members(days)),
    ):
        assert_plotly_keeps(figure)
        assert len(figure["data"][0]["x"]) == len(days.points)


@pytest.mark.parametrize("sort", TABLE_SORTS)
@pytest.mark.parametrize(("count", "unknown_every"), [(0, 0), (1, 0), (30, 0), (12, 2)])
def test_sources_chart_is_plotly_json(sort: str, count: int, unknown_every: int) -> None:
    table = lines(count, unknown_every=unknown_every)
    figure = charts.sources_figure(list(model.source_values(table).values()), sort)
    assert_plotly_keeps(figure)
    bars = figure["data"][0]
    assert len(bars["x"]) == len(bars["y"]) == len(bars["customdata"]) <= 20


@pytest.mark.parametrize("filled", [False, True])
def test_heatmap_is_plotly_json(filled: bool) -> None:
    figure = charts.heatmap_figure(heatmap(filled))
    assert_plotly_keeps(figure)
    assert figure["data"][0]["colorscale"][0] == [0.0, "rgb(247,251,255)"]  # "Blues"


def test_a_title_string_is_not_plotly_json() -> None:
    """The check above can fail: Plotly rewrites what it would not have written itself."""
    figure = charts.members_figure(members(SERIES["week"]))
    figure["layout"]["yaxis"]["title"] = "Подписчики"
    with pytest.raises(AssertionError):
        assert_plotly_keeps(figure)
