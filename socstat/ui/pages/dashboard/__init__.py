"""Обзор — the dashboard (/dashboard): KPIs against the previous period, charts, the
per-source table, top publications, the best time to post, members, the director's rollup.

The filters live in the URL (see services/analytics/filters.py); the state module holds
the handlers, ``charts`` the Plotly figures and ``model`` the strings shown."""

from __future__ import annotations

import reflex as rx

from socstat.ui.auth import protected
from socstat.ui.components.add_sources import AddSourcesState, add_sources_form
from socstat.ui.components.analytics import chart_card, kpi_card
from socstat.ui.components.layout import page_frame
from socstat.ui.pages.dashboard import blocks
from socstat.ui.pages.dashboard.state import DashboardBlocks as B
from socstat.ui.pages.dashboard.state import DashboardState as S
from socstat.ui.routing import page


def _content() -> rx.Component:
    return rx.vstack(
        blocks.filters(),
        rx.grid(
            rx.foreach(S.kpis, kpi_card),
            columns=rx.breakpoints(initial="2", sm="3", lg="5"),
            spacing="3",
            width="100%",
            data_testid="kpis",
        ),
        rx.grid(
            chart_card("Публикации по дням", B.publications_figure, "chart-publications"),
            chart_card("Вовлечённость по дням", B.engagement_figure, "chart-engagement"),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="3",
            width="100%",
        ),
        blocks.source_table(),
        chart_card(
            "Сравнение источников (по столбцу сортировки таблицы)",
            B.sources_figure,
            "chart-sources",
        ),
        blocks.top(),
        rx.grid(
            chart_card(
                "Лучшее время для публикаций: реакций в среднем на публикацию",
                B.heatmap_figure,
                "chart-heatmap",
            ),
            chart_card("Подписчики", B.members_figure, "chart-members", B.members_note),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="3",
            width="100%",
        ),
        blocks.rollup(),
        spacing="4",
        width="100%",
        min_width="0",
    )


def _empty() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "Здесь пока нет источников. Добавьте сообщество ВКонтакте — данные начнут "
            "собираться сразу, и здесь появятся его числа.",
            icon="info",
            width="100%",
        ),
        add_sources_form(AddSourcesState, heading="Добавить сообщество"),
        width="100%",
        data_testid="dashboard-empty",
    )


@page(route="/dashboard", title="Обзор — socstat", on_load=protected(S.load))
def dashboard_page() -> rx.Component:
    return page_frame(
        "Обзор",
        rx.cond(
            S.loaded,
            rx.cond(S.empty, rx.vstack(_empty(), blocks.filters(), width="100%"), _content()),
            rx.spinner(),
        ),
    )
