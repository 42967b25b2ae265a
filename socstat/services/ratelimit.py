"""Rate limits for requests that make the system send mail (registration, password
reset, resending the confirmation, email change): per client IP and per recipient
address, with the ``limits`` library. Storage is in-process memory, or Redis when
``REFLEX_REDIS_URL`` is set (several web processes then share the counts).

A hit is counted whether or not the address has an account, so the limit itself tells
nothing about which addresses exist.
"""

from __future__ import annotations

import functools
import os

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from socstat.settings import get_settings

MSG_LIMITED = "Слишком много запросов. Повторите попытку позже."
_PREFIX = "socstat-mail"


class RateLimited(Exception):
    """A request over its limit; ``str(exc)`` is the Russian message for the UI."""

    def __init__(self) -> None:
        super().__init__(MSG_LIMITED)


@functools.cache
def _limiter() -> MovingWindowRateLimiter:
    redis_url = os.environ.get("REFLEX_REDIS_URL", "")
    storage: Storage = RedisStorage(redis_url) if redis_url else MemoryStorage()
    return MovingWindowRateLimiter(storage)


def redis_limiter() -> MovingWindowRateLimiter | None:
    """The limiter whose counts live in Redis (shared by every process), or None when
    ``REFLEX_REDIS_URL`` is not set."""
    limiter = _limiter()
    return limiter if isinstance(limiter.storage, RedisStorage) else None


def reset() -> None:
    """Forget the in-memory counts and the storage choice (tests). Shared Redis counts
    are left alone: other processes rely on them."""
    if _limiter.cache_info().currsize and isinstance(_limiter().storage, MemoryStorage):
        _limiter().storage.reset()
    _limiter.cache_clear()


def _limits() -> tuple[RateLimitItem, RateLimitItem]:
    settings = get_settings()
    return parse(settings.rate_limit_ip), parse(settings.rate_limit_recipient)


def hit(action: str, *, ip: str, recipient: str) -> None:
    """Count one ``action`` request from ``ip`` for ``recipient``; RateLimited when either
    is over its limit. Both counts go up even when one of them refuses."""
    per_ip, per_recipient = _limits()
    limiter = _limiter()
    keys = [(per_recipient, "to", recipient.strip().lower())]
    if ip:
        keys.append((per_ip, "ip", ip))
    allowed = [limiter.hit(item, _PREFIX, action, kind, value) for item, kind, value in keys]
    if not all(allowed):
        raise RateLimited()
