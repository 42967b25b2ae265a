"""Вход: email + password, then a TOTP or recovery code when 2FA is on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.db import run_in_session
from socstat.models.base import utcnow
from socstat.services import accounts, demo_accounts, sessions
from socstat.services.system_settings import self_registration_enabled
from socstat.settings import get_settings
from socstat.ui.auth import (
    ENROL_PATH,
    AuthState,
    SignInOutcome,
    safe_next,
    user_view,
    with_ticket,
)
from socstat.ui.components.forms import field, form, form_error, form_info, submit_button, text_of
from socstat.ui.components.layout import auth_frame
from socstat.ui.routing import page

CREDENTIALS = "credentials"
CODE = "code"


def throttle_message(message: str, retry_after: int | None) -> str:
    """The service's throttling message plus the local time sign-in opens again."""
    if not retry_after:
        return message
    moment = (utcnow() + timedelta(seconds=retry_after)).astimezone(get_settings().tz)
    return f"{message} Вход снова будет доступен в {moment:%H:%M}."


class LoginState(AuthState):
    step: str = CREDENTIALS
    error: str = ""
    info: str = ""
    loading: bool = False
    registration_open: bool = False
    unconfirmed: bool = False
    demo_logins: list[dict[str, str]] = []
    _next: str = "/"
    _email: str = ""

    @rx.event
    async def load(self) -> Any:
        self._next = safe_next(self._query_param("next"))
        self.error = ""
        self.info = ""
        self.loading = False
        self.unconfirmed = False
        if self._query_param("expired"):
            self.error = "Вход не завершён: ссылка входа устарела. Войдите ещё раз."
        token, pending = self._session_token(), self._pending_token

        def _check(session: Session) -> tuple[str, dict[str, Any] | None, bool]:
            open_ = self_registration_enabled(session)
            user = sessions.resolve_session(session, token=token)
            if user is not None:
                return "signed_in", user_view(user), open_
            if sessions.resolve_pending_session(session, token=pending) is not None:
                return "pending", None, open_
            return "signed_out", None, open_

        verdict, view, self.registration_open = await run_in_session(_check)
        self.demo_logins = await run_in_session(
            lambda session: [
                {"email": d.email, "role": d.role, "password": d.password}
                for d in demo_accounts.demo_logins(session)
            ]
        )
        if verdict == "signed_in" and view is not None:
            self._apply_identity(view)
            return rx.redirect(self._next)
        self._clear_identity()
        if verdict == "pending":
            self.step = CODE
        else:
            self.step = CREDENTIALS
            self._pending_token = ""
        return None

    def _finish(self, outcome: SignInOutcome) -> Any:
        self.step = CREDENTIALS
        return self._enter(
            outcome.ticket or "", f"{ENROL_PATH}?enrol=1" if outcome.enrol else self._next
        )

    @rx.event
    async def submit_credentials(self, form: dict[str, Any]):
        email = text_of(form, "email", 320).strip()
        password = text_of(form, "password", 1000)
        self.error = ""
        self.info = ""
        self.unconfirmed = False
        if not email or not password:
            self.error = "Введите адрес почты и пароль."
            return
        self.loading = True
        yield
        ip, agent = self._client_ip(), self._user_agent()

        def _work(session: Session) -> SignInOutcome:
            result = accounts.authenticate(
                session, email=email, password=password, ip=ip, user_agent=agent
            )
            return with_ticket(session, result)

        try:
            outcome = await run_in_session(_work)
        finally:
            self.loading = False
        self._email = email
        if outcome.ticket:
            yield self._finish(outcome)
            return
        if outcome.pending_token:
            self._clear_identity()
            self._pending_token = outcome.pending_token
            self.step = CODE
            return
        self.error = throttle_message(outcome.message, outcome.retry_after)
        self.unconfirmed = outcome.unconfirmed

    @rx.event
    async def submit_code(self, form: dict[str, Any]):
        code = text_of(form, "code", 64).strip()
        self.error = ""
        if not code:
            self.error = "Введите код из приложения или резервный код."
            return
        self.loading = True
        yield
        token = self._pending_token
        ip, agent = self._client_ip(), self._user_agent()

        def _work(session: Session) -> SignInOutcome:
            result = accounts.complete_two_factor(
                session, token=token, code=code, ip=ip, user_agent=agent
            )
            if not result.ok and result.token:  # wrong code, the pending session lives on
                return SignInOutcome(status="retry", message=result.message)
            return with_ticket(session, result)

        try:
            outcome = await run_in_session(_work)
        finally:
            self.loading = False
        if outcome.ticket:
            yield self._finish(outcome)
            return
        if outcome.status == "retry":
            self.error = outcome.message
            return
        # expired or throttled: start over
        self._forget_session()
        self.step = CREDENTIALS
        self.error = throttle_message(outcome.message, outcome.retry_after)

    @rx.event
    async def back_to_credentials(self) -> None:
        token = self._pending_token
        if token:
            await run_in_session(lambda s: sessions.revoke_token(s, token=token))
        self._forget_session()
        self.step = CREDENTIALS
        self.error = ""

    @rx.event
    async def resend_confirmation(self) -> None:
        email = self._email
        if not email:
            return
        ip = self._client_ip()
        try:
            self.info = await run_in_session(
                lambda s: accounts.resend_confirmation(s, email=email, ip=ip)
            )
        except accounts.AccountError as exc:
            self.error = str(exc)
            return
        self.unconfirmed = False
        self.error = ""


def _credentials_form() -> rx.Component:
    return form(
        rx.vstack(
            field("Электронная почта", "email", type_="email", autocomplete="username"),
            field("Пароль", "password", type_="password", autocomplete="current-password"),
            form_error(LoginState.error),
            rx.cond(
                LoginState.unconfirmed,
                rx.button(
                    "Отправить письмо ещё раз",
                    type="button",
                    variant="soft",
                    on_click=LoginState.resend_confirmation,
                    data_testid="resend-confirmation",
                ),
            ),
            form_info(LoginState.info),
            submit_button("Войти", LoginState.loading, testid="login-submit"),
            rx.hstack(
                rx.link("Забыли пароль?", href="/reset", size="2", data_testid="forgot-link"),
                rx.spacer(),
                rx.cond(
                    LoginState.registration_open,
                    rx.link("Регистрация", href="/register", size="2", data_testid="register-link"),
                ),
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=LoginState.submit_credentials,
        width="100%",
        data_testid="login-form",
    )


def _code_form() -> rx.Component:
    return form(
        rx.vstack(
            rx.text(
                "Введите шестизначный код из приложения-аутентификатора "
                "или один из резервных кодов.",
                size="2",
            ),
            field(
                "Код",
                "code",
                autocomplete="one-time-code",
                input_mode="text",
                placeholder="123456",
            ),
            form_error(LoginState.error),
            submit_button("Подтвердить", LoginState.loading, testid="code-submit"),
            rx.button(
                "Войти под другой учётной записью",
                type="button",
                variant="ghost",
                on_click=LoginState.back_to_credentials,
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=LoginState.submit_code,
        reset_on_submit=True,
        width="100%",
        data_testid="code-form",
    )


def _demo_logins() -> rx.Component:
    """Demo mode only: the generated demo passwords, so a newcomer signs in in one step."""
    return rx.cond(
        LoginState.demo_logins.length() > 0,
        rx.callout.root(
            rx.callout.text("Демо-режим. Учётные записи для пробы:"),
            rx.foreach(
                LoginState.demo_logins,
                lambda item: rx.text(
                    rx.code(item["email"]), " — пароль ", rx.code(item["password"]), size="2"
                ),
            ),
            color_scheme="blue",
            width="100%",
            data_testid="demo-logins",
        ),
    )


@page(route="/login", title="Вход — socstat", on_load=LoginState.load)
def login_page() -> rx.Component:
    return auth_frame(
        "Вход",
        rx.cond(
            LoginState.step == CODE,
            _code_form(),
            rx.vstack(_credentials_form(), _demo_logins(), spacing="4", width="100%"),
        ),
    )
