"""The email change handlers under pytest (no browser): the profile form and the link page."""

from __future__ import annotations

from typing import Any

import pytest
import reflex as rx
from reflex import constants
from reflex.istate.data import RouterData
from sqlmodel import select

from socstat.db import session_scope
from socstat.models.accounts import OneTimeToken, User
from socstat.models.audit import AuditEvent
from socstat.services import accounts, sessions
from socstat.ui.auth import AuthState
from socstat.ui.pages.confirm import ConfirmEmailState
from socstat.ui.pages.profile import ProfileState
from tests import smtp
from tests.smtp import SmtpSink
from tests.ui.cookies import set_session_cookie

smtp_server = smtp.smtp_server  # the fixture

PASSWORD = "Kx9#mQ2!vLp7-zR"


def _state(cls: type[AuthState], token: str = "") -> Any:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split("."))
    set_session_cookie(state, token)
    return state


def _open_link(page: Any, path: str, *, session_token: str = "") -> None:
    """What the browser tells the page state when the link ``path`` is opened (in a browser
    signed in with ``session_token``, when given)."""
    headers = {"origin": "http://t"}
    if session_token:
        headers["cookie"] = f"{sessions.COOKIE_NAME}={session_token}"
    page.router = RouterData.from_router_data(
        {constants.RouteVar.ORIGIN: path, constants.RouteVar.HEADERS: headers}
    )


async def _drain(handler: Any) -> list[Any]:
    return [event async for event in handler]


def _redirect_path(spec: Any) -> str | None:
    spec = spec[0] if isinstance(spec, list) else spec
    if getattr(spec.handler.fn, "__qualname__", "").endswith("_redirect"):
        return spec.args[0][1]._var_value
    return None


def _email_of(user_id: int) -> str:
    with session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.email


@pytest.fixture
def people(db) -> dict[str, Any]:
    with session_scope() as session:
        ann = accounts.create_user_record(session, email="ann@example.org", password=PASSWORD)
        bob = accounts.create_user_record(session, email="bob@example.org", password=PASSWORD)
        return {
            "ann_id": ann.id,
            "bob_id": bob.id,
            "ann": sessions.create_session(session, user=ann).token,
        }


async def test_profile_email_form_shows_inline_errors(people) -> None:
    state = _state(ProfileState, people["ann"])
    assert await state.load() is None

    await _drain(state.change_email({"new_email": "", "email_password": ""}))
    assert state.errors == {
        "new_email": "Введите новый адрес почты.",
        "email_password": "Введите текущий пароль.",
    }
    await _drain(state.change_email({"new_email": "no-at-sign", "email_password": PASSWORD}))
    assert set(state.errors) == {"new_email"} and "корректный" in state.errors["new_email"]
    await _drain(state.change_email({"new_email": "ANN@example.org", "email_password": PASSWORD}))
    assert state.errors == {"new_email": "Это ваш текущий адрес почты."}
    await _drain(
        state.change_email({"new_email": "ann2@example.org", "email_password": "Wrong-pass-1"})
    )
    assert state.errors == {"email_password": "Текущий пароль указан неверно."}
    assert state.email_notice == "" and state.pending_email == ""
    with session_scope() as session:
        assert session.exec(select(OneTimeToken)).all() == []


async def test_profile_email_change_request_and_link_page(people, smtp_server: SmtpSink) -> None:
    state = _state(ProfileState, people["ann"])
    assert await state.load() is None
    await _drain(
        state.change_email({"new_email": "Ann.New@example.org", "email_password": PASSWORD})
    )
    assert state.errors == {}
    assert state.email_notice == accounts.MSG_EMAIL_CHANGE_SENT
    assert state.pending_email == "ann.new@example.org"
    assert state.profile["email"] == "ann@example.org"  # not before the link is opened
    smtp_server.wait_for(2)
    [mail] = smtp_server.to("ann.new@example.org")
    token = smtp_server.token(mail, "/confirm-email")
    with session_scope() as session:
        elsewhere = sessions.create_session(session, user=session.get(User, people["ann_id"]))

    page = _state(ConfirmEmailState)  # opened in the browser ann is signed in with
    _open_link(page, f"/confirm-email?token={token}", session_token=people["ann"])
    await page.load()
    assert page.status == "ok" and "ann.new@example.org" in page.message
    with session_scope() as session:  # her other sessions end, this browser's stays
        assert sessions.resolve_session(session, token=elsewhere.token) is None
        assert sessions.resolve_session(session, token=people["ann"]) is not None
    assert _email_of(people["ann_id"]) == "ann.new@example.org"
    assert _email_of(people["bob_id"]) == "bob@example.org"

    await page.load()  # the same link again
    assert page.status == "error" and page.message == accounts.MSG_BAD_LINK

    assert await state.load() is None
    assert state.profile["email"] == "ann.new@example.org" and state.pending_email == ""
    with session_scope() as session:
        actions = session.exec(select(AuditEvent.action)).all()
    assert "user.email_changed" in actions


async def test_link_page_without_or_with_a_bad_token(people) -> None:
    page = _state(ConfirmEmailState)
    _open_link(page, "/confirm-email")
    await page.load()
    assert page.status == "error" and page.message == accounts.MSG_BAD_LINK
    _open_link(page, "/confirm-email?token=not-a-real-token")
    await page.load()
    assert page.status == "error" and page.message == accounts.MSG_BAD_LINK


async def test_profile_cancel_withdraws_the_pending_change(people) -> None:
    state = _state(ProfileState, people["ann"])
    assert await state.load() is None
    await _drain(state.change_email({"new_email": "ann3@example.org", "email_password": PASSWORD}))
    assert state.pending_email == "ann3@example.org"
    await state.cancel_email_change()
    assert state.pending_email == ""
    with session_scope() as session:
        assert accounts.pending_email_change(session, user=session.get(User, people["ann_id"])) is (
            None
        )


async def test_signed_out_email_change_goes_to_login(people) -> None:
    state = _state(ProfileState, "forged-token")
    state.user_email = "ann@example.org"  # display vars are never trusted
    events = await _drain(
        state.change_email({"new_email": "evil@example.org", "email_password": PASSWORD})
    )
    assert _redirect_path(events[-1]) == "/login"
    assert _redirect_path(await state.cancel_email_change()) == "/login"
    with session_scope() as session:
        assert session.exec(select(OneTimeToken)).all() == []
    assert _email_of(people["ann_id"]) == "ann@example.org"
