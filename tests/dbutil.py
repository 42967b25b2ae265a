"""Choosing and resetting the test database (PostgreSQL when available, else SQLite)."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_answers(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def sqlite_url(directory: Path, name: str = "test.db") -> str:
    return f"sqlite:///{directory / name}"


def choose_database_url(tmp: Path) -> str:
    wanted = os.environ.get("SOCSTAT_TEST_DATABASE_URL", "")
    if wanted == "sqlite":
        return sqlite_url(tmp)
    if wanted:
        return wanted.replace("postgresql://", "postgresql+psycopg://", 1)
    if postgres_answers():
        return PG_DEFAULT
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but PostgreSQL does not answer at 127.0.0.1:5432")
    return sqlite_url(tmp)


def create_scratch_database(base_url: str) -> str:
    """A new empty database beside the test one (PostgreSQL) or a new file (SQLite)."""
    url = make_url(base_url)
    if url.get_backend_name() == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="socstat-scratch-")) / "scratch.db"
        return f"sqlite:///{path}"
    name = f"socstat_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_scratch_database(scratch_url: str) -> None:
    url = make_url(scratch_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").unlink(missing_ok=True)
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()
