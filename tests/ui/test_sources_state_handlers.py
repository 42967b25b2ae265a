"""The sources states' (non-background) handlers under pytest: foreign ids are refused."""

from __future__ import annotations

from typing import Any

import pytest
import reflex as rx
from sqlmodel import select

from socstat.db import session_scope
from socstat.models import Role, Source, Subscription
from socstat.services import accounts, sessions
from socstat.ui.auth import AuthState
from socstat.ui.pages.source_detail import SourceDetailState
from socstat.ui.pages.sources import SourcesState
from tests.ui.cookies import set_session_cookie

PASSWORD = "Kx9#mQ2!vLp7-zR"


def _state(cls: type[AuthState], token: str = "") -> Any:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split("."))
    set_session_cookie(state, token)
    return state


def _js(spec: Any) -> str:
    assert spec is not None
    spec = spec[0] if isinstance(spec, list) else spec
    text = " ".join(str(getattr(v, "_js_expr", v)) for _, v in spec.args)
    return f"{spec.handler.fn.__qualname__} {text}".encode().decode("unicode_escape")


@pytest.fixture
def people(db) -> dict[str, Any]:
    with session_scope() as session:
        ann = accounts.create_user_record(session, email="ann@example.org", password=PASSWORD)
        bob = accounts.create_user_record(session, email="bob@example.org", password=PASSWORD)
        accounts.create_user_record(
            session, email="dir@example.org", password=PASSWORD, role=Role.DIRECTOR
        )
        source = Source(external_id="42", screen_name="annclub", name="Клуб Анны")
        session.add(source)
        session.flush()
        session.add(Subscription(user_id=ann.id, source_id=source.id))
        return {
            "source_id": source.id,
            "ann": sessions.create_session(session, user=ann).token,
            "bob": sessions.create_session(session, user=bob).token,
        }


def _subscriptions() -> int:
    with session_scope() as session:
        return len(session.exec(select(Subscription)).all())


async def test_list_is_the_actors_own(people) -> None:
    state = _state(SourcesState, people["ann"])
    await state.load()
    assert [r["name"] for r in state.own_cards] == ["Клуб Анны"]
    other = _state(SourcesState, people["bob"])
    await other.load()
    assert other.own_cards == [] and other.loaded


async def test_signed_out_load_redirects_to_login(people) -> None:
    state = _state(SourcesState, "forged")
    assert "/login" in _js(await state.load())
    assert state.own_cards == []


async def test_removing_someone_elses_source_is_refused(people) -> None:
    state = _state(SourcesState, people["bob"])
    state.ask_remove(str(people["source_id"]))
    assert state.confirm_open and state.confirm_name == ""  # Bob's list does not have it
    js = _js(await state.confirm_remove())
    assert "error" in js and "не отслеживаете" in js
    assert _subscriptions() == 1


async def test_garbage_ids_are_ignored(people) -> None:
    state = _state(SourcesState, people["ann"])
    for raw in ("abc", "-1", None, {"x": 1}, "1 OR 1=1"):
        state.ask_remove(raw)
        assert not state.confirm_open
    state.confirm_id = "1 OR 1=1"  # as if the browser set it
    js = _js(await state.confirm_remove())
    assert "error" in js
    assert _subscriptions() == 1


async def test_own_removal_works(people) -> None:
    state = _state(SourcesState, people["ann"])
    await state.load()
    state.ask_remove(str(people["source_id"]))
    assert state.confirm_name == "Клуб Анны"
    assert "success" in _js(await state.confirm_remove())
    assert state.own_cards == [] and _subscriptions() == 0


def _tags_of_ann() -> str:
    with session_scope() as session:
        return session.exec(select(Subscription.tags)).one()


async def test_tags_add_filter_remove_on_own_source(people) -> None:
    sid = str(people["source_id"])
    state = _state(SourcesState, people["ann"])
    await state.load()
    await state.add_tag({"source_id": sid, "tag": " Конкуренты "})
    assert state.card_tags[sid] == ["Конкуренты"] and state.tag_options == ["Конкуренты"]
    await state.add_tag({"source_id": sid, "tag": "КОНКУРЕНТЫ"})
    assert "уже есть" in state.tag_error and state.tag_error_id == sid
    await state.set_tag_filter("конкуренты")
    assert [c["id"] for c in state.own_cards] == [sid] and "tag=" in state.query
    await state.remove_tag(sid, "конкуренты")
    assert _tags_of_ann() == ""
    assert state.own_cards == [] and state.total == 1  # the tag filter now matches nothing
    await state.set_tag_filter("")
    assert len(state.own_cards) == 1 and state.tag == "all" and state.card_tags[sid] == []


async def test_crafted_tag_events_on_someone_elses_source_are_refused(people) -> None:
    sid = str(people["source_id"])
    owner = _state(SourcesState, people["ann"])
    await owner.add_tag({"source_id": sid, "tag": "клиент А"})
    state = _state(SourcesState, people["bob"])
    await state.load()
    for form in (
        {"source_id": sid, "tag": "чужое"},
        {"source_id": "1 OR 1=1", "tag": "x"},
        {"source_id": None, "tag": "x"},
        "not a form",
    ):
        await state.add_tag(form)
    await state.remove_tag(sid, "клиент А")
    assert "не отслеживаете" in state.tag_error
    assert state.card_tags == {} and state.tag_options == [] and state.own_cards == []
    assert _tags_of_ann() == "клиент А"
    forged = _state(SourcesState, "forged")
    assert "/login" in _js(await forged.add_tag({"source_id": sid, "tag": "x"}))
    assert _tags_of_ann() == "клиент А"


async def test_filters_come_from_and_go_to_the_url(people, monkeypatch) -> None:
    url = {"q": "анн", "sort": "members", "desc": "1", "status": "bad"}
    monkeypatch.setattr(SourcesState, "_query_params", lambda self: url)
    state = _state(SourcesState, people["ann"])
    await state.load()
    assert state.search == "анн" and state.sort == "members" and state.descending
    assert state.status == "all" and state.problems == [
        "Неизвестный статус — показаны все источники."
    ]
    assert state.query == "q=%D0%B0%D0%BD%D0%BD&sort=members&desc=1"
    assert [c["name"] for c in state.own_cards] == ["Клуб Анны"]
    await state.set_search("нет такого")
    assert state.own_cards == [] and state.total == 1
    await state.set_sort("'; drop")
    assert state.sort == "members"


def _detail(monkeypatch, token: str, path_id: str) -> Any:
    monkeypatch.setattr(SourceDetailState, "_path_id", lambda self: path_id)
    return _state(SourceDetailState, token)


async def test_detail_of_foreign_source_says_no_access(people, monkeypatch) -> None:
    for path_id in (str(people["source_id"]), "999999", "abc", "-5", ""):
        state = _detail(monkeypatch, people["bob"], path_id)
        await state.load()
        assert state.denied, path_id
        assert state.header == {} and state.rows == []
    # a later control change does not help either
    state = _detail(monkeypatch, people["bob"], str(people["source_id"]))
    await state.choose_period("7")
    await state.choose_kind("post")
    await state.apply_custom({"date_from": "2026-01-01", "date_to": "2026-01-31"})
    assert state.denied and state.rows == []


async def test_detail_loads_and_validates_controls(people, monkeypatch) -> None:
    state = _detail(monkeypatch, people["ann"], str(people["source_id"]))
    await state.load()
    assert not state.denied and state.header["name"] == "Клуб Анны"
    assert len(state.rows) == 30 and state.rows[0]["count"] == "—"  # never collected
    await state.choose_period("7")
    assert len(state.rows) == 7 and state.period == "7"
    for bad in ("365", None, 7, {"a": 1}):
        await state.choose_period(bad)
        assert state.error and len(state.rows) == 7
    await state.choose_kind("stories")
    assert state.error == "Неизвестный тип публикаций." and state.kind == "all"
    await state.apply_custom({"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert "позже" in state.error and len(state.rows) == 7
    await state.apply_custom({"date_from": "2026-01-01", "date_to": "2026-01-10"})
    assert state.error == "" and len(state.rows) == 10 and state.period == "custom"
    await state.apply_custom("not a form")
    assert len(state.rows) == 10


def _kinds_of_ann() -> tuple[bool, bool, bool]:
    with session_scope() as session:
        sub = session.exec(select(Subscription)).one()
        return sub.track_posts, sub.track_videos, sub.track_clips


async def _drain(events: Any) -> list[Any]:
    return [event async for event in events]


async def test_kinds_saved_on_own_card_and_the_last_one_kept(people) -> None:
    sid = str(people["source_id"])
    state = _state(SourcesState, people["ann"])
    await state.load()
    assert state.card_kinds == {sid: ["post", "video", "clip"]}
    await _drain(state.set_kinds(sid, ["clip"]))
    assert _kinds_of_ann() == (False, False, True)
    assert state.card_kinds[sid] == ["clip"] and state.saving == "" and state.errors == {}
    await _drain(state.set_kinds(sid, []))
    assert "хотя бы один" in state.errors[f"kinds-{sid}"]
    assert _kinds_of_ann() == (False, False, True) and state.card_kinds[sid] == ["clip"]


async def test_crafted_kinds_events_on_someone_elses_source_are_refused(people) -> None:
    sid = str(people["source_id"])
    state = _state(SourcesState, people["bob"])
    await state.load()
    await _drain(state.set_kinds(sid, ["clip"]))
    assert "не отслеживаете" in state.errors[f"kinds-{sid}"]
    for raw in ("1 OR 1=1", None, {"x": 1}, -1):
        await _drain(state.set_kinds(raw, ["clip"]))
        assert state.errors and "kinds-" in next(iter(state.errors))
    await _drain(state.set_kinds(sid, "clip"))
    assert state.card_kinds == {} and state.own_cards == []
    assert _kinds_of_ann() == (True, True, True)
    forged = _state(SourcesState, "forged")
    events = await _drain(forged.set_kinds(sid, ["clip"]))
    assert "/login" in _js([e for e in events if e is not None])
    assert _kinds_of_ann() == (True, True, True)
