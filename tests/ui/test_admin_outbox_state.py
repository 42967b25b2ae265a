"""The admin «Исходящие» tab state: failed messages listed for admins, «Повторить» re-queues."""

from __future__ import annotations

from typing import Any

import pytest
import reflex as rx
from sqlmodel import select

from socstat.db import session_scope
from socstat.models import Role
from socstat.models.alerts import Outbox, OutboxStatus
from socstat.models.audit import AuditEvent
from socstat.services import accounts, delivery, sessions
from socstat.ui.pages.admin.outbox import AdminOutboxState
from tests.ui.cookies import set_session_cookie

PASSWORD = "Kx9#mQ2!vLp7-zR"


def _state(token: str) -> Any:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(AdminOutboxState.get_full_name().split("."))
    set_session_cookie(state, token)
    return state


@pytest.fixture
def people(db) -> dict[str, Any]:
    with session_scope() as session:
        boss = accounts.create_user_record(
            session, email="boss@example.org", password=PASSWORD, role=Role.ADMIN
        )
        ann = accounts.create_user_record(session, email="ann@example.org", password=PASSWORD)
        outbox_id = delivery.enqueue_email(
            session, to="lost@example.org", template="test", context={}
        )
        row = session.get(Outbox, outbox_id)
        row.status = OutboxStatus.FAILED
        row.last_error = "SMTPServerDisconnected: Connection unexpectedly closed"
        session.add(row)
        return {
            "outbox_id": outbox_id,
            "boss": sessions.create_session(session, user=boss).token,
            "ann": sessions.create_session(session, user=ann).token,
        }


def _status(outbox_id: int) -> str:
    with session_scope() as session:
        return session.get(Outbox, outbox_id).status


async def test_admin_sees_failed_messages_and_retries_one(people) -> None:
    state = _state(people["boss"])
    await state._reload()  # load() itself only skips the query for non-admins (cosmetic)
    [row] = state.failed
    assert row["recipient"] == "lo***@example.org" and "Connection" in row["error"]
    await state.retry("garbage")
    assert _status(people["outbox_id"]) == OutboxStatus.FAILED
    await state.retry(row["id"])
    assert _status(people["outbox_id"]) == OutboxStatus.PENDING
    assert state.failed == []
    with session_scope() as session:
        [event] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "outbox.retried")
        ).all()
        assert event.target_id == row["id"]


async def test_an_analyst_cannot_retry(people) -> None:
    state = _state(people["ann"])
    await state._reload()  # load() itself only skips the query for non-admins (cosmetic)
    assert state.failed == []
    await state.retry(str(people["outbox_id"]))
    assert _status(people["outbox_id"]) == OutboxStatus.FAILED
