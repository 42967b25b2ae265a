"""`socstat migrate` and `socstat check-config` as a user runs them (a real subprocess)."""

import os
import subprocess
import sys

import pytest
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


def test_collect_loads_no_alert_evaluator_nor_delivery_to_register_the_hook(tmp_path) -> None:
    """The post-run hook is installed cheaply: its evaluator, the delivery channels and
    their templates load only when a run has an enabled rule or a held digest."""
    env = {"SOCSTAT_DATABASE_URL": "", "SOCSTAT_DATA_DIR": str(tmp_path)}
    assert _socstat("migrate", **env).returncode == 0
    probe = (
        "import sys\n"
        "from socstat.cli import main\n"
        "main(['collect'])\n"
        "heavy = ('socstat.services.alerts.evaluate', 'socstat.services.delivery', 'jinja2')\n"
        "print('hook:', 'socstat.services.alerts.hooks' in sys.modules)\n"
        "print('loaded:', ','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-2:] == ["hook: True", "loaded:"]


def _one_line_error(result: subprocess.CompletedProcess, code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["collect", "--source", "99999999999999999999"],
        ["collect", "--source", "0"],
        ["collect", "--source", "١٢٣"],
        ["stats", "--from", "2025-01-01", "--to", "2025-01-02", "--source", "-5"],
        ["sandbox", "serve", "--seed", "9" * 30],
        ["sandbox", "serve", "--port", "70000"],
        ["sandbox", "serve", "--communities", "99999999999"],
        ["sandbox", "serve", "--wall-get-quota", "inf"],
        ["sandbox", "serve", "--quota", "wall.get=99999999999999999999"],
    ],
)
def test_out_of_range_numbers_are_one_line_exit_2(argv):
    line = _one_line_error(_socstat(*argv), 2)
    assert "ошибка" in line


def test_unreachable_database_is_one_line_naming_the_host_exit_1():
    url = "postgresql+psycopg://bob:s3cret-pass@127.0.0.1:1/socstat"
    for argv in (["migrate"], ["sources", "list"], ["users", "list"]):
        line = _one_line_error(_socstat(*argv, SOCSTAT_DATABASE_URL=url), 1)
        assert "127.0.0.1:1" in line and "s3cret-pass" not in line


def test_without_a_secret_key_one_is_generated_once_and_never_printed(tmp_path):
    env = {"SOCSTAT_SECRET_KEY": "", "SOCSTAT_ENV": "dev", "SOCSTAT_DATA_DIR": str(tmp_path)}
    first = _socstat("check-config", **env)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) >= 32 and key_file.stat().st_mode & 0o777 == 0o600
    assert f"сгенерирован, файл {key_file}" in first.stdout
    assert "generated a random key" in first.stderr
    second = _socstat("check-config", **env)
    assert key_file.read_text().strip() == key
    assert "generated a random key" not in second.stderr
    assert key not in first.stdout + first.stderr + second.stdout + second.stderr
    from_env = _socstat("check-config", SOCSTAT_SECRET_KEY="x" * 20, SOCSTAT_DATA_DIR=str(tmp_path))
    assert "ключ шифрования: SOCSTAT_SECRET_KEY" in from_env.stdout
    assert "x" * 20 not in from_env.stdout


def test_prod_without_a_secret_key_refuses_and_generates_nothing(tmp_path):
    result = _socstat(
        "check-config", SOCSTAT_ENV="prod", SOCSTAT_SECRET_KEY="", SOCSTAT_DATA_DIR=str(tmp_path)
    )
    _one_line_error(result, 2)
    assert "SOCSTAT_SECRET_KEY" in result.stderr
    assert not (tmp_path / "secret_key").exists()
