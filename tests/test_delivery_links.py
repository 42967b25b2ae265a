"""Every link in a message comes from SOCSTAT_BASE_URL, and `make run` keeps it on PORT."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from socstat.services.delivery import links
from socstat.services.delivery.templates import render_email
from socstat.settings import reset_settings_cache

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_links_and_templates_use_the_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCSTAT_BASE_URL", "http://localhost:3100/")
    reset_settings_cache()
    try:
        assert links.url("/confirm", token="a b") == "http://localhost:3100/confirm?token=a+b"
        email = render_email("already_registered", {"user": {"name": "Анна"}})
    finally:
        monkeypatch.undo()
        reset_settings_cache()
    assert email.subject == "socstat: попытка регистрации"
    assert email.text.startswith("Здравствуйте, Анна!")
    assert "http://localhost:3100/forgot-password" in email.text
    assert 'href="http://localhost:3100/forgot-password"' in email.html


def test_html_templates_escape_what_users_typed() -> None:
    email = render_email("invite", {"user": {"name": "<b>x</b>"}, "link": "l", "invited_by": ""})
    assert "<b>x</b>" not in email.html and "&lt;b&gt;x&lt;/b&gt;" in email.html
    assert "<b>x</b>" in email.text


def _make_run_command(*args: str) -> str:
    result = subprocess.run(
        ["make", "-n", "-s", "run", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    [line] = [line for line in result.stdout.splitlines() if "reflex run" in line]
    return line


def test_make_run_points_links_at_its_port() -> None:
    line = _make_run_command("PORT=3100")
    assert "SOCSTAT_BASE_URL=http://localhost:3100 " in line and "--backend-port 3100" in line
    public = _make_run_command("PORT=3100", "SOCSTAT_BASE_URL=https://stats.example.org")
    assert "SOCSTAT_BASE_URL=https://stats.example.org " in public
