"""Регистрация: self-registration (when an admin allows it), then an email link."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.db import run_in_session
from socstat.services import accounts
from socstat.services.system_settings import self_registration_enabled
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


def registration_errors(email: str, password: str, confirm: str) -> dict[str, str]:
    """Inline errors of the registration form (empty dict when it may be submitted)."""
    errors: dict[str, str] = {}
    try:
        accounts.validate_email(email)
    except accounts.AccountError as exc:
        errors["email"] = str(exc)
    errors.update(new_password_errors(password, confirm, email.strip().lower()))
    return errors


class RegisterState(AuthState):
    registration_open: bool = True
    done: bool = False
    message: str = ""
    error: str = ""
    errors: dict[str, str] = {}
    loading: bool = False

    @rx.event
    async def load(self) -> None:
        self.done = False
        self.message = ""
        self.error = ""
        self.errors = {}
        self.registration_open = await run_in_session(self_registration_enabled)

    @rx.event
    async def submit(self, form: dict[str, Any]):
        email = text_of(form, "email", 320).strip()
        name = text_of(form, "name", 200).strip()
        password = text_of(form, "password")
        confirm = text_of(form, "confirm")
        self.error = ""
        self.errors = registration_errors(email, password, confirm)
        if self.errors:
            return
        self.loading = True
        yield
        ip = self._client_ip()

        def _work(session: Session) -> str:
            return accounts.register(session, email=email, password=password, name=name, ip=ip)

        try:
            self.message = await run_in_session(_work)
            self.done = True
        except accounts.AccountError as exc:
            self.error = str(exc)
            self.registration_open = await run_in_session(self_registration_enabled)
        finally:
            self.loading = False


def _form() -> rx.Component:
    return form(
        rx.vstack(
            field(
                "Электронная почта",
                "email",
                type_="email",
                autocomplete="email",
                error=RegisterState.errors.get("email", ""),
            ),
            field("Имя", "name", autocomplete="name", placeholder="Как к вам обращаться"),
            new_password_fields(RegisterState.errors),
            form_error(RegisterState.error),
            submit_button("Зарегистрироваться", RegisterState.loading, testid="register-submit"),
            rx.link("Уже есть учётная запись? Войти", href="/login", size="2"),
            spacing="3",
            width="100%",
        ),
        on_submit=RegisterState.submit,
        width="100%",
        data_testid="register-form",
    )


def _closed() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "Самостоятельная регистрация отключена. Обратитесь к администратору за приглашением.",
            icon="lock",
            color_scheme="amber",
            width="100%",
            data_testid="registration-closed",
        ),
        rx.link("Войти", href="/login"),
        spacing="3",
        width="100%",
    )


@page(route="/register", title="Регистрация — socstat", on_load=RegisterState.load)
def register_page() -> rx.Component:
    return auth_frame(
        "Регистрация",
        rx.cond(
            RegisterState.done,
            rx.vstack(form_info(RegisterState.message), rx.link("Ко входу", href="/login")),
            rx.cond(RegisterState.registration_open, _form(), _closed()),
        ),
    )
