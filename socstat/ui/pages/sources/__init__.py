"""Источники (/sources): the tracked communities — add by links (the shared form), search,
filter and sort the cards, tag them, unsubscribe, refresh now.

``state`` holds the handlers and their plain logic, ``cards`` one source's card."""

from __future__ import annotations

import reflex as rx

from socstat.services.sources.listing import ListSort, StatusFilter
from socstat.ui.auth import protected
from socstat.ui.components.add_sources import add_sources_form
from socstat.ui.components.layout import page_frame
from socstat.ui.pages.sources.cards import source_card
from socstat.ui.pages.sources.state import SourcesState
from socstat.ui.pages.sources.view import ALL
from socstat.ui.routing import page

S = SourcesState

__all__ = ["SourcesState", "sources_page"]


def _select(value: rx.Var, on_change: object, items: rx.Component, label: str, testid: str):
    return rx.select.root(
        rx.select.trigger(aria_label=label, data_testid=testid, max_width="100%"),
        rx.select.content(items),
        value=value,
        on_change=on_change,
    )


def _filters() -> rx.Component:
    sorts = rx.fragment(*(rx.select.item(t, value=v) for v, t in ListSort.LABELS.items()))
    statuses = rx.fragment(
        rx.select.item("Все статусы", value=ALL),
        *(rx.select.item(t, value=v) for v, t in StatusFilter.LABELS.items()),
    )
    tags = rx.fragment(
        rx.select.item("Все теги", value=ALL),
        rx.foreach(S.tag_options, lambda t: rx.select.item(t, value=t)),
    )
    return rx.flex(
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            value=S.search,
            on_change=S.set_search.debounce(300),
            placeholder="Поиск по названию",
            aria_label="Поиск по названию",
            width=rx.breakpoints(initial="100%", sm="240px"),
            data_testid="sources-search",
        ),
        rx.hstack(
            _select(S.sort, S.set_sort, sorts, "Сортировка", "sources-sort"),
            rx.icon_button(
                rx.cond(S.descending, rx.icon("arrow-down", size=16), rx.icon("arrow-up", size=16)),
                variant="soft",
                on_click=S.toggle_direction,
                aria_label=rx.cond(S.descending, "По убыванию", "По возрастанию"),
                title=rx.cond(S.descending, "По убыванию", "По возрастанию"),
                data_testid="sources-direction",
                data_desc=rx.cond(S.descending, "1", ""),
            ),
            spacing="1",
        ),
        _select(S.status, S.set_status, statuses, "Статус", "sources-status"),
        _select(S.tag, S.set_tag_filter, tags, "Тег", "sources-tag"),
        wrap="wrap",
        gap="8px",
        align="center",
        width="100%",
    )


def _refresh_bar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.button(
                rx.icon("refresh-cw", size=16),
                "Обновить сейчас",
                on_click=S.refresh_now,
                loading=S.refreshing,
                disabled=S.total == 0,
                data_testid="refresh-now",
            ),
            rx.cond(
                S.refreshing,
                rx.text(S.refresh_progress, size="2", data_testid="refresh-progress"),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            S.refresh_result != "",
            rx.callout(
                S.refresh_result,
                icon=rx.cond(S.refresh_failed, "triangle-alert", "circle-check"),
                color_scheme=rx.cond(S.refresh_failed, "amber", "green"),
                width="100%",
                data_testid="refresh-result",
            ),
        ),
        width="100%",
        spacing="2",
    )


def _grid(rows: rx.Var, testid: str) -> rx.Component:
    return rx.grid(
        rx.foreach(rows, source_card),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
        data_testid=testid,
    )


def _groups() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.other_cards.length() > 0,
            rx.heading("Мои источники", size="4", as_="h2", data_testid="group-own"),
        ),
        rx.cond(S.own_cards.length() > 0, _grid(S.own_cards, "sources-list")),
        rx.cond(
            S.other_cards.length() > 0,
            rx.vstack(
                rx.heading(S.others_heading, size="4", as_="h2", data_testid="group-others"),
                _grid(S.other_cards, "sources-others"),
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _empty_state() -> rx.Component:
    return rx.callout(
        "Вы пока не отслеживаете ни одного сообщества. Вставьте ссылки в поле выше и "
        "нажмите «Добавить» — данные начнут собираться сразу.",
        icon="info",
        width="100%",
        data_testid="sources-empty",
    )


def _nothing_found() -> rx.Component:
    return rx.callout(
        "Ни один источник не подходит под поиск и фильтры.",
        icon="search",
        width="100%",
        data_testid="sources-none-found",
    )


def _remove_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Перестать отслеживать?"),
            rx.alert_dialog.description(
                "«" + S.confirm_name + "» исчезнет из вашего списка. Уже собранные "
                "данные сохранятся; добавить источник можно снова в любой момент."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(
                        "Отмена", variant="soft", color_scheme="gray", on_click=S.cancel_remove
                    )
                ),
                rx.alert_dialog.action(
                    rx.button(
                        "Удалить",
                        color_scheme="red",
                        on_click=S.confirm_remove,
                        data_testid="remove-confirm",
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
        ),
        open=S.confirm_open,
    )


@page(route="/sources", title="Источники — socstat", on_load=protected(S.load))
def sources_page() -> rx.Component:
    return page_frame(
        "Источники",
        add_sources_form(S),
        _refresh_bar(),
        rx.foreach(
            S.problems,
            lambda p: rx.callout(p, icon="info", color_scheme="amber", width="100%"),
        ),
        rx.cond(
            S.total > 0,
            rx.vstack(
                _filters(),
                rx.cond(S.has_cards, _groups(), _nothing_found()),
                spacing="3",
                width="100%",
            ),
            rx.cond(S.loaded, _empty_state()),
        ),
        _remove_dialog(),
    )
