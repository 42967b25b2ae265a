"""Scope resolution: authorization per role, crafted ids refused, tags and tracked kinds."""

from __future__ import annotations

from datetime import date

import pytest

from socstat.models import Source
from socstat.services.analytics import AnalyticsError, Scope, resolve_scope
from socstat.services.authz import PermissionDenied
from tests.services.analytics.conftest import People, add_source, subscribe

START = date(2026, 3, 1)


@pytest.fixture
def sources(session, people: People) -> dict[str, int]:
    ann = add_source(session, people.ann, "1", history_start=START, tags="конкуренты, клиент А")
    ann2 = add_source(session, people.ann, "2", history_start=START, track_videos=False)
    bob = add_source(session, people.bob, "3", history_start=START)
    dora = add_source(session, people.dora, "4", history_start=START, tags="Конкуренты")
    dan = add_source(session, people.dan, "5", history_start=START)
    return {"ann": ann.id, "ann2": ann2.id, "bob": bob.id, "dora": dora.id, "dan": dan.id}


def _ids(session, actor, **scope) -> set[int]:
    return set(resolve_scope(session, actor=actor, scope=Scope(**scope)).source_ids)


def test_analyst_sees_own_sources_only(session, people, sources) -> None:
    assert _ids(session, people.ann) == {sources["ann"], sources["ann2"]}
    assert _ids(session, people.ann, source_ids=(sources["ann"],)) == {sources["ann"]}
    with pytest.raises(PermissionDenied, match="Нет доступа к источнику"):
        _ids(session, people.ann, source_ids=(sources["ann"], sources["bob"]))  # crafted id
    with pytest.raises(PermissionDenied):
        _ids(session, people.ann, source_ids=(999_999,))  # unknown: the same answer
    with pytest.raises(PermissionDenied):
        _ids(session, people.ann, user_id=people.bob.id)
    with pytest.raises(PermissionDenied):
        _ids(session, people.ann, team_id=people.team.id)


def test_director_sees_own_and_team(session, people, sources) -> None:
    mine = {sources["ann"], sources["ann2"], sources["dora"]}
    assert _ids(session, people.dora) == mine
    assert _ids(session, people.dora, team_id=people.team.id) == mine
    assert _ids(session, people.dora, user_id=people.ann.id) == {sources["ann"], sources["ann2"]}
    with pytest.raises(PermissionDenied):
        _ids(session, people.dora, user_id=people.bob.id)
    with pytest.raises(PermissionDenied):
        _ids(session, people.dora, team_id=people.other_team.id)
    with pytest.raises(PermissionDenied):
        _ids(session, people.dora, source_ids=(sources["dan"],))


def test_admin_any_user_team_or_everything(session, people, sources) -> None:
    assert _ids(session, people.admin) == set(sources.values())
    assert _ids(session, people.admin, user_id=people.bob.id) == {sources["bob"]}
    assert _ids(session, people.admin, team_id=people.other_team.id) == {sources["dan"]}
    with pytest.raises(PermissionDenied):  # a team that does not exist
        _ids(session, people.admin, team_id=999_999)
    with pytest.raises(AnalyticsError, match="либо"):
        _ids(session, people.admin, user_id=people.bob.id, team_id=people.team.id)


def test_blocked_or_missing_actor_is_refused(session, people, sources) -> None:
    with pytest.raises(PermissionDenied):
        resolve_scope(session, actor=None, scope=Scope())


def test_tags_narrow_case_insensitively(session, people, sources) -> None:
    assert _ids(session, people.dora, tags=("конкуренты",)) == {sources["ann"], sources["dora"]}
    assert _ids(session, people.ann, tags=("клиент а",)) == {sources["ann"]}
    assert _ids(session, people.ann, tags=("нет такого",)) == set()
    # a source of the scope without the tag is allowed, just not counted
    assert _ids(session, people.ann, tags=("клиент А",), source_ids=(sources["ann2"],)) == set()


def test_kinds_follow_what_subscriptions_track(session, people, sources) -> None:
    resolved = resolve_scope(session, actor=people.ann, scope=Scope(kinds=("video", "clip")))
    kinds = {s.id: s.kinds for s in resolved.sources}
    assert kinds == {sources["ann"]: {"video", "clip"}, sources["ann2"]: {"clip"}}
    assert resolved.ids_by_kind() == {"video": [sources["ann"]], "clip": sorted(kinds)}
    with pytest.raises(AnalyticsError, match="story"):
        resolve_scope(session, actor=people.ann, scope=Scope(kinds=("story",)))
    # a shared source: a kind counts when any subscription in scope tracks it
    subscribe(session, people.dora, session.get(Source, sources["ann2"]))
    seen = resolve_scope(session, actor=people.dora, scope=Scope()).sources
    assert "video" in next(s for s in seen if s.id == sources["ann2"]).kinds
