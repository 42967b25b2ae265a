"""`socstat users …`."""

from __future__ import annotations

import io

from sqlmodel import select

from socstat.cli import main
from socstat.models.accounts import Role
from socstat.models.audit import AuditEvent
from socstat.services import accounts


def test_create_with_generated_password(db, capsys, session):
    assert (
        main(
            [
                "users",
                "create",
                "--email",
                "Cli@Example.com",
                "--role",
                "director",
                "--name",
                "Директор",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    password = out.split("Пароль (показывается один раз): ", 1)[1].strip()
    assert "cli@example.com" in out and len(password) >= 10
    assert accounts.authenticate(session, email="cli@example.com", password=password).ok


def test_create_with_password_from_stdin(db, capsys, session, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Stdin-Password-123\n"))
    assert (
        main(
            ["users", "create", "--email", "in@example.com", "--role", "admin", "--password-stdin"]
        )
        == 0
    )
    assert "Пароль" not in capsys.readouterr().out
    assert accounts.authenticate(session, email="in@example.com", password="Stdin-Password-123").ok


def test_create_rejects_weak_password_and_duplicates(db, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("qwerty123456\n"))
    assert (
        main(
            ["users", "create", "--email", "w@example.com", "--role", "analyst", "--password-stdin"]
        )
        == 2
    )
    assert "распространён" in capsys.readouterr().err
    assert main(["users", "create", "--email", "d@example.com", "--role", "analyst"]) == 0
    assert main(["users", "create", "--email", "d@example.com", "--role", "analyst"]) == 2


def test_list_and_set_role(db, capsys, session):
    main(["users", "create", "--email", "r@example.com", "--role", "analyst"])
    assert main(["users", "set-role", "--email", "r@example.com", "--role", "admin"]) == 0
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "r@example.com" in out and "admin" in out
    assert accounts.get_user_by_email(session, email="r@example.com").role == "admin"
    assert main(["users", "set-role", "--email", "none@example.com", "--role", "admin"]) == 2


def _audit(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_create_goes_through_the_admin_service_and_is_audited(db, capsys, session):
    assert main(["users", "create", "--email", "Boss@Example.com", "--role", "admin"]) == 0
    [event] = _audit(session, "user.created")
    assert event.user_id is None and event.target_id == str(
        accounts.get_user_by_email(session, email="boss@example.com").id
    )
    assert event.details == {"email": "boss@example.com", "role": "admin", "via": "cli"}
    # refused by the service (the address is taken): nothing written
    assert main(["users", "create", "--email", "boss@example.com", "--role", "analyst"]) == 2
    assert _audit(session, "user.created") == [event]


def test_set_role_keeps_the_last_admin_and_audits_changes(db, capsys, session):
    main(["users", "create", "--email", "only@example.com", "--role", "admin"])
    capsys.readouterr()
    assert main(["users", "set-role", "--email", "only@example.com", "--role", "analyst"]) == 2
    assert "последнего администратора" in capsys.readouterr().err
    only = accounts.get_user_by_email(session, email="only@example.com")
    assert only.role == Role.ADMIN and _audit(session, "user.role_changed") == []

    main(["users", "create", "--email", "second@example.com", "--role", "analyst"])
    assert main(["users", "set-role", "--email", "second@example.com", "--role", "admin"]) == 0
    assert main(["users", "set-role", "--email", "only@example.com", "--role", "analyst"]) == 0
    events = _audit(session, "user.role_changed")
    changes = {(e.target_id, e.details["new"]): e.details for e in events}
    second = accounts.get_user_by_email(session, email="second@example.com")
    assert changes == {
        (str(second.id), "admin"): {"old": "analyst", "new": "admin", "via": "cli"},
        (str(only.id), "analyst"): {"old": "admin", "new": "analyst", "via": "cli"},
    }
    # the same role again changes nothing and writes nothing
    assert main(["users", "set-role", "--email", "second@example.com", "--role", "admin"]) == 0
    assert len(_audit(session, "user.role_changed")) == 2
