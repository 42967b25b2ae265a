"""Shared fixtures: an isolated environment and a real database (PostgreSQL or SQLite)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from tests.dbutil import choose_database_url, create_scratch_database, drop_scratch_database

_TMP = Path(tempfile.mkdtemp(prefix="socstat-tests-"))
for _name in list(os.environ):
    if _name.startswith("SOCSTAT_") and _name != "SOCSTAT_TEST_DATABASE_URL":
        del os.environ[_name]
# Each pytest session gets its own database (on PostgreSQL: a scratch database created from
# the configured one), so parallel runs never see each other's rows.
_DATABASE_URL = choose_database_url(_TMP)
if not _DATABASE_URL.startswith("sqlite"):
    _DATABASE_URL = create_scratch_database(_DATABASE_URL)
os.environ.update(
    SOCSTAT_ENV="test",
    SOCSTAT_DATA_DIR=str(_TMP / "data"),
    SOCSTAT_SECRET_KEY="test-secret-key-0123456789abcdef",
    SOCSTAT_DATABASE_URL=_DATABASE_URL,
    REFLEX_TELEMETRY_ENABLED="false",
    REFLEX_CHECK_LATEST_VERSION="0",
)

import socstat.models  # noqa: E402,F401
from socstat import db as socstat_db  # noqa: E402
from socstat.settings import reset_settings_cache  # noqa: E402


def pytest_report_header(config: pytest.Config) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(os.environ["SOCSTAT_DATABASE_URL"])
    return f"socstat test database: {url.render_as_string(hide_password=True)}"


_BROWSER_TESTS = Path(__file__).parent / "browser"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if {"db", "session", "db_engine"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
    # Browser tests last: Playwright's sync API keeps an event loop running in the main
    # thread for the rest of the session, which asyncio tests after it cannot share.
    items.sort(key=lambda item: Path(str(item.path)).is_relative_to(_BROWSER_TESTS))


@pytest.fixture(scope="session")
def db_engine() -> Iterator[Engine]:
    reset_settings_cache()
    socstat_db.reset_engine()
    engine = socstat_db.get_engine()
    SQLModel.metadata.create_all(engine)
    yield engine
    socstat_db.reset_engine()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    socstat_db.reset_engine()
    if not _DATABASE_URL.startswith("sqlite"):
        drop_scratch_database(_DATABASE_URL)


def _empty_all_tables(engine: Engine) -> None:
    tables = SQLModel.metadata.sorted_tables
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


@pytest.fixture
def db(db_engine: Engine) -> Iterator[Engine]:
    """A database with every table, emptied after the test."""
    _empty_all_tables(db_engine)
    yield db_engine
    _empty_all_tables(db_engine)


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with Session(db, expire_on_commit=False) as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Rate-limit counts live in process memory: every test starts from zero."""
    from socstat.services import ratelimit

    ratelimit.reset()
    yield
    ratelimit.reset()
