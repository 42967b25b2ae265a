"""Paging of the admin lists (users, audit): the label, previous/next, and the page's rows."""

from __future__ import annotations

from typing import Any

import pytest
import reflex as rx

from socstat.db import session_scope
from socstat.models import Role
from socstat.services import accounts, audit, sessions
from socstat.ui.pages.admin.audit import AdminAuditState
from socstat.ui.pages.admin.users import AdminUsersState
from tests.ui.cookies import set_session_cookie

PASSWORD = "Kx9#mQ2!vLp7-zR"


def _state(cls: type[rx.State], token: str) -> Any:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split("."))
    set_session_cookie(state, token)
    return state


@pytest.fixture
def admin_token(db) -> str:
    with session_scope() as session:
        boss = accounts.create_user_record(
            session, email="boss@example.org", password=PASSWORD, role=Role.ADMIN
        )
        for n in range(30):  # 31 users in all: two pages of 25; 30 audit events, one page
            user = accounts.create_user_record(
                session, email=f"u{n:02}@example.org", password=PASSWORD
            )
            audit.record(session, actor=boss, action="user.created", target_id=user.id)
        return sessions.create_session(session, user=boss).token


async def test_users_page_through_and_back(admin_token) -> None:
    state = _state(AdminUsersState, admin_token)
    await state._reload()
    assert (state.page_label, state.has_prev, state.has_next) == ("1–25 из 31", False, True)
    first = [row["email"] for row in state.users]
    assert len(first) == 25 and first == sorted(first)
    await state.next_page()
    assert (state.page_label, state.has_prev, state.has_next) == ("26–31 из 31", True, False)
    assert len(state.users) == 6 and not set(first) & {row["email"] for row in state.users}
    await state.next_page()  # nothing further: stays on the last page
    assert state.page_label == "26–31 из 31"
    await state.prev_page()
    assert [row["email"] for row in state.users] == first


async def test_audit_label_counts_events(admin_token) -> None:
    state = _state(AdminAuditState, admin_token)
    await state._reload()
    assert (state.page_label, state.has_prev, state.has_next) == ("1–30 из 30", False, False)
    assert len(state.events) == 30
