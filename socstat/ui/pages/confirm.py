"""Подтверждение адреса: the link from the registration email."""

from __future__ import annotations

import reflex as rx

from socstat.db import run_in_session
from socstat.services import accounts
from socstat.ui.auth import AuthState
from socstat.ui.components.layout import auth_frame
from socstat.ui.routing import page


class ConfirmState(AuthState):
    status: str = "checking"  # checking | ok | error
    message: str = ""

    @rx.event
    async def load(self) -> None:
        self.status = "checking"
        token = self._query_param("token")[:200]
        if not token:
            self.status = "error"
            self.message = accounts.MSG_BAD_LINK
            return
        try:
            await run_in_session(lambda s: accounts.confirm_email(s, token=token))
        except accounts.AccountError as exc:
            self.status = "error"
            self.message = str(exc)
            return
        self.status = "ok"
        self.message = "Адрес подтверждён. Теперь можно войти."


@page(route="/confirm", title="Подтверждение адреса — socstat", on_load=ConfirmState.load)
def confirm_page() -> rx.Component:
    return auth_frame(
        "Подтверждение адреса",
        rx.match(
            ConfirmState.status,
            ("checking", rx.hstack(rx.spinner(), rx.text("Проверяем ссылку…"))),
            (
                "ok",
                rx.vstack(
                    rx.callout(
                        ConfirmState.message,
                        icon="circle-check",
                        color_scheme="green",
                        width="100%",
                        data_testid="confirm-ok",
                    ),
                    rx.link(
                        rx.button("Войти", size="3", width="100%"), href="/login", width="100%"
                    ),
                    width="100%",
                ),
            ),
            rx.vstack(
                rx.callout(
                    ConfirmState.message,
                    icon="circle-alert",
                    color_scheme="red",
                    width="100%",
                    data_testid="confirm-error",
                ),
                rx.text(
                    "Войдите с вашим адресом и паролем — на странице входа можно отправить "
                    "письмо ещё раз.",
                    size="2",
                ),
                rx.link("Ко входу", href="/login"),
                width="100%",
            ),
        ),
    )
