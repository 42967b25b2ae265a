"""Источник (/sources/<id>): one community's header and daily figures for a period, with a chart.

Authorization: ``sources.get_source`` (LookupError for a source the actor may not see,
the same answer as for a missing one — "Нет доступа", nothing about it leaks) and the
analytics scope of that one source. Days are the installation's days; known zero vs
unknown is decided by ``services.analytics``. The id comes from the URL (``/sources/<id>``), the
period and content type from the controls: all are validated here before any query.
"""

from __future__ import annotations

import reflex as rx

from socstat.ui.auth import protected
from socstat.ui.components.analytics import (
    chart_card,
    date_range_fields,
    kpi_card,
    publications_table,
    scroll_table,
    section_card,
)
from socstat.ui.components.forms import form, form_error
from socstat.ui.components.layout import page_frame
from socstat.ui.pages.source_detail.state import (
    ALL_KINDS,
    ALL_KINDS_NOTE,
    CUSTOM,
    KIND_OPTIONS,
    NO_ACCESS,
    SourceDetailState,
    detail_data,
    parse_kind,
    resolve_period,
    table_rows,
)
from socstat.ui.routing import page

__all__ = [
    "SourceDetailState",
    "detail_data",
    "parse_kind",
    "resolve_period",
    "source_detail_page",
    "table_rows",
]


def _header() -> rx.Component:
    h = SourceDetailState.header
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.avatar(src=h["photo"], fallback="VK", size="5", radius="full"),
                rx.vstack(
                    rx.heading(h["name"], size="5", as_="h2", data_testid="detail-name"),
                    rx.link(h["url"], href=h["url"], is_external=True, size="2"),
                    rx.hstack(
                        rx.badge(h["status_label"], color_scheme=h["status_color"]),
                        rx.text(h["status_reason"], size="1", color_scheme="gray"),
                        spacing="2",
                        wrap="wrap",
                    ),
                    spacing="1",
                    min_width="0",
                ),
                spacing="3",
                align="start",
            ),
            rx.cond(
                h["stale"] == "1",
                rx.callout(
                    "Данные устарели: " + h["stale_reason"].to(str),
                    icon="triangle-alert",
                    color_scheme="amber",
                    size="1",
                    width="100%",
                ),
            ),
            rx.flex(
                rx.text("Участники: ", rx.text.strong(h["members"]), size="2"),
                rx.text("История с: ", rx.text.strong(h["history_start"]), size="2"),
                rx.text("Последний сбор: ", rx.text.strong(h["last_collected"]), size="2"),
                wrap="wrap",
                spacing="4",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _controls() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.segmented_control.root(
                rx.segmented_control.item("7 дней", value="7"),
                rx.segmented_control.item("30 дней", value="30"),
                rx.segmented_control.item("90 дней", value="90"),
                rx.segmented_control.item("Период…", value=CUSTOM),
                value=SourceDetailState.period,
                on_change=SourceDetailState.choose_period,
                size=rx.breakpoints(initial="1", sm="2"),  # fits a 360 px phone
                data_testid="period",
            ),
            rx.select.root(
                rx.select.trigger(aria_label="Тип публикаций", data_testid="kind"),
                rx.select.content(
                    *[rx.select.item(label, value=key) for key, label in KIND_OPTIONS.items()]
                ),
                value=SourceDetailState.kind,
                on_change=SourceDetailState.choose_kind,
            ),
            wrap="wrap",
            spacing="3",
            align="center",
        ),
        rx.cond(
            SourceDetailState.period == CUSTOM,
            form(
                date_range_fields(SourceDetailState.date_from, SourceDetailState.date_to),
                on_submit=SourceDetailState.apply_custom,
            ),
        ),
        rx.cond(
            SourceDetailState.kind == ALL_KINDS,
            rx.text(ALL_KINDS_NOTE, size="1", color_scheme="gray", data_testid="all-kinds-note"),
        ),
        form_error(SourceDetailState.error, testid="detail-error"),
        spacing="3",
        width="100%",
    )


def _cell(value: rx.Var, testid: str) -> rx.Component:
    return rx.table.cell(value, data_testid=testid, text_align="right", white_space="nowrap")


def _days() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(r["date"], data_testid="day-date", white_space="nowrap"),
            _cell(r["count"], "day-count"),
            _cell(r["likes"], "day-likes"),
            _cell(r["reposts"], "day-reposts"),
            _cell(r["comments"], "day-comments"),
            _cell(
                rx.cond(r["views_unknown"] != "", r["views"].to(str) + "*", r["views"]),
                "day-views",
            ),
            data_testid="day-row",
            data_date=r["iso"],
        )

    headers = [
        rx.table.column_header_cell(h, text_align="right", white_space="nowrap")
        for h in (SourceDetailState.count_label, "Лайки", "Репосты", "Комментарии", "Просмотры")
    ]
    return section_card(
        "По дням",
        scroll_table(["Дата", *headers], SourceDetailState.rows, row, testid="day-table"),
        data_testid="days",
    )


def _publications() -> rx.Component:
    return section_card(
        "Публикации",
        rx.text(SourceDetailState.publications_note, size="1", color_scheme="gray"),
        publications_table(
            SourceDetailState.publications, row_testid="publication-row", with_source=False
        ),
        data_testid="publications",
    )


def _counters() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(r["date"], white_space="nowrap"),
            *[_cell(r[c], f"counter-{c}") for c in ("members", "videos", "clips")],
            data_testid="counter-row",
        )

    return section_card(
        "Счётчики по дням",
        scroll_table(["Дата", "Подписчики", "Видео", "Клипы"], SourceDetailState.counters, row),
        data_testid="counters",
    )


def _content() -> rx.Component:
    return rx.vstack(
        _header(),
        _controls(),
        rx.cond(
            SourceDetailState.views_note != "",
            rx.callout(
                "* " + SourceDetailState.views_note + " — просмотры за такие дни неполные.",
                icon="info",
                size="1",
                width="100%",
                data_testid="views-note",
            ),
        ),
        rx.text(SourceDetailState.timezone_note, size="1", color_scheme="gray"),
        rx.grid(
            rx.foreach(SourceDetailState.kpis, kpi_card),
            columns=rx.breakpoints(initial="2", sm="3", lg="5"),
            spacing="3",
            width="100%",
            data_testid="kpis",
        ),
        rx.grid(
            chart_card(
                "Публикации по дням", SourceDetailState.publications_figure, "chart-publications"
            ),
            chart_card(
                "Вовлечённость по дням", SourceDetailState.engagement_figure, "chart-engagement"
            ),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="3",
            width="100%",
        ),
        _days(),
        _publications(),
        rx.grid(
            chart_card(
                "Подписчики",
                SourceDetailState.members_figure,
                "chart-members",
                SourceDetailState.members_note,
            ),
            _counters(),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


@page(
    route="/sources/[source_id]",
    title="Источник — socstat",
    on_load=protected(SourceDetailState.load),
)
def source_detail_page() -> rx.Component:
    return page_frame(
        "Источник",
        rx.link("← Все источники", href="/sources", size="2"),
        rx.cond(
            SourceDetailState.denied,
            rx.callout(
                NO_ACCESS + ": источник не найден или не входит в ваши источники.",
                icon="lock",
                color_scheme="red",
                width="100%",
                data_testid="no-access",
            ),
            rx.cond(SourceDetailState.loaded, _content(), rx.spinner()),
        ),
    )
