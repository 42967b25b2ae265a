"""The alerts and notifications states under pytest: crafted events with another user's
ids change nothing and reveal nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import reflex as rx
from sqlmodel import select

from socstat.db import session_scope
from socstat.models import (
    AlertFiring,
    AlertRule,
    FiringState,
    Notification,
    Source,
    Subscription,
)
from socstat.services import accounts, sessions
from socstat.ui.auth import AuthState
from socstat.ui.components.bell import BellState
from socstat.ui.pages.alerts import AlertsState
from socstat.ui.pages.notifications import NotificationsState
from tests.ui.cookies import set_session_cookie

PASSWORD = "Kx9#mQ2!vLp7-zR"


def _state(cls: type[AuthState], token: str) -> Any:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split("."))
    set_session_cookie(state, token)
    return state


@pytest.fixture
def people(db) -> dict[str, Any]:
    with session_scope() as session:
        ann = accounts.create_user_record(session, email="ann@example.org", password=PASSWORD)
        bob = accounts.create_user_record(session, email="bob@example.org", password=PASSWORD)
        source = Source(external_id="42", screen_name="annclub", name="Клуб Анны")
        session.add(source)
        session.flush()
        session.add(Subscription(user_id=ann.id, source_id=source.id))
        session.add(Notification(user_id=ann.id, kind="alert", title="Для Анны", link="/alerts"))
        return {
            "source_id": source.id,
            "ann_id": ann.id,
            "ann": sessions.create_session(session, user=ann).token,
            "bob": sessions.create_session(session, user=bob).token,
        }


def _rules() -> list[tuple[int, str, float, bool]]:
    with session_scope() as session:
        rows = session.exec(select(AlertRule)).all()
        return [(r.owner_id, r.metric, r.threshold, r.enabled) for r in rows]


async def test_rules_are_the_owners_only(people) -> None:
    ann = _state(AlertsState, people["ann"])
    await ann.load()
    assert [s["name"] for s in ann.sources] == ["Клуб Анны"]
    ann.new_rule()
    ann.set_value("scope", "source")
    ann.set_value("source_id", str(people["source_id"]))
    ann.set_value("metric", "likes")
    ann.set_value("threshold", "1 000")
    ann.set_value("no_such_field", "x")  # ignored
    await ann.save()
    assert ann.error == "" and not ann.form_open
    [rule] = ann.rules
    before = _rules()
    assert before == [(people["ann_id"], "likes", 1000.0, True)]

    bob = _state(AlertsState, people["bob"])
    await bob.load()
    assert bob.rules == [] and bob.sources == []
    await bob.edit(rule["id"])
    assert bob.error == "Правило не найдено." and not bob.form_open
    await bob.show_history(rule["id"])
    assert bob.history == [] and bob.history_id == ""
    await bob.toggle_enabled(rule["id"], False)
    await bob.delete(rule["id"])
    await bob.delete("1; drop table")
    assert _rules() == before
    bob.new_rule()
    bob.set_value("scope", "source")
    bob.set_value("source_id", str(people["source_id"]))
    bob.set_value("threshold", "5")
    assert await bob.save() is not None  # refused with an error toast: not his source
    assert _rules() == before


async def test_notifications_are_the_owners_only(people) -> None:
    bob = _state(NotificationsState, people["bob"])
    await bob.load()
    assert bob.rows == []
    with session_scope() as session:
        note_id = session.exec(select(Notification.id)).one()
    await bob.mark_read(str(note_id))
    await bob.open_link(str(note_id))
    await bob.mark_all_read()
    bell = _state(BellState, people["ann"])
    await bell.refresh()
    assert bell.unread == 1
    ann = _state(NotificationsState, people["ann"])
    await ann.load()
    assert [r["title"] for r in ann.rows] == ["Для Анны"]
    await ann.mark_read(str(note_id))
    await bell.refresh()
    assert bell.unread == 0


async def test_history_numbers_are_formatted_the_russian_way(people) -> None:
    ann = _state(AlertsState, people["ann"])
    await ann.load()
    ann.new_rule()
    ann.set_value("scope", "source")
    ann.set_value("source_id", str(people["source_id"]))
    ann.set_value("metric", "views")
    ann.set_value("threshold", "1000")
    await ann.save()
    [rule] = ann.rules
    with session_scope() as session:
        for key, value in (("a", 1234567.0), ("b", 2.5), ("c", None)):
            session.add(
                AlertFiring(
                    rule_id=int(rule["id"]),
                    key=key,
                    state=FiringState.FIRED,
                    source_id=people["source_id"],
                    window_start=date(2026, 3, 10),
                    window_end=date(2026, 3, 10),
                    value=value,
                )
            )
    await ann.show_history(rule["id"])
    values = sorted(entry["what"].rsplit(" · ", 1)[-1] for entry in ann.history)
    assert values == ["1\u202f234\u202f567", "2,5", "—"]  # thin spaces, comma; unknown is "—"
