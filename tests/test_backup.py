"""`socstat backup`, `socstat backup --verify` and `socstat restore` as an operator runs them.

A real installation (migrated scratch database, a user, sources collected from the VK
sandbox) is backed up, restored into a fresh database, and must answer `socstat stats`
and sign-in exactly as before — on PostgreSQL and on SQLite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from socstat.db import make_engine
from socstat.sandbox.config import SandboxConfig
from socstat.sandbox.runner import SandboxServer
from socstat.services.accounts import authenticate
from socstat.services.backup import prune_backups
from socstat.settings import PROJECT_ROOT
from tests.dbutil import create_scratch_database, drop_scratch_database

PASSWORD = "backup-test-Pass-7281"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    now = datetime.now(UTC).replace(microsecond=0)
    config = SandboxConfig(
        seed=11, communities=4, days=5, now=now, running_clock=False, rate_limit=False
    )
    with SandboxServer(config) as server:
        yield server


@pytest.fixture
def scratch_urls() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for url in made:
        drop_scratch_database(url)


def _new_database(scratch_urls: list[str]) -> str:
    url = create_scratch_database(os.environ["SOCSTAT_DATABASE_URL"])
    scratch_urls.append(url)
    return url


def _socstat(
    database_url: str, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "SOCSTAT_DATABASE_URL": database_url, **env}
    return subprocess.run(
        [sys.executable, "-m", "socstat", *args],
        input=stdin,
        env=full_env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def _sign_in(database_url: str, email: str, password: str) -> str:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            result = authenticate(session, email=email, password=password)
            session.rollback()
            return result.status
    finally:
        engine.dispose()


def _stats(database_url: str) -> str:
    today = date.today()
    return _ok(
        _socstat(
            database_url,
            "stats",
            "--from",
            str(today - timedelta(days=30)),
            "--to",
            str(today + timedelta(days=1)),
            "--format",
            "csv",
        )
    )


@pytest.mark.slow
@pytest.mark.timeout(900)  # a dozen real `socstat` processes; slow on a loaded 2-core machine
def test_backup_restore_gives_the_same_answers(
    db, tmp_path: Path, sandbox: SandboxServer, scratch_urls: list[str]
) -> None:
    source = _new_database(scratch_urls)
    vk = {"SOCSTAT_VK_API_URL": sandbox.url, "SOCSTAT_VK_TOKENS": "backup-token-1234"}
    _ok(_socstat(source, "migrate"))
    _ok(
        _socstat(
            source,
            "users",
            "create",
            "--email",
            "ops@example.com",
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    names = [c["screen_name"] for c in sandbox.communities()[:3]]
    _ok(_socstat(source, "sources", "add", *names, **vk))
    _ok(_socstat(source, "collect", "--all", **vk))
    stats_before = _stats(source)
    assert stats_before.count("\n") > 3, stats_before
    assert _sign_in(source, "ops@example.com", PASSWORD) == "ok"

    out = _ok(_socstat(source, "backup", "--out", str(tmp_path)))
    archives = list(tmp_path.glob("socstat-*.tar"))
    assert len(archives) == 1 and str(archives[0]) in out
    assert oct(archives[0].stat().st_mode & 0o777) == "0o600"
    verified = _ok(_socstat(source, "backup", "--verify", str(archives[0])))
    assert "в порядке" in verified

    target = _new_database(scratch_urls)
    restored = _ok(_socstat(target, "restore", str(archives[0])))
    assert "миграции применены" in restored
    assert _stats(target) == stats_before
    assert _sign_in(target, "ops@example.com", PASSWORD) == "ok"
    assert _sign_in(target, "ops@example.com", "wrong-password-123") != "ok"

    refused = _socstat(target, "restore", str(archives[0]))
    assert refused.returncode == 2
    assert "не пуста" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    _ok(_socstat(target, "restore", "--force", str(archives[0])))
    assert _stats(target) == stats_before


def test_a_damaged_backup_is_refused_with_a_clear_line(
    db, tmp_path: Path, scratch_urls: list[str]
) -> None:
    source = _new_database(scratch_urls)
    _ok(_socstat(source, "migrate"))
    archive = tmp_path / "copy.tar"
    _ok(_socstat(source, "backup", "--out", str(archive)))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "x", filter="data")
    database_file = next(n for n in names if n != "manifest.json")
    (tmp_path / "x" / database_file).write_bytes(b"not the database")
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(damaged, "w") as tar:
        for name in names:
            tar.add(tmp_path / "x" / name, arcname=name)

    target = _new_database(scratch_urls)
    for args in (["restore", str(damaged)], ["backup", "--verify", str(damaged)]):
        result = _socstat(target, *args)
        assert result.returncode == 2, result.stdout
        assert "контрольная сумма" in result.stderr and "Traceback" not in result.stderr
    missing = _socstat(target, "restore", str(tmp_path / "nothing.tar"))
    assert missing.returncode == 2 and "не найден" in missing.stderr
    not_backup = tmp_path / "note.txt"
    not_backup.write_text("hello")
    result = _socstat(target, "restore", str(not_backup))
    assert result.returncode == 2 and "не резервная копия" in result.stderr


def test_prune_keeps_the_newest_of_each_day_week_and_month(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, 3, 30)
    made = []
    for day in range(120):
        for hour in (0, 12):
            moment = start + timedelta(days=day, hours=hour)
            path = tmp_path / f"socstat-{moment:%Y%m%d-%H%M%S}.tar"
            path.write_bytes(b"x")
            made.append((moment, path))
    removed = prune_backups(tmp_path, keep_daily=7, keep_weekly=4, keep_monthly=6)
    kept = sorted(p.name for p in tmp_path.glob("*.tar"))
    newest_per_day = {}
    for moment, path in made:
        newest_per_day[moment.date()] = path.name
    last_days = sorted(newest_per_day)[-7:]
    assert all(newest_per_day[d] in kept for d in last_days)
    assert len(kept) + len(removed) == len(made)
    months = {name[8:14] for name in kept}
    assert months == {"202601", "202602", "202603", "202604"}  # 120 days from 1 January
    assert len(kept) <= 7 + 4 + 6
    # the kept set is stable: pruning again removes nothing
    assert prune_backups(tmp_path, keep_daily=7, keep_weekly=4, keep_monthly=6) == []
