"""Восстановление пароля: request a link by email, then set a new password from it."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.db import run_in_session
from socstat.services import accounts
from socstat.ui.auth import AuthState
from socstat.ui.components.forms import (
    field,
    form,
    form_error,
    form_info,
    new_password_errors,
    new_password_fields,
    submit_button,
    text_of,
)
from socstat.ui.components.layout import auth_frame
from socstat.ui.routing import page


class ResetState(AuthState):
    mode: str = "request"  # request | set | invalid | done
    message: str = ""
    error: str = ""
    errors: dict[str, str] = {}
    loading: bool = False
    _token: str = ""

    @rx.event
    async def load(self) -> None:
        self.message = ""
        self.error = ""
        self.errors = {}
        self.loading = False
        token = self._query_param("token")[:200]
        self._token = token
        if not token:
            self.mode = "request"
            return
        valid = await run_in_session(
            lambda s: accounts.check_link_token(s, token=token, purpose=accounts.RESET)
        )
        self.mode = "set" if valid else "invalid"

    @rx.event
    async def request_link(self, form: dict[str, Any]):
        email = text_of(form, "email", 320).strip()
        self.error = ""
        self.errors = {}
        try:
            email = accounts.validate_email(email)
        except accounts.AccountError as exc:
            self.errors = {"email": str(exc)}
            return
        self.loading = True
        yield
        ip = self._client_ip()
        try:
            self.message = await run_in_session(
                lambda s: accounts.request_password_reset(s, email=email, ip=ip)
            )
        except accounts.AccountError as exc:
            self.errors = {"email": str(exc)}
        finally:
            self.loading = False

    @rx.event
    async def set_password(self, form: dict[str, Any]):
        password = text_of(form, "password")
        confirm = text_of(form, "confirm")
        self.error = ""
        self.errors = new_password_errors(password, confirm)
        if self.errors:
            return
        self.loading = True
        yield
        token, ip = self._token, self._client_ip()

        def _work(session: Session) -> None:
            accounts.reset_password(session, token=token, new_password=password, ip=ip)

        try:
            await run_in_session(_work)
        except accounts.AccountError as exc:
            self.error = str(exc)
            return
        finally:
            self.loading = False
        self._forget_session()
        self.mode = "done"


def _request_form() -> rx.Component:
    return rx.cond(
        ResetState.message != "",
        rx.vstack(form_info(ResetState.message), rx.link("Ко входу", href="/login"), width="100%"),
        form(
            rx.vstack(
                rx.text("Укажите адрес почты — мы пришлём ссылку для смены пароля.", size="2"),
                field(
                    "Электронная почта",
                    "email",
                    type_="email",
                    autocomplete="email",
                    error=ResetState.errors.get("email", ""),
                ),
                submit_button("Отправить ссылку", ResetState.loading, testid="reset-request"),
                rx.link("Ко входу", href="/login", size="2"),
                spacing="3",
                width="100%",
            ),
            on_submit=ResetState.request_link,
            width="100%",
        ),
    )


def _set_form() -> rx.Component:
    return form(
        rx.vstack(
            new_password_fields(ResetState.errors, label="Новый пароль"),
            form_error(ResetState.error),
            submit_button("Сохранить пароль", ResetState.loading, testid="reset-submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=ResetState.set_password,
        width="100%",
    )


def reset_page() -> rx.Component:
    return auth_frame(
        "Восстановление пароля",
        rx.match(
            ResetState.mode,
            ("set", _set_form()),
            (
                "invalid",
                rx.vstack(
                    rx.callout(accounts.MSG_BAD_LINK, icon="circle-alert", color_scheme="red"),
                    rx.link("Запросить новую ссылку", href="/reset"),
                ),
            ),
            (
                "done",
                rx.vstack(
                    rx.callout(
                        "Пароль изменён. Войдите с новым паролем.",
                        icon="circle-check",
                        color_scheme="green",
                        data_testid="reset-done",
                    ),
                    rx.link("Войти", href="/login"),
                ),
            ),
            _request_form(),
        ),
    )


for _route in ("/reset", "/forgot-password", "/reset-password", "/reset/confirm"):
    page(route=_route, title="Восстановление пароля — socstat", on_load=ResetState.load)(reset_page)
