"""The admin «SMS и Telegram» section's state: saves through the services, shows refusals
under their inputs, keeps the stored secret when the input is left empty and never holds
a secret itself; an analyst changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import reflex as rx

from socstat.db import session_scope
from socstat.models import Role
from socstat.services import accounts, sessions
from socstat.services.delivery import sms, telegram
from socstat.ui.pages.admin.channels import AdminChannelsState
from tests.ui.cookies import set_session_cookie

PASSWORD = "Kx9#mQ2!vLp7-zR"
API_KEY = "sms-key-0123456789"
BOT_TOKEN = "123456:" + "A" * 35


def _state(token: str) -> Any:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(AdminChannelsState.get_full_name().split("."))
    set_session_cookie(state, token)
    return state


@pytest.fixture
def tokens(db) -> dict[str, str]:
    with session_scope() as session:
        boss = accounts.create_user_record(
            session, email="boss@example.org", password=PASSWORD, role=Role.ADMIN
        )
        ann = accounts.create_user_record(session, email="ann@example.org", password=PASSWORD)
        return {
            "boss": sessions.create_session(session, user=boss).token,
            "ann": sessions.create_session(session, user=ann).token,
        }


async def _submit(events) -> list[Any]:
    return [event async for event in events]


def _gateway() -> sms.GatewayConfig | None:
    with session_scope() as session:
        return sms.gateway_config(session)


SMS_FORM = {
    "sms_base_url": "https://sms.example.ru",
    "sms_api_key": API_KEY,
    "sms_sender": "socstat",
    "sms_daily_cap": "5",
}


async def test_admin_saves_the_gateway_and_bot(tokens) -> None:
    state = _state(tokens["boss"])
    await state._reload()
    assert state.sms["configured"] is False and state.bot["base_url"] == telegram.DEFAULT_BASE_URL

    await _submit(state.save_sms({**SMS_FORM, "sms_daily_cap": "много"}))
    assert state.errors == {"sms_daily_cap": sms.DAILY_CAP_PROBLEM} and _gateway() is None
    await _submit(state.save_sms({**SMS_FORM, "sms_base_url": "sms.example.ru"}))
    assert list(state.errors) == ["sms_base_url"] and _gateway() is None
    await _submit(state.save_sms(SMS_FORM))
    assert state.errors == {}
    assert state.sms["configured"] is True and state.sms["key_masked"] == "••••6789"
    assert API_KEY not in str(state.sms)
    await _submit(state.save_sms({**SMS_FORM, "sms_api_key": "", "sms_sender": ""}))
    config = _gateway()
    assert (config.api_key, config.sender, config.daily_cap) == (API_KEY, "", 5)

    form = {"tg_username": "socstat_bot", "tg_token": "nope", "tg_base_url": ""}
    await _submit(state.save_bot(form))
    assert list(state.errors) == ["tg_token"]
    await _submit(state.save_bot({**form, "tg_token": BOT_TOKEN}))
    assert state.errors == {} and state.bot["configured"] is True
    assert BOT_TOKEN not in str(state.bot)
    with session_scope() as session:
        assert telegram.bot_config(session).token == BOT_TOKEN


async def test_an_analyst_changes_nothing(tokens) -> None:
    state = _state(tokens["ann"])
    await state._reload()
    assert state.sms == {} and state.bot == {}
    await _submit(state.save_sms(SMS_FORM))
    assert _gateway() is None
