"""Admin services: users, teams, system settings, VK tokens, audit browsing."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from socstat.models.accounts import Role
from socstat.models.base import utcnow
from socstat.models.sources import Source
from socstat.services import accounts, admin, audit, sessions, system_settings
from socstat.services.admin import AdminError
from socstat.services.system_settings import SettingsValidationError
from tests.services.accounts_fixtures import PASSWORD, make_user


@pytest.fixture
def boss(session):
    return make_user(session, "boss@example.com", Role.ADMIN, name="Главный")


def actions(session, boss):
    return [e.action for e in audit.list_events(session, actor=boss, limit=500).items]


def test_list_users_search_and_filters(session, boss):
    make_user(session, "ivanov@example.com", name="Иван Иванов")
    make_user(session, "petrova@example.com", Role.DIRECTOR, name="Мария Петрова")
    blocked = make_user(session, "gone@example.com")
    admin.block_user(session, actor=boss, user_id=blocked.id)
    session.commit()
    page = admin.list_users(session, actor=boss)
    assert page.total == 4 and page.items[0].email == "boss@example.com"
    assert [u.email for u in admin.list_users(session, actor=boss, search="IVAN").items] == [
        "ivanov@example.com"
    ]
    assert admin.list_users(session, actor=boss, search="Петрова").total == 1
    assert admin.list_users(session, actor=boss, role=Role.DIRECTOR).total == 1
    assert [u.email for u in admin.list_users(session, actor=boss, blocked=True).items] == [
        "gone@example.com"
    ]
    assert admin.list_users(session, actor=boss, blocked=False).total == 3
    assert admin.list_users(session, actor=boss, limit=2, offset=2).total == 4
    assert len(admin.list_users(session, actor=boss, limit=2, offset=2).items) == 2


def test_create_user_generates_a_password_once(session, boss):
    created = admin.create_user(session, actor=boss, email="New@Example.com", role=Role.ANALYST)
    session.commit()
    assert created.password and created.user.confirmed
    assert accounts.authenticate(session, email="new@example.com", password=created.password).ok
    given = admin.create_user(
        session, actor=boss, email="given@example.com", role=Role.DIRECTOR, password=PASSWORD
    )
    assert given.password is None
    with pytest.raises(accounts.AccountError, match="уже существует"):
        admin.create_user(session, actor=boss, email="new@example.com", role=Role.ANALYST)
    assert "user.created" in actions(session, boss)


def test_block_revokes_sessions_and_unblock(session, boss):
    user = make_user(session, "u@example.com")
    token = accounts.authenticate(session, email="u@example.com", password=PASSWORD).token
    session.commit()
    admin.block_user(session, actor=boss, user_id=user.id)
    session.commit()
    assert sessions.find_session(session, token=token) is None
    assert (
        "заблокирована"
        in accounts.authenticate(session, email="u@example.com", password=PASSWORD).message
    )
    admin.unblock_user(session, actor=boss, user_id=user.id)
    session.commit()
    assert accounts.authenticate(session, email="u@example.com", password=PASSWORD).ok
    with pytest.raises(AdminError):
        admin.block_user(session, actor=boss, user_id=boss.id)
    assert {"user.blocked", "user.unblocked"} <= set(actions(session, boss))


def test_change_role_and_last_sign_in(session, boss):
    user = make_user(session, "r@example.com")
    accounts.authenticate(session, email="r@example.com", password=PASSWORD)
    session.commit()
    assert admin.get_user(session, actor=boss, user_id=user.id).last_login_at is not None
    assert admin.set_role(session, actor=boss, user_id=user.id, role=Role.DIRECTOR).user.role == (
        Role.DIRECTOR
    )
    with pytest.raises(AdminError):
        admin.set_role(session, actor=boss, user_id=user.id, role="superuser")
    with pytest.raises(AdminError):
        admin.set_role(session, actor=boss, user_id=boss.id, role=Role.ANALYST)
    session.commit()
    event = audit.list_events(session, actor=boss, action="user.role_changed").items[0]
    assert event.details == {"old": "analyst", "new": "director"}
    assert event.actor_email == "boss@example.com" and event.target_id == str(user.id)


def test_teams(session, boss):
    director = make_user(session, "d@example.com", Role.DIRECTOR)
    a = make_user(session, "a@example.com")
    b = make_user(session, "b@example.com")
    team = admin.create_team(
        session, actor=boss, name=" Отдел SMM ", director_id=director.id, member_ids=[a.id]
    )
    assert team.name == "Отдел SMM" and team.director.email == "d@example.com"
    assert [m.email for m in team.members] == ["a@example.com"]
    with pytest.raises(AdminError):
        admin.create_team(session, actor=boss, name="Отдел SMM")
    with pytest.raises(AdminError, match="директор"):
        admin.set_team_director(session, actor=boss, team_id=team.id, director_id=a.id)
    renamed = admin.rename_team(session, actor=boss, team_id=team.id, name="Отдел 2")
    assert renamed.name == "Отдел 2"
    members = admin.set_team_members(
        session, actor=boss, team_id=team.id, member_ids=[a.id, b.id]
    ).members
    assert len(members) == 2
    assert admin.set_user_teams(session, actor=boss, user_id=b.id, team_ids=[]) == []
    second = admin.create_team(session, actor=boss, name="Второй")
    assert [
        t.name
        for t in admin.set_user_teams(
            session, actor=boss, user_id=a.id, team_ids=[second.id, team.id]
        )
    ] == ["Второй", "Отдел 2"]
    listed = admin.list_teams(session, actor=boss)
    assert [t.name for t in listed] == ["Второй", "Отдел 2"]
    people = {u.email: u for u in admin.list_users(session, actor=boss).items}
    assert people["d@example.com"].led_teams == ("Отдел 2",)
    assert people["d@example.com"].teams == () and people["a@example.com"].led_teams == ()
    assert admin.get_user(session, actor=boss, user_id=director.id).led_teams == ("Отдел 2",)
    admin.delete_team(session, actor=boss, team_id=second.id)
    session.commit()
    assert len(admin.list_teams(session, actor=boss)) == 1
    assert {"team.created", "team.renamed", "team.members_changed", "team.deleted"} <= set(
        actions(session, boss)
    )


# --- settings ---------------------------------------------------------------------------


def test_settings_validation_and_audit(session, boss):
    view = system_settings.get_settings_view(session, actor=boss)
    assert view.self_registration is True and view.require_2fa_admins is False
    assert view.collect_interval_hours == 24.0
    assert (
        system_settings.set_setting(session, actor=boss, key="collect_interval_hours", value="6,5")
        == 6.5
    )
    for bad in (0.5, 745, "abc", float("nan")):
        with pytest.raises(SettingsValidationError):
            system_settings.set_setting(
                session, actor=boss, key="collect_interval_hours", value=bad
            )
    with pytest.raises(SettingsValidationError):
        system_settings.set_setting(session, actor=boss, key="self_registration", value="maybe")
    with pytest.raises(SettingsValidationError):
        system_settings.set_setting(session, actor=boss, key="unknown", value=1)
    session.commit()
    assert system_settings.collect_interval_hours(session) == 6.5
    event = audit.list_events(session, actor=boss, action="settings.changed").items[0]
    assert event.details == {"key": "collect_interval_hours", "old": 24.0, "new": 6.5}
    assert event.details_label == "24 → 6,5, настройка: интервал сбора, ч"
    assert event.action_label == "Изменение настройки"


def test_smtp_password_is_encrypted_at_rest_and_not_audited(session, boss):
    secret = "smtp-Pa55word-very-secret"
    view = system_settings.set_smtp(
        session,
        actor=boss,
        host="mail.example.com",
        port=587,
        user="robot",
        password=secret,
        from_addr="stats@example.com",
        starttls=True,
    )
    session.commit()
    assert view.password_set and secret not in str(view)
    raw = session.execute(text("SELECT value FROM systemsetting WHERE key = 'smtp'")).scalar_one()
    assert secret not in str(raw)
    config = system_settings.smtp_config(session)
    assert config.password == secret and config.source == "database" and config.starttls
    # keep the password when None is given
    system_settings.set_smtp(
        session, actor=boss, host="mail2.example.com", port=25, from_addr="s@example.com"
    )
    assert system_settings.smtp_config(session).password == secret
    events = audit.list_events(session, actor=boss, limit=100).items
    assert secret not in str(events)
    with pytest.raises(SettingsValidationError):
        system_settings.set_smtp(
            session, actor=boss, host="h", port=70000, from_addr="s@example.com"
        )
    system_settings.clear_smtp(session, actor=boss)
    assert system_settings.smtp_config(session) is None


def test_vk_tokens_encrypted_masked_and_removable(session, boss):
    token = "vk1.a.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789wxyz"
    added = system_settings.add_vk_token(
        session, actor=boss, token=token, kind="community", label="Основной"
    )
    session.commit()
    assert added.masked == "••••wxyz" and token not in str(added)
    raw = session.execute(text("SELECT token_enc FROM apitoken")).scalar_one()
    assert token not in raw
    assert [t.token for t in system_settings.active_vk_tokens(session)] == [token]
    assert system_settings.list_vk_tokens(session, actor=boss)[0].kind == "community"
    with pytest.raises(SettingsValidationError):
        system_settings.add_vk_token(session, actor=boss, token=token, kind="root")
    with pytest.raises(SettingsValidationError):
        system_settings.add_vk_token(session, actor=boss, token="short", kind="user")
    system_settings.remove_vk_token(session, actor=boss, token_id=added.id)
    session.commit()
    assert system_settings.list_vk_tokens(session, actor=boss) == []
    assert token not in str(audit.list_events(session, actor=boss).items)


# --- audit ------------------------------------------------------------------------------


def test_audit_query_filters(session, boss):
    other = make_user(session, "o@example.com")
    audit.record(
        session,
        actor=boss,
        action="export.download",
        target_type="report",
        target_id=5,
        details={"format": "xlsx", "token": "secret"},
        ip="1.1.1.1",
    )
    audit.record(session, actor=other, action="source.add", target_type="source", target_id=9)
    session.commit()
    assert audit.list_events(session, actor=boss).total == 2
    mine = audit.list_events(session, actor=boss, user_id=boss.id).items
    assert [e.action for e in mine] == ["export.download"]
    assert mine[0].details == {"format": "xlsx", "token": "***"}
    assert audit.list_events(session, actor=boss, action="source.").total == 1
    future = utcnow() + timedelta(minutes=5)
    assert audit.list_events(session, actor=boss, date_from=future).total == 0
    assert audit.list_events(session, actor=boss, date_to=future).total == 2


def test_audit_rows_say_what_happened_in_words(session, boss):
    ivan = make_user(session, "ivan@example.org")
    source = Source(platform="vk", external_id="77", screen_name="citymusic", name="City Music")
    session.add(source)
    session.flush()
    admin.set_role(session, actor=boss, user_id=ivan.id, role=Role.DIRECTOR)
    audit.record(
        session,
        actor=ivan,
        action="auth.sign_in",
        target_type="user",
        target_id=ivan.id,
        details={"method": "2fa"},
    )
    audit.record(
        session, actor=ivan, action="source.add", target_type="source", target_id=source.id
    )
    audit.record(session, actor=boss, action="user.blocked", target_type="user", target_id=99999)
    session.commit()
    rows = {row.action: row for row in audit.list_events(session, actor=boss).items}
    assert rows["auth.sign_in"].action_label == "Вход в систему"
    assert rows["auth.sign_in"].target_label == "Пользователь ivan@example.org"
    assert rows["auth.sign_in"].details_label == "способ: пароль и код двухфакторной защиты"
    assert rows["source.add"].target_label == "Источник City Music"
    assert rows["user.role_changed"].details_label == "Аналитик → Руководитель"
    assert rows["user.blocked"].target_label == "Пользователь #99999 (удалён)"
    # the raw codes stay for filters and tooltips
    assert rows["user.role_changed"].details == {"old": "analyst", "new": "director"}
    assert rows["auth.sign_in"].target_id == str(ivan.id)


def test_every_recorded_action_has_a_label():
    recorded = set()
    for path in Path(audit.__file__).parent.rglob("*.py"):
        recorded |= set(re.findall(r'action="([a-z0-9_.]+)"', path.read_text(encoding="utf-8")))
    assert recorded and recorded <= set(audit.ACTION_LABELS)
    groups = {action.split(".")[0] + "." for action in audit.ACTION_LABELS}
    assert groups == set(audit.ACTION_GROUPS)
