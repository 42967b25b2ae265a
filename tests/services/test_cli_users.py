"""`socstat users …`."""

from __future__ import annotations

import io

from socstat.cli import main
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
