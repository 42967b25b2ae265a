"""Access matrix at service level: users, teams, settings, audit, admin functions."""

from __future__ import annotations

import pytest

from socstat.models.accounts import Role
from socstat.models.base import utcnow
from socstat.services import admin, audit, authz, delivery, system_settings
from socstat.services.authz import PermissionDenied
from tests.services.accounts_fixtures import make_team, make_user


@pytest.fixture
def people(session):
    boss = make_user(session, "admin@example.com", Role.ADMIN)
    director = make_user(session, "director@example.com", Role.DIRECTOR)
    a = make_user(session, "a@example.com")
    b = make_user(session, "b@example.com")
    outsider = make_user(session, "c@example.com")
    other_director = make_user(session, "director2@example.com", Role.DIRECTOR)
    make_team(session, "Команда 1", director, a, b)
    make_team(session, "Команда 2", other_director, outsider)
    return {
        "admin": boss,
        "director": director,
        "a": a,
        "b": b,
        "c": outsider,
        "director2": other_director,
    }


def test_visible_user_ids(session, people):
    p = people
    assert authz.visible_user_ids(session, p["a"]) == {p["a"].id}
    assert authz.visible_user_ids(session, p["director"]) == {
        p["director"].id,
        p["a"].id,
        p["b"].id,
    }
    assert authz.visible_user_ids(session, p["admin"]) is None


def test_analyst_cannot_read_or_change_another_analysts_data(session, people):
    a, b = people["a"], people["b"]
    authz.ensure_can_read_user_data(session, a, a.id)
    authz.ensure_can_write_user_data(session, a, a.id)
    with pytest.raises(PermissionDenied):
        authz.ensure_can_read_user_data(session, a, b.id)
    with pytest.raises(PermissionDenied):
        authz.ensure_can_write_user_data(session, a, b.id)


def test_director_reads_team_members_only_and_never_writes(session, people):
    d = people["director"]
    authz.ensure_can_read_user_data(session, d, people["a"].id)
    with pytest.raises(PermissionDenied):
        authz.ensure_can_write_user_data(session, d, people["a"].id)
    for outside in ("c", "director2", "admin"):
        with pytest.raises(PermissionDenied):
            authz.ensure_can_read_user_data(session, d, people[outside].id)


def test_admin_reads_and_writes_everything(session, people):
    for who in ("a", "b", "c", "director"):
        authz.ensure_can_read_user_data(session, people["admin"], people[who].id)
        authz.ensure_can_write_user_data(session, people["admin"], people[who].id)


def test_blocked_users_are_refused_everywhere(session, people):
    boss = people["admin"]
    a = people["a"]
    a.blocked_at = utcnow()
    with pytest.raises(PermissionDenied, match="заблокирована"):
        authz.ensure_can_read_user_data(session, a, a.id)
    with pytest.raises(PermissionDenied):
        authz.visible_user_ids(session, a)
    boss.blocked_at = utcnow()
    with pytest.raises(PermissionDenied):
        admin.list_users(session, actor=boss)
    with pytest.raises(PermissionDenied):
        authz.require_role(None, Role.ADMIN)


NON_ADMIN_CALLS = {
    "list_users": lambda s, actor, p: admin.list_users(s, actor=actor),
    "get_user": lambda s, actor, p: admin.get_user(s, actor=actor, user_id=p["b"].id),
    "create_user": lambda s, actor, p: admin.create_user(
        s, actor=actor, email="x@example.com", role=Role.ADMIN
    ),
    "invite_user": lambda s, actor, p: admin.invite_user(
        s, actor=actor, email="y@example.com", role=Role.ADMIN
    ),
    "set_role": lambda s, actor, p: admin.set_role(
        s, actor=actor, user_id=actor.id, role=Role.ADMIN
    ),
    "block_user": lambda s, actor, p: admin.block_user(s, actor=actor, user_id=p["b"].id),
    "unblock_user": lambda s, actor, p: admin.unblock_user(s, actor=actor, user_id=p["b"].id),
    "reset_two_factor": lambda s, actor, p: admin.reset_two_factor(
        s, actor=actor, user_id=p["b"].id
    ),
    "revoke_user_sessions": lambda s, actor, p: admin.revoke_user_sessions(
        s, actor=actor, user_id=p["b"].id
    ),
    "set_user_teams": lambda s, actor, p: admin.set_user_teams(
        s, actor=actor, user_id=p["c"].id, team_ids=[]
    ),
    "list_teams": lambda s, actor, p: admin.list_teams(s, actor=actor),
    "create_team": lambda s, actor, p: admin.create_team(s, actor=actor, name="Моя"),
    "set_team_members": lambda s, actor, p: admin.set_team_members(
        s, actor=actor, team_id=1, member_ids=[p["c"].id]
    ),
    "settings_view": lambda s, actor, p: system_settings.get_settings_view(s, actor=actor),
    "set_setting": lambda s, actor, p: system_settings.set_setting(
        s, actor=actor, key="self_registration", value=False
    ),
    "set_smtp": lambda s, actor, p: system_settings.set_smtp(
        s, actor=actor, host="evil", port=25, from_addr="a@b.c"
    ),
    "list_vk_tokens": lambda s, actor, p: system_settings.list_vk_tokens(s, actor=actor),
    "add_vk_token": lambda s, actor, p: system_settings.add_vk_token(
        s, actor=actor, token="x" * 40
    ),
    "send_test_email": lambda s, actor, p: delivery.send_test_email(s, actor=actor, to="a@b.c"),
    "list_events": lambda s, actor, p: audit.list_events(s, actor=actor),
    "list_outbox": lambda s, actor, p: delivery.list_messages(s, actor=actor),
    "retry_outbox": lambda s, actor, p: delivery.retry_message(s, actor=actor, outbox_id=1),
}


@pytest.mark.parametrize("who", ["a", "director"])
@pytest.mark.parametrize("call", sorted(NON_ADMIN_CALLS))
def test_non_admins_cannot_touch_admin_functions(session, people, who, call):
    with pytest.raises(PermissionDenied):
        NON_ADMIN_CALLS[call](session, people[who], people)


def test_can_manage_user(session, people):
    assert authz.can_manage_user(session, people["admin"], people["a"])
    assert not authz.can_manage_user(session, people["director"], people["a"])
    assert not authz.can_manage_user(session, people["a"], people["a"])
