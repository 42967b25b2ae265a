"""Приглашение: an invited user sets a password from the emailed link, then is signed in."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.db import run_in_session
from socstat.services import accounts
from socstat.ui.auth import ENROL_PATH, AuthState, SignInOutcome, with_ticket
from socstat.ui.components.forms import (
    field,
    form,
    form_error,
    new_password_errors,
    new_password_fields,
    submit_button,
    text_of,
)
from socstat.ui.components.layout import auth_frame
from socstat.ui.routing import page


class InviteState(AuthState):
    mode: str = "checking"  # checking | form | invalid
    error: str = ""
    errors: dict[str, str] = {}
    loading: bool = False
    _token: str = ""

    @rx.event
    async def load(self) -> None:
        self.error = ""
        self.errors = {}
        self.loading = False
        token = self._query_param("token")[:200]
        self._token = token
        valid = bool(token) and await run_in_session(
            lambda s: accounts.check_link_token(s, token=token, purpose=accounts.INVITE)
        )
        self.mode = "form" if valid else "invalid"

    @rx.event
    async def submit(self, form: dict[str, Any]):
        name = text_of(form, "name", 200).strip()
        password = text_of(form, "password")
        confirm = text_of(form, "confirm")
        self.error = ""
        self.errors = new_password_errors(password, confirm)
        if self.errors:
            return
        self.loading = True
        yield
        token, ip, agent = self._token, self._client_ip(), self._user_agent()

        def _work(session: Session) -> SignInOutcome:
            user = accounts.accept_invitation(
                session, token=token, password=password, name=name or None, ip=ip
            )
            email = user.email
            session.flush()
            result = accounts.authenticate(
                session, email=email, password=password, ip=ip, user_agent=agent
            )
            return with_ticket(session, result)

        try:
            outcome = await run_in_session(_work)
        except accounts.AccountError as exc:
            self.error = str(exc)
            return
        finally:
            self.loading = False
        if outcome.ticket:
            yield self._enter(outcome.ticket, f"{ENROL_PATH}?enrol=1" if outcome.enrol else "/")
            return
        yield rx.redirect("/login")


def _form() -> rx.Component:
    return form(
        rx.vstack(
            rx.text("Вас пригласили в socstat. Задайте пароль, чтобы войти.", size="2"),
            field("Имя", "name", autocomplete="name", placeholder="Как к вам обращаться"),
            new_password_fields(InviteState.errors),
            form_error(InviteState.error),
            submit_button("Задать пароль и войти", InviteState.loading, testid="invite-submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=InviteState.submit,
        width="100%",
    )


@page(route="/invite", title="Приглашение — socstat", on_load=InviteState.load)
def invite_page() -> rx.Component:
    return auth_frame(
        "Приглашение",
        rx.match(
            InviteState.mode,
            ("checking", rx.hstack(rx.spinner(), rx.text("Проверяем ссылку…"))),
            ("form", _form()),
            rx.vstack(
                rx.callout(
                    "Приглашение недействительно или устарело. Попросите администратора "
                    "отправить новое.",
                    icon="circle-alert",
                    color_scheme="red",
                    data_testid="invite-invalid",
                ),
                rx.link("Ко входу", href="/login"),
            ),
        ),
    )
