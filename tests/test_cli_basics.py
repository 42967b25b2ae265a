"""`socstat migrate` and `socstat check-config` as a user runs them (a real subprocess)."""

import os
import subprocess
import sys

from sqlalchemy import create_engine, inspect

from socstat.settings import PROJECT_ROOT


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


def test_migrate_creates_the_schema_on_the_embedded_default(tmp_path):
    result = _socstat("migrate", SOCSTAT_DATABASE_URL="", SOCSTAT_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'socstat.db'}")
    assert {"user", "source", "dailystat", "alembic_version"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_check_config_reports_the_effective_settings(tmp_path):
    result = _socstat("check-config", SOCSTAT_DATABASE_URL="", SOCSTAT_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Конфигурация в порядке" in result.stdout
    assert "песочница" in result.stdout  # no VK tokens: demo mode


def test_bad_setting_is_named_and_exits_2():
    result = _socstat("check-config", SOCSTAT_TIMEZONE="Mars/Olympus")
    assert result.returncode == 2
    assert "SOCSTAT_TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr


def test_database_password_is_not_printed():
    url = "postgresql+psycopg://user:s3cret-pass@127.0.0.1:1/db"
    result = _socstat("check-config", SOCSTAT_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "s3cret-pass" not in result.stdout


def test_help_loads_neither_the_database_layer_nor_servers() -> None:
    probe = (
        "import sys\n"
        "from socstat.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('socstat.models', 'sqlmodel', 'reflex', 'socstat.sandbox.runner', 'httpx')\n"
        "print('loaded:', ','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "collect" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "loaded:"
