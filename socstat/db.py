"""Engine and session helpers (sync SQLModel sessions; async via a worker thread)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, update
from sqlalchemy.engine import Engine, ScalarResult
from sqlmodel import Session, create_engine, select

from socstat.settings import get_settings

T = TypeVar("T")
M = TypeVar("M")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@functools.cache
def get_engine() -> Engine:
    return make_engine(get_settings().effective_database_url)


def reset_engine() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()


class KeepChanges(Exception):
    """An error after which the unit of work is still committed: the step failed, but what
    it recorded must stay (e.g. a wrong password counted by the brute-force throttle)."""


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error (commits, then re-raises,
    on :class:`KeepChanges`)."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except KeepChanges:
            session.commit()
            raise
        except BaseException:
            session.rollback()
            raise


def lock_rows(session: Session, model: type[M], column: Any, value: object) -> ScalarResult[M]:
    """``model``'s rows where ``column == value``, locked until the unit of work ends:
    PostgreSQL ``FOR UPDATE``; SQLite ignores it, so a no-op write to those rows first takes
    the one database write lock."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(model)
            .where(column == value)
            .values({column.key: column})
            .execution_options(synchronize_session=False)
        )
    return session.exec(
        select(model)
        .where(column == value)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def run_in_session(func: Callable[[Session], T]) -> T:
    """Run blocking database work in a thread so the event loop stays free."""

    def _work() -> T:
        with session_scope() as session:
            return func(session)

    return await asyncio.to_thread(_work)
