"""Подтверждение адреса: the link from the registration email (/confirm) and the link
that switches an account to a new address (/confirm-email)."""

from __future__ import annotations

import contextlib

import reflex as rx
from sqlalchemy.exc import IntegrityError

from socstat.db import run_in_session
from socstat.services import accounts
from socstat.services.authz import PermissionDenied
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
        _link_outcome(
            ConfirmState.status,
            ConfirmState.message,
            testid="confirm",
            proceed=rx.link(
                rx.button("Войти", size="3", width="100%"), href="/login", width="100%"
            ),
            hint="Войдите с вашим адресом и паролем — на странице входа можно отправить "
            "письмо ещё раз.",
            back=rx.link("Ко входу", href="/login"),
        ),
    )


def _link_outcome(
    status: rx.Var,
    message: rx.Var,
    *,
    testid: str,
    proceed: rx.Component,
    hint: str,
    back: rx.Component,
) -> rx.Component:
    """What a checked email link did: checking, then the message with ``proceed`` (ok) or
    with ``hint`` and ``back`` (error)."""

    def notice(icon: str, color: str, outcome: str) -> rx.Component:
        return rx.callout(
            message, icon=icon, color_scheme=color, width="100%", data_testid=f"{testid}-{outcome}"
        )

    return rx.match(
        status,
        ("checking", rx.hstack(rx.spinner(), rx.text("Проверяем ссылку…"))),
        ("ok", rx.vstack(notice("circle-check", "green", "ok"), proceed, width="100%")),
        rx.vstack(
            notice("circle-alert", "red", "error"), rx.text(hint, size="2"), back, width="100%"
        ),
    )


# --- email change --------------------------------------------------------------------


class ConfirmEmailState(AuthState):
    """The link of an email change request: switches the account to the new address."""

    status: str = "checking"  # checking | ok | error
    message: str = ""

    @rx.event
    async def load(self) -> None:
        self.status = "checking"
        self.message = ""
        token = self._query_param("token")[:200]
        if not token:
            self.status = "error"
            self.message = accounts.MSG_BAD_LINK
            return
        ip, current = self._client_ip(), self._session_token()
        try:
            address = await run_in_session(
                lambda s: (
                    accounts.confirm_email_change(
                        s, token=token, ip=ip, current_token=current
                    ).email
                )
            )
        except accounts.AccountError as exc:
            self.status = "error"
            self.message = str(exc)
            return
        except IntegrityError:  # another account took the address at the same moment
            self.status = "error"
            self.message = accounts.MSG_EMAIL_TAKEN
            return
        self.status = "ok"
        self.message = f"Адрес почты изменён на {address}. Входите с новым адресом."
        if self.signed_in:  # refresh the menu's address when this browser is signed in
            with contextlib.suppress(PermissionDenied):
                await self._actor_view(allow_unenrolled=True)


@page(
    route="/confirm-email",
    title="Смена адреса почты — socstat",
    on_load=ConfirmEmailState.load,
)
def confirm_email_page() -> rx.Component:
    return auth_frame(
        "Смена адреса почты",
        _link_outcome(
            ConfirmEmailState.status,
            ConfirmEmailState.message,
            testid="confirm-email",
            proceed=rx.link(
                rx.button("Перейти в профиль", size="3", width="100%"),
                href="/profile",
                width="100%",
            ),
            hint="Адрес почты не изменён. Запросите смену ещё раз в профиле — придёт новая ссылка.",
            back=rx.link("В профиль", href="/profile"),
        ),
    )
