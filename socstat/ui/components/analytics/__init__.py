"""Blocks shared by the dashboard and the source page: KPI cards and chart cards.

``model`` turns analytics results into the strings a state holds; ``charts`` builds the
Plotly figures. Both are plain functions (no Reflex)."""

from __future__ import annotations

import reflex as rx

from socstat.ui.components.analytics.charts import CONFIG


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


def chart_card(title: str, figure: rx.Var, testid: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="3", as_="h2"),
            rx.box(
                rx.plotly(data=figure, config=CONFIG, width="100%"), width="100%", min_width="0"
            ),
            width="100%",
        ),
        width="100%",
        min_width="0",
        data_testid=testid,
    )
