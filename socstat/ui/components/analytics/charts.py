"""Plotly figures of the dashboard (plain functions from analytics results; no Reflex)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from socstat.services.analytics import Heatmap, MembersSeries, Series, SourceLine
from socstat.services.analytics.filters import TABLE_SORTS, table_value

WEEKDAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")
KIND_SERIES = (("posts", "Посты"), ("videos", "Видео"), ("clips", "Клипы"))
ENGAGEMENT = (("likes", "Лайки"), ("reposts", "Репосты"), ("comments", "Комментарии"))
# Plotly's own toolbar is English: off. Numbers: comma decimals, thin-space thousands.
CONFIG = {"displayModeBar": False, "responsive": True}


def _layout(fig: go.Figure, height: int = 300, **extra: object) -> go.Figure:
    fig.update_layout(
        separators=", ",
        height=height,
        margin={"l": 48, "r": 48, "t": 16, "b": 40},
        legend={"orientation": "h", "y": -0.18},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        hoverlabel={"namelength": -1},
        **extra,
    )
    return fig


def _days(series: Series) -> list[str]:
    return [p.start.isoformat() for p in series.points]


def publications_figure(series: Series) -> go.Figure:
    """Publications per day stacked by type; an unknown day is a gap, not a zero."""
    fig = go.Figure()
    for key, label in KIND_SERIES:
        fig.add_trace(
            go.Bar(
                x=_days(series),
                y=[getattr(p, key) for p in series.points],
                name=label,
                hovertemplate=f"%{{x|%d.%m.%Y}} · %{{y}} — {label.lower()}<extra></extra>",
            )
        )
    return _layout(
        fig,
        barmode="stack",
        xaxis={"tickformat": "%d.%m", "type": "date"},
        yaxis={"tickformat": "d", "rangemode": "tozero", "title": "Публикации"},
    )


def engagement_figure(series: Series) -> go.Figure:
    """Likes, reposts and comments per day; views on their own (right) axis."""
    fig = go.Figure()
    for key, label in ENGAGEMENT:
        fig.add_trace(
            go.Scatter(
                x=_days(series),
                y=[getattr(p, key).value for p in series.points],
                name=label,
                mode="lines+markers",
                connectgaps=False,
                hovertemplate=f"%{{x|%d.%m.%Y}} · %{{y:,d}} — {label.lower()}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=_days(series),
            y=[p.views.value for p in series.points],
            name="Просмотры",
            yaxis="y2",
            mode="lines",
            line={"dash": "dot"},
            connectgaps=False,
            hovertemplate="%{x|%d.%m.%Y} · %{y:,d} — просмотры<extra></extra>",
        )
    )
    return _layout(
        fig,
        xaxis={"tickformat": "%d.%m", "type": "date"},
        yaxis={"tickformat": ",d", "rangemode": "tozero", "title": "Реакции"},
        yaxis2={
            "tickformat": ",d",
            "rangemode": "tozero",
            "overlaying": "y",
            "side": "right",
            "title": "Просмотры",
        },
    )


def sources_figure(lines: Sequence[SourceLine], metric: str) -> go.Figure:
    """The sources compared by one metric (the table's sort column), best on top."""
    metric = "posts" if metric == "name" else metric
    shown = [line for line in lines if table_value(metric, line.current) is not None][:20]
    percent = metric in ("er_post", "er_view")
    values = [table_value(metric, line.current) or 0 for line in shown]
    fig = go.Figure(
        go.Bar(
            x=[v * 100 for v in values] if percent else values,
            y=[line.source.name for line in shown],
            orientation="h",
            hovertemplate="%{y} · %{x:,.2f} %<extra></extra>"
            if percent
            else "%{y} · %{x:,d}<extra></extra>",
        )
    )
    return _layout(
        fig,
        height=max(220, 28 * len(shown) + 60),
        xaxis={"tickformat": ",.2f" if percent else ",d", "title": TABLE_SORTS[metric]},
        yaxis={"autorange": "reversed", "automargin": True},
    )


def heatmap_figure(heatmap: Heatmap) -> go.Figure:
    """Average reactions per publication by weekday × hour (installation time)."""
    z: list[list[float | None]] = [[None] * 24 for _ in range(7)]
    counts: list[list[int]] = [[0] * 24 for _ in range(7)]
    for cell in heatmap.cells:
        z[cell.weekday][cell.hour] = cell.average_reactions
        counts[cell.weekday][cell.hour] = cell.publications
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{h:02d}" for h in range(24)],
            y=list(WEEKDAYS),
            customdata=counts,
            colorscale="Blues",
            hoverongaps=False,
            hovertemplate="%{y}, %{x}:00 · в среднем %{z:,.1f} реакций"
            " на публикацию (публикаций: %{customdata})<extra></extra>",
        )
    )
    return _layout(fig, height=280, yaxis={"autorange": "reversed"}, xaxis={"title": "Час"})


def members_figure(members: MembersSeries) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=[p.day.isoformat() for p in members.points],
            y=[p.members for p in members.points],
            mode="lines+markers",
            connectgaps=False,
            name="Подписчики",
            hovertemplate="%{x|%d.%m.%Y} · %{y:,d} подписчиков<extra></extra>",
        )
    )
    return _layout(
        fig,
        height=260,
        xaxis={"tickformat": "%d.%m", "type": "date"},
        yaxis={"tickformat": ",d", "title": "Подписчики"},
    )
