"""Blocks shared by the dashboard and the source page: KPI cards, chart cards and tables.

``model`` turns analytics results into the strings a state holds; ``charts`` builds the
Plotly figures. Both are plain functions (no Reflex)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go
import reflex as rx

from socstat.ui.components.analytics.charts import CONFIG, LOCALE

PUBLICATION_FIGURES = ("likes", "reposts", "comments", "views", "er_post", "er_view")


def kpi_card(card: rx.Var) -> rx.Component:
    return rx.tooltip(
        rx.card(
            rx.vstack(
                rx.text(card["label"], size="2", color_scheme="gray"),
                rx.heading(
                    card["value"],
                    size="6",
                    data_metric=card["metric"],
                    data_value=card["raw"],
                    data_testid="kpi-value",
                ),
                rx.text(
                    card["change"],
                    size="1",
                    color_scheme=card["color"],
                    data_direction=card["direction"],
                    data_testid="kpi-change",
                ),
                rx.cond(card["note"] != "", rx.text(card["note"], size="1", color_scheme="gray")),
                spacing="1",
            ),
            width="100%",
        ),
        content=card["tooltip"],
    )


def section_card(
    title: str, *children: rx.Component, actions: Sequence[rx.Component] = (), **props
) -> rx.Component:
    """A block of a page: its heading (with ``actions`` on the right) above its content."""
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading(title, size="3", as_="h2"),
                *([rx.spacer(), *actions] if actions else []),
                width="100%",
                align="center",
                wrap="wrap",
                spacing="2",
            ),
            *children,
            width="100%",
        ),
        width="100%",
        min_width="0",
        **props,
    )


def date_range_fields(date_from: rx.Var, date_to: rx.Var, *, remount: bool = False) -> rx.Component:
    """A custom period's «С … по …» date inputs and its «Показать» submit button, for a
    page's form. ``remount``: the inputs are rebuilt when the dates change (their shown
    value follows the state)."""

    def field(name: str, value: rx.Var, testid: str) -> rx.Component:
        keyed = {"key": value} if remount else {}
        return rx.input(
            type="date", name=name, id=name, default_value=value, data_testid=testid, **keyed
        )

    return rx.flex(
        rx.el.label("С", html_for="date_from"),
        field("date_from", date_from, "date-from"),
        rx.el.label("по", html_for="date_to"),
        field("date_to", date_to, "date-to"),
        rx.button("Показать", type="submit", data_testid="custom-apply"),
        spacing="2",
        align="center",
        wrap="wrap",
    )


def chart_card(title: str, figure: rx.Var, testid: str, note: rx.Var | None = None) -> rx.Component:
    """A Plotly chart in Russian; with ``note``, the note instead of the chart when the note
    is not empty (e.g. why there is no data). ``figure``: a var holding the figure's plain
    JSON (what ``charts`` builds)."""
    chart = rx.box(
        rx.plotly(data=figure.to(go.Figure), config=CONFIG, locale=LOCALE, width="100%"),
        width="100%",
        min_width="0",
    )
    if note is not None:
        chart = rx.cond(
            note != "",
            rx.callout(note, icon="info", size="1", width="100%", data_testid=f"{testid}-note"),
            chart,
        )
    return section_card(title, chart, data_testid=testid)


def scroll_table(
    headers: Sequence[str | rx.Component],
    rows: rx.Var,
    row: Callable[[rx.Var], rx.Component],
    *,
    testid: str | None = None,
    **props,
) -> rx.Component:
    """A table that scrolls sideways inside its own box, so the page never does."""
    cells = [
        h if isinstance(h, rx.Component) else rx.table.column_header_cell(h, white_space="nowrap")
        for h in headers
    ]
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*cells)),
            rx.table.body(rx.foreach(rows, row)),
            size="1",
            width="100%",
            **props,
        ),
        overflow_x="auto",
        width="100%",
        max_width="100%",
        data_testid=testid,
    )


def number_cell(value: rx.Var, **props) -> rx.Component:
    return rx.table.cell(value, text_align="right", white_space="nowrap", **props)


def publications_table(rows: rx.Var, *, row_testid: str, with_source: bool) -> rx.Component:
    """Publications (``model.publication_row``): date, type, [source,] text linking to VK,
    reactions, views and ER."""
    headers = ["Дата", "Тип", *(["Источник"] if with_source else []), "Публикация"]
    headers += ["Лайки", "Репосты", "Комм.", "Просмотры", "ERpost", "ERview"]

    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(r["date"], white_space="nowrap"),
            rx.table.cell(r["kind"], data_testid="publication-kind"),
            *([rx.table.cell(r["source"], min_width="120px")] if with_source else []),
            rx.table.cell(rx.link(r["text"], href=r["url"], is_external=True), min_width="200px"),
            *[number_cell(r[c]) for c in PUBLICATION_FIGURES],
            data_testid=row_testid,
        )

    return scroll_table(headers, rows, row)
