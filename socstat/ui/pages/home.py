"""/ — the page after sign-in is the dashboard («Обзор», /dashboard): send visitors there."""

from typing import Any

import reflex as rx

from socstat.ui.auth import AuthState, protected
from socstat.ui.routing import page


class HomeState(AuthState):
    @rx.event
    def load(self) -> Any:
        return rx.redirect("/dashboard", replace=True)


@page(route="/", title="Обзор — socstat", on_load=protected(HomeState.load))
def home() -> rx.Component:
    return rx.center(rx.spinner(), min_height="50vh")
