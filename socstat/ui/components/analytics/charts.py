"""Plotly figures of the dashboard and the source page as plain JSON (plain functions
from analytics results; no Reflex).

Every hover text is written here with socstat.formatting («29.11.2026 · 2 436 лайков»:
thin-space thousands, the noun agreed with the number) and passed as ``customdata``;
count axes tick at whole numbers only. The page loads Plotly's ``ru`` locale (month and
day names) and hides Plotly's own toolbar (``CONFIG``, ``LOCALE``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import plotly.graph_objects as go

from socstat.formatting import THIN_SPACE, counted, day, decimal, integer, number
from socstat.formatting import rate as format_rate
from socstat.services.analytics import TABLE_SORTS, Heatmap, MembersSeries, Series
from socstat.ui.components.analytics.model import SourceValues

LOCALE = "ru"
# No toolbar (it is English and zooms away from the numbers); fits its card's width.
CONFIG = {"displayModeBar": False, "responsive": True, "scrollZoom": False}
WEEKDAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")
# (field, legend, noun forms for 1 / 2 / 5)
KIND_SERIES = (
    ("posts", "Посты", ("пост", "поста", "постов")),
    ("videos", "Видео", ("видео", "видео", "видео")),
    ("clips", "Клипы", ("клип", "клипа", "клипов")),
)
ENGAGEMENT = (
    ("likes", "Лайки", ("лайк", "лайка", "лайков")),
    ("reposts", "Репосты", ("репост", "репоста", "репостов")),
    ("comments", "Комментарии", ("комментарий", "комментария", "комментариев")),
)
VIEWS = ("просмотр", "просмотра", "просмотров")
MEMBERS = ("подписчик", "подписчика", "подписчиков")
PUBLICATIONS = ("публикация", "публикации", "публикаций")
NOUNS = {key: forms for key, _label, forms in (*KIND_SERIES, *ENGAGEMENT)} | {
    "views": VIEWS,
    "members": MEMBERS,
    "members_delta": MEMBERS,
}
Json = dict[str, Any]
HOVER = "%{customdata}<extra></extra>"
AXIS = re.compile(r"[xy]axis\d*")
NAME_LENGTH = 28  # a source's name on the comparison chart's axis (full in the tooltip)
# Plotly's "Blues" as its figures spell a named colour scale: [[0.0, "rgb(247,251,255)"], …]
BLUES = go.Heatmap(colorscale="Blues").to_plotly_json()["colorscale"]


def _trace(kind: str, **props: Any) -> Json:
    """A trace as Plotly writes one: its properties by name, then its type."""
    return {**dict(sorted(props.items())), "type": kind}


def _figure(traces: list[Json], height: int = 300, **extra: Any) -> Json:
    """The figure of ``traces`` in the common look; ``extra`` adds layout keys (axes...).

    Plain JSON exactly as ``go.Figure(...).to_plotly_json()`` would give it without the
    template (tests/ui/test_charts.py holds Plotly to that): building Plotly's objects
    validates every value and cost tens of milliseconds per figure and event. ``rx.plotly``
    applies its own template (light or dark with the colour mode) over the figure."""
    fixed = {"automargin": True, "fixedrange": True}
    axes = {k: dict(sorted((v | fixed).items())) for k, v in extra.items() if AXIS.fullmatch(k)}
    layout = {
        "separators": "," + THIN_SPACE,
        "height": height,
        "margin": {"b": 8, "l": 8, "r": 8, "t": 16},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},  # no overlap
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"namelength": -1},
        "dragmode": False,  # a finger scrolls the page instead of zooming the chart
        **extra,
        **axes,
    }
    return {"data": traces, "layout": dict(sorted(layout.items()))}


def _title(text: str) -> Json:
    return {"text": text}


def tick_step(top: float) -> int:
    """A whole tick step (1, 2, 5, 10, 20, …) giving at most six ticks up to ``top``."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if top <= 6 * factor * magnitude:
                return factor * magnitude
        magnitude *= 10


def tick_label(value: int, top: int) -> str:
    """A tick of a counts axis up to ``top``, short enough for a phone: 800, 12 000; on an
    axis reaching 100 000: 80 тыс., 150 тыс., 2,5 млн."""
    if abs(value) >= 1_000_000:
        return f"{number(value / 1_000_000)} млн"
    if abs(top) >= 100_000 and abs(value) >= 1_000:
        return f"{number(value / 1_000)} тыс."
    return integer(value)


def count_axis(values: Sequence[float | None], title: str, *, from_zero: bool = True) -> dict:
    """An axis of counts: ticks at whole numbers only (never 0,5 posts), labelled the
    Russian way. Including zero, or (members) around the values with a step's margin."""
    known = [v for v in values if v is not None] + ([0] if from_zero else [])
    low, high = min(known, default=0), max(known, default=0)
    step = tick_step(high - low)
    first = math.floor(low / step) * step - (0 if from_zero else step)
    last = max(math.ceil(high / step) * step + (0 if from_zero else step), first + step)
    ticks = list(range(first, last + 1, step))
    labels = [tick_label(t, max(ticks, key=abs)) for t in ticks]
    if len(set(labels)) < len(labels):  # 12,346 млн twice: the full numbers then
        labels = [integer(t) for t in ticks]
    axis: dict[str, object] = {
        "title": _title(title),
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": labels,
        "rangemode": "tozero" if from_zero else "normal",
    }
    if high == low or not from_zero:  # nothing yet: 0…1, not Plotly's −1…4
        axis["range"] = [first, last]
    return axis


def date_axis(days: Sequence[date]) -> dict:
    """Ticks on whole days (dd.mm), or months by name for a long period."""
    span = len(days)
    if span > 62:
        dtick = "M1" if span <= 124 else "M2" if span <= 248 else "M3"
        return {"type": "date", "dtick": dtick, "tickformat": "%b %Y", "tickangle": 0}
    step = max(1, math.ceil(span / 4))  # four or five labels fit a phone
    axis: dict[str, object] = {
        "type": "date",
        "tickformat": "%d.%m",
        "dtick": step * 86_400_000,
        "tickangle": 0,
    }
    if days:
        axis["tick0"] = days[0].isoformat()
    return axis


def _series_days(series: Series) -> list[date]:
    return [p.start for p in series.points]


def _hover(days: Sequence[date], values: Sequence[int | None], forms: tuple[str, str, str]):
    return [
        f"{day(d)} · {'нет данных' if v is None else counted(v, *forms)}"
        for d, v in zip(days, values, strict=True)
    ]


def publications_figure(series: Series) -> Json:
    """Publications per day stacked by type; an unknown day is a gap, not a zero."""
    days = _series_days(series)
    x = [d.isoformat() for d in days]
    traces = []
    for key, label, forms in KIND_SERIES:
        values = [getattr(p, key) for p in series.points]
        traces.append(
            _trace(
                "bar",
                x=x,
                y=values,
                name=label,
                customdata=_hover(days, values, forms),
                hovertemplate=HOVER,
            )
        )
    stacked = [p.publications for p in series.points]
    return _figure(
        traces,
        barmode="stack",
        xaxis=date_axis(days),
        yaxis=count_axis(stacked, "Публикации"),
    )


def engagement_figure(series: Series) -> Json:
    """Likes, reposts and comments per day; views on their own (right) axis."""
    days = _series_days(series)
    x = [d.isoformat() for d in days]
    traces = []
    reactions: list[int | None] = []
    for key, label, forms in ENGAGEMENT:
        values = [getattr(p, key).value for p in series.points]
        reactions += values
        traces.append(
            _trace(
                "scatter",
                x=x,
                y=values,
                name=label,
                mode="lines+markers",
                connectgaps=False,
                customdata=_hover(days, values, forms),
                hovertemplate=HOVER,
            )
        )
    views = [p.views.value for p in series.points]
    traces.append(
        _trace(
            "scatter",
            x=x,
            y=views,
            name="Просмотры (правая ось)",
            yaxis="y2",
            mode="lines",
            line={"dash": "dot"},
            connectgaps=False,
            customdata=_hover(days, views, VIEWS),
            hovertemplate=HOVER,
        )
    )
    # no axis titles: the legend names the lines (views dotted, right), a phone needs the width
    right = count_axis(views, "") | {"overlaying": "y", "side": "right"}
    return _figure(traces, xaxis=date_axis(days), yaxis=count_axis(reactions, ""), yaxis2=right)


def _short(name: str) -> str:
    return name if len(name) <= NAME_LENGTH else name[: NAME_LENGTH - 1] + "…"


def sources_figure(sources: Sequence[SourceValues], metric: str) -> Json:
    """The sources compared by one metric (the table's sort column), in the table's order
    (``sources``: its rows, best on top)."""
    metric = "posts" if metric == "name" else metric
    shown = [s for s in sources if s.value(metric) is not None][:20]
    values = [s.value(metric) or 0 for s in shown]
    percent = metric in ("er_post", "er_view")
    if percent:
        hover = [format_rate(v) for v in values]
    else:
        hover = [counted(int(v), *NOUNS[metric]) for v in values]
    bars = _trace(
        "bar",
        x=[v * 100 for v in values] if percent else values,
        y=[_short(s.name) for s in shown],
        orientation="h",
        customdata=[f"{s.name} · {h}" for s, h in zip(shown, hover, strict=True)],
        hovertemplate=HOVER,
    )
    if percent:
        xaxis: dict[str, object] = {"tickformat": ",.2f", "title": _title(TABLE_SORTS[metric])}
    else:
        xaxis = count_axis(values, TABLE_SORTS[metric])
    return _figure(
        [bars],
        height=max(220, 28 * len(shown) + 80),
        xaxis=xaxis,
        yaxis={"autorange": "reversed"},
    )


def _cell_text(weekday: int, hour: int, average: float | None, publications: int) -> str:
    when = f"{WEEKDAYS[weekday]}, {hour:02d}:00–{hour:02d}:59"
    if average is None:
        return f"{when} · публикаций не было"
    # a fraction takes the genitive singular: «12,3 реакции»
    return (
        f"{when} · в среднем {decimal(average, 1)} реакции на публикацию "
        f"({counted(publications, *PUBLICATIONS)})"
    )


def heatmap_figure(heatmap: Heatmap) -> Json:
    """Average reactions per publication by weekday × hour (installation time)."""
    z: list[list[float | None]] = [[None] * 24 for _ in range(7)]
    text = [[_cell_text(w, h, None, 0) for h in range(24)] for w in range(7)]
    for cell in heatmap.cells:
        z[cell.weekday][cell.hour] = cell.average_reactions
        text[cell.weekday][cell.hour] = _cell_text(
            cell.weekday, cell.hour, cell.average_reactions, cell.publications
        )
    cells = _trace(
        "heatmap",
        z=z,
        x=list(range(24)),
        y=list(WEEKDAYS),
        customdata=text,
        colorscale=[list(stop) for stop in BLUES],
        hoverongaps=True,
        hovertemplate=HOVER,
        colorbar={"thickness": 10, "tickformat": ",d"},
    )
    return _figure(
        [cells],
        height=280,
        yaxis={"autorange": "reversed"},
        xaxis={"title": _title("Час"), "tick0": 0, "dtick": 3, "tickformat": "02d"},
    )


def members_figure(members: MembersSeries) -> Json:
    days = [p.day for p in members.points]
    values = [p.members for p in members.points]
    line = _trace(
        "scatter",
        x=[d.isoformat() for d in days],
        y=values,
        mode="lines+markers",
        connectgaps=False,
        name="Подписчики",
        customdata=_hover(days, values, MEMBERS),
        hovertemplate=HOVER,
    )
    return _figure(
        [line],
        height=260,
        xaxis=date_axis(days),
        yaxis=count_axis(values, "Подписчики", from_zero=False),
    )
