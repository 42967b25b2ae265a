"""Non-blocking locks shared by processes (scheduler leadership, collection runs).

PostgreSQL: a session advisory lock on a dedicated AUTOCOMMIT connection, held until
released or until the connection/process dies. SQLite: an exclusive `fcntl.flock` on a
file under data_dir (one host, which is all SQLite supports anyway).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from socstat.db import get_engine
from socstat.settings import Settings, get_settings

LEADER_LOCK_KEY = 0x50C57A7_1EAD  # fixed 64-bit keys for pg_try_advisory_lock
COLLECTION_LOCK_KEY = 0x50C57A7_C011


class ProcessLock:
    """Non-blocking lock across processes: PostgreSQL advisory lock or flock (SQLite)."""

    def __init__(
        self,
        *,
        engine: Engine | None = None,
        settings: Settings | None = None,
        key: int = LEADER_LOCK_KEY,
        name: str = "scheduler",
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._key = key
        self._name = name
        self._connection: Connection | None = None
        self._fd: int | None = None
        # one operation at a time: the scheduler abandons a check that overruns its time
        # (its thread runs on) and may release meanwhile; closing the connection under a
        # running SELECT returned it to the pool inside a transaction
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        return self._connection is not None or self._fd is not None

    def acquire(self) -> bool:
        """Try once; True when this process now holds (or already held) the lock."""
        with self._mutex:
            return self._acquire()

    def _acquire(self) -> bool:
        if self.held:
            return True
        engine = self._engine or get_engine()
        if engine.dialect.name == "postgresql":
            return self._acquire_postgres(engine)
        return self._acquire_file()

    def _acquire_postgres(self, engine: Engine) -> bool:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar()
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def check(self) -> bool:
        """Whether the lock is still held: PostgreSQL's lock lives as long as its connection,
        so a connection that no longer answers (terminated, network gone) means it is lost."""
        with self._mutex:
            return self._check()

    def _check(self) -> bool:
        if self._fd is not None:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1")).scalar()
        except Exception:
            return False
        return True

    def lock_path(self) -> Path:
        settings = self._settings or get_settings()
        return Path(settings.data_dir) / f"{self._name}.lock"

    def _acquire_file(self) -> bool:
        path = self.lock_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def release(self) -> None:
        with self._mutex:
            self._release()

    def _release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
