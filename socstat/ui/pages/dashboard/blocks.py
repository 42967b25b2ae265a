"""The dashboard's blocks: filters, the per-source table, top publications, the rollup."""

from __future__ import annotations

import reflex as rx

from socstat.models import ContentKind
from socstat.services.analytics import KIND_LABELS, PRESETS, TABLE_SORTS
from socstat.ui.components.analytics import (
    date_range_fields,
    number_cell,
    publications_table,
    scroll_table,
    section_card,
)
from socstat.ui.pages.dashboard.state import DashboardBlocks as B
from socstat.ui.pages.dashboard.state import DashboardState as S

TOP_SORTS = (
    ("likes", "Лайки"),
    ("reposts", "Репосты"),
    ("comments", "Комментарии"),
    ("views", "Просмотры"),
    ("er_post", "ERpost"),
    ("er_view", "ERview"),
    ("published", "Дата"),
)


def filters() -> rx.Component:
    preset = rx.select.root(
        rx.select.trigger(aria_label="Период", data_testid="filter-period"),
        rx.select.content(
            *[rx.select.item(label, value=key) for key, label in PRESETS.items()],
            rx.select.item("Свой период…", value="custom"),
        ),
        value=S.preset,
        on_change=S.choose_preset,
    )
    kinds = rx.hstack(
        *[
            rx.checkbox(
                KIND_LABELS[kind],
                checked=S.kinds.contains(kind),
                on_change=lambda _checked, k=kind: S.toggle_kind(k),
                data_testid=f"filter-type-{kind}",
            )
            for kind in ContentKind.ALL
        ],
        spacing="3",
        wrap="wrap",
    )
    sources = rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.cond(
                    S.selected_sources.length() > 0,
                    "Источники: " + S.selected_sources.length().to(str),
                    "Все источники",
                ),
                variant="soft",
                data_testid="filter-sources",
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.foreach(
                    S.source_options,
                    lambda o: rx.checkbox(
                        o["label"],
                        checked=S.selected_sources.contains(o["id"]),
                        on_change=lambda _c: S.toggle_source(o["id"]),
                    ),
                ),
                rx.button("Все источники", variant="ghost", size="1", on_click=S.clear_sources),
                max_height="320px",
                overflow_y="auto",
                spacing="2",
            ),
        ),
    )
    tags = rx.cond(
        S.tag_options.length() > 0,
        rx.select.root(
            rx.select.trigger(
                placeholder="Все метки", aria_label="Метка", data_testid="filter-tag"
            ),
            rx.select.content(
                rx.select.item("Все метки", value="__all__"),
                rx.foreach(S.tag_options, lambda t: rx.select.item(t, value=t)),
            ),
            value=rx.cond(S.tag == "", "__all__", S.tag),
            on_change=S.choose_tag,
        ),
    )
    owner = rx.cond(
        S.user_options.length() > 0,
        rx.select.root(
            rx.select.trigger(aria_label="Чьи источники", data_testid="filter-owner"),
            rx.select.content(
                rx.select.item("Все доступные мне", value="me"),
                rx.foreach(
                    S.team_options,
                    lambda t: rx.select.item("Команда: " + t["label"], value="t:" + t["id"]),
                ),
                rx.foreach(
                    S.user_options, lambda u: rx.select.item(u["label"], value="u:" + u["id"])
                ),
            ),
            value=rx.cond(
                S.scope_team != "",
                "t:" + S.scope_team,
                rx.cond(S.scope_user != "", "u:" + S.scope_user, "me"),
            ),
            on_change=S.choose_owner,
        ),
    )
    custom = rx.cond(
        S.custom_open,
        rx.form(
            date_range_fields(S.date_from, S.date_to, remount=True),
            on_submit=S.apply_custom,
        ),
    )
    return rx.vstack(
        rx.flex(
            preset,
            kinds,
            sources,
            tags,
            owner,
            rx.button(
                "Сбросить", variant="ghost", on_click=S.reset_filters, data_testid="filter-reset"
            ),
            spacing="3",
            wrap="wrap",
            align="center",
        ),
        custom,
        rx.foreach(
            S.messages,
            lambda m: rx.callout(
                m,
                icon="triangle-alert",
                color_scheme="amber",
                size="1",
                width="100%",
                data_testid="filter-message",
            ),
        ),
        rx.flex(
            rx.text(S.period_label, size="2", weight="medium", data_testid="period-label"),
            rx.text(S.timezone_note, size="1", color_scheme="gray", data_testid="timezone-note"),
            spacing="3",
            wrap="wrap",
            align="baseline",
        ),
        rx.cond(
            B.history_note != "",
            rx.callout(
                B.history_note, icon="info", size="1", width="100%", data_testid="history-note"
            ),
        ),
        spacing="3",
        width="100%",
    )


def _sort_header(column: str, label: str) -> rx.Component:
    return rx.table.column_header_cell(
        rx.button(
            label,
            rx.cond(S.sort == column, rx.cond(S.descending, " ↓", " ↑"), ""),
            variant="ghost",
            size="1",
            on_click=S.sort_by(column),
            data_testid=f"sort-{column}",
        ),
        white_space="nowrap",
    )


_COLUMNS = [c for c in TABLE_SORTS if c != "name"]


def source_table() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.vstack(
                    rx.link(r["name"], href="/sources/" + r["id"], data_testid="source-link"),
                    rx.cond(r["status"] != "", rx.badge(r["status"], color_scheme="red", size="1")),
                    spacing="1",
                ),
                min_width="160px",
            ),
            rx.table.cell(
                rx.text(
                    r["spark"],
                    font_family="monospace",
                    white_space="pre",
                    title="Публикации по дням периода",
                ),
                data_testid="sparkline",
            ),
            *[number_cell(r[c], data_column=c) for c in _COLUMNS],
            data_testid="source-row",
            data_source_id=r["id"],
        )

    csv = rx.link(
        rx.button(rx.icon("download", size=16), "CSV", variant="soft", size="1"),
        href=S.csv_url,
        is_external=True,
        data_testid="csv-download",
    )
    headers = [
        _sort_header("name", TABLE_SORTS["name"]),
        rx.table.column_header_cell("Динамика"),
        *[_sort_header(c, TABLE_SORTS[c]) for c in _COLUMNS],
    ]
    more = rx.cond(
        B.table.length() < B.table_total,  # type: ignore[attr-defined]
        rx.button(
            "Показать все источники (",
            B.table_total,
            ")",
            variant="soft",
            on_click=B.show_all_sources,
            data_testid="sources-show-all",
        ),
    )
    return section_card(
        "Источники",
        rx.vstack(
            scroll_table(headers, B.table, row, testid="source-table"),
            more,
            spacing="3",
            width="100%",
        ),
        actions=[csv],
        data_testid="sources",
    )


def top() -> rx.Component:
    sort = rx.select.root(
        rx.select.trigger(aria_label="Сортировка публикаций", data_testid="top-sort"),
        rx.select.content(*[rx.select.item(label, value=key) for key, label in TOP_SORTS]),
        value=S.top_sort,
        on_change=S.sort_top,
    )
    pager = rx.hstack(
        rx.button(
            "Назад", variant="soft", size="1", disabled=S.top_page <= 1, on_click=S.top_step(-1)
        ),
        rx.text(
            S.top_page.to(str)
            + " из "
            + S.top_pages.to(str)
            + " · публикаций: "
            + S.top_total.to(str),
            size="2",
        ),
        rx.button(
            "Вперёд",
            variant="soft",
            size="1",
            disabled=S.top_page >= S.top_pages,
            on_click=S.top_step(1),
        ),
        align="center",
        data_testid="top-pager",
    )
    return section_card(
        "Топ публикаций",
        publications_table(B.top, row_testid="top-row", with_source=True),
        pager,
        actions=[sort],
        data_testid="top",
    )


def rollup() -> rx.Component:
    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(r["name"]),
            *[number_cell(r[c]) for c in ("sources", "publications", "likes", "views", "er_post")],
            rx.table.cell(rx.text(r["change"], color_scheme=r["color"]), white_space="nowrap"),
            data_testid="rollup-row",
        )

    headers = [
        "Сотрудник",
        "Источники",
        "Публикации",
        "Лайки",
        "Просмотры",
        "ERpost",
        "Публикации к прошлому",
    ]
    return rx.cond(
        B.rollup.length() > 0,
        section_card("По аналитикам", scroll_table(headers, B.rollup, row), data_testid="rollup"),
    )
