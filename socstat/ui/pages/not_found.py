"""Страница не найдена: any unknown address, inside the app's layout, with a way home.

Behind the sign-in guard like every page: a signed-out visitor learns nothing about
which addresses exist."""

from __future__ import annotations

import reflex as rx

from socstat.ui.auth import protected
from socstat.ui.components.layout import page_frame
from socstat.ui.routing import page


@page(route="404", title="Страница не найдена — socstat", on_load=protected())
def not_found_page() -> rx.Component:
    return page_frame(
        "Страница не найдена",
        rx.callout(
            "Такой страницы нет: адрес набран с ошибкой, или страница была удалена.",
            icon="map-pin-off",
            color_scheme="gray",
            width="100%",
            max_width="640px",
            data_testid="not-found",
        ),
        rx.hstack(
            rx.link(rx.button("На главную", data_testid="not-found-home"), href="/dashboard"),
            rx.link(rx.button("Источники", variant="soft"), href="/sources"),
            spacing="3",
            wrap="wrap",
        ),
    )
