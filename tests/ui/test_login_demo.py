"""The login page lists the demo accounts' generated passwords in demo mode only."""

from __future__ import annotations

from typing import Any

import pytest
import reflex as rx

from socstat.db import session_scope
from socstat.services.demo_accounts import ensure_demo_users
from socstat.settings import reset_settings_cache
from socstat.ui.pages.login import LoginState


def _login_state() -> Any:
    root = rx.State(_reflex_internal_init=True)
    return root.get_substate(LoginState.get_full_name().split("."))


@pytest.fixture
def demo_env(db, monkeypatch):
    monkeypatch.setenv("SOCSTAT_ENV", "demo")
    monkeypatch.setenv("SOCSTAT_VK_TOKENS", "")
    reset_settings_cache()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings_cache()


async def test_login_page_shows_demo_passwords_only_in_demo_mode(demo_env) -> None:
    with session_scope() as session:
        created = {c.email: c.password for c in ensure_demo_users(session)}
    state = _login_state()
    await state.load()
    assert {d["email"]: d["password"] for d in state.demo_logins} == created

    demo_env.setenv("SOCSTAT_ENV", "prod")
    demo_env.setenv("SOCSTAT_SECRET_KEY", "prod-secret-key-0123456789")
    reset_settings_cache()
    state = _login_state()
    await state.load()
    assert state.demo_logins == []
