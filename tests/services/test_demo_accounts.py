"""Demo accounts: demo mode only, random passwords shown once and on the login page."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import select

from socstat.models.accounts import User
from socstat.models.system import SystemSetting
from socstat.services import accounts, demo_accounts, system_settings
from socstat.services.authz import visible_user_ids
from socstat.services.demo_accounts import DemoRefused, demo_logins, ensure_demo_users
from socstat.settings import PROJECT_ROOT, reset_settings_cache
from tests.services.accounts_fixtures import make_user


@pytest.fixture
def env(monkeypatch):
    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reset_settings_cache()

    apply(SOCSTAT_ENV="demo", SOCSTAT_VK_TOKENS="")
    yield apply
    monkeypatch.undo()
    reset_settings_cache()


def test_random_passwords_shown_once_and_on_the_login_page(session, env):
    first = ensure_demo_users(session)
    session.commit()
    assert {c.role for c in first} == {"admin", "director", "analyst"}
    passwords = [c.password for c in first]
    assert all(c.created and len(c.password) >= 12 for c in first)
    assert len(set(passwords)) == 3 and not any(p.startswith("demo-") for p in passwords)
    for cred in first:
        assert accounts.authenticate(session, email=cred.email, password=cred.password).ok
    director = accounts.get_user_by_email(session, email="director@socstat.local")
    analyst = accounts.get_user_by_email(session, email="analyst@socstat.local")
    assert analyst.id in visible_user_ids(session, director)

    second = ensure_demo_users(session)
    session.commit()
    assert not any(c.created or c.password for c in second)  # printed only once
    assert [(d.email, d.password) for d in demo_logins(session)] == [
        (c.email, c.password) for c in first
    ]


def test_a_changed_password_is_no_longer_shown(session, env):
    first = {c.role: c for c in ensure_demo_users(session)}
    session.commit()
    analyst = accounts.get_user_by_email(session, email="analyst@socstat.local")
    accounts.change_password(
        session,
        user=analyst,
        current_password=first["analyst"].password,
        new_password="A-brand-new-password-42",
    )
    session.commit()
    assert [d.role for d in demo_logins(session)] == ["admin", "director"]


def test_installation_passwords_differ(session, env):
    first = {c.email: c.password for c in ensure_demo_users(session)}
    session.commit()
    for user in session.exec(select(User)).all():
        session.delete(user)
    session.delete(session.get(SystemSetting, demo_accounts.DEMO_CREDENTIALS))
    session.commit()
    again = {c.email: c.password for c in ensure_demo_users(session)}
    assert not set(first.values()) & set(again.values())


@pytest.mark.parametrize(
    "values",
    [
        {"SOCSTAT_ENV": "prod", "SOCSTAT_SECRET_KEY": "prod-secret-key-0123456789"},
        {"SOCSTAT_ENV": "test"},
        {"SOCSTAT_VK_TOKENS": "user:vk1.a.real-token"},
    ],
)
def test_outside_demo_mode_nothing_is_created_or_shown(session, env, values):
    ensure_demo_users(session)
    session.commit()
    env(**values)
    assert demo_logins(session) == []
    count = len(session.exec(select(User)).all())
    with pytest.raises(DemoRefused):
        ensure_demo_users(session)
    assert len(session.exec(select(User)).all()) == count


def test_a_token_stored_by_an_admin_ends_demo_mode(session, env):
    admin = make_user(session, "boss@example.com", role="admin")
    system_settings.add_vk_token(session, actor=admin, token="vk1.a.real-token-0123456789")
    session.commit()
    with pytest.raises(DemoRefused, match="VK-токены"):
        ensure_demo_users(session)
    assert accounts.get_user_by_email(session, email="admin@socstat.local") is None


def _socstat(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "socstat", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_command_refuses_with_tokens_but_make_run_mode_goes_on(db):
    real = {"SOCSTAT_ENV": "dev", "SOCSTAT_VK_TOKENS": "user:vk1.a.real-token"}
    refused = _socstat("demo", **real)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "VK-токены" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    tolerated = _socstat("demo", "--if-demo-mode", **real)
    assert tolerated.returncode == 0 and "не создаются" in tolerated.stdout
    prod = _socstat("demo", SOCSTAT_ENV="prod", SOCSTAT_SECRET_KEY="prod-secret-key-0123456789")
    assert prod.returncode == 2 and "SOCSTAT_ENV=prod" in prod.stderr
    assert _socstat("users", "list").stdout.strip() == "Пользователей нет."
