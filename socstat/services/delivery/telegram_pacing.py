"""Telegram's sending limits — about one message a second to a chat, 30 a second
overall — counted once for every deliverer process, not per process.

With ``REFLEX_REDIS_URL`` set the counts live in Redis (the ``limits`` library's moving
window, as in ``services/ratelimit``). Without it they live in the database: one
system-settings row lists the sends of the last second and is locked while a deliverer
checks and adds to it (PostgreSQL ``FOR UPDATE``; SQLite: a write takes the database's
single write lock), so concurrent deliverers on any number of hosts see each other's
sends. A refused send is not an attempt: the outbox tries again a second later.
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerSecond
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from socstat.db import lock_rows, session_scope
from socstat.models import SystemSetting
from socstat.services import ratelimit

PER_CHAT = RateLimitItemPerSecond(1)
OVERALL = RateLimitItemPerSecond(30)
WINDOW_SECONDS = 1.0
SETTING = "telegram_sends"


def acquire(chat_id: str) -> bool:
    """Count one send to ``chat_id`` now; False (nothing counted overall) when either
    limit is reached."""
    limiter = ratelimit.redis_limiter()
    if limiter is not None:
        return limiter.hit(PER_CHAT, "telegram", chat_id) and limiter.hit(OVERALL, "telegram")
    with session_scope() as session:
        return _acquire_in_database(session, chat_id, time.time())


def _locked_row(session: Session) -> SystemSetting:
    if session.get(SystemSetting, SETTING) is None:
        try:
            with session.begin_nested():
                session.add(SystemSetting(key=SETTING, value={"sent": []}))
                session.flush()
        except IntegrityError:
            pass  # another deliverer created it first
    return lock_rows(session, SystemSetting, SystemSetting.key, SETTING).one()


def _acquire_in_database(session: Session, chat_id: str, now: float) -> bool:
    row = _locked_row(session)
    value = row.value if isinstance(row.value, dict) else {}
    recent = [
        [moment, chat]
        for moment, chat in value.get("sent", [])
        if now - WINDOW_SECONDS < moment <= now + WINDOW_SECONDS
    ]
    if len(recent) >= OVERALL.amount or any(chat == chat_id for _, chat in recent):
        return False
    row.value = {"sent": [*recent, [now, chat_id]]}
    session.add(row)
    return True
