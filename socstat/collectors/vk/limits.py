"""Token specs, the per-token rate limiter and the per-token daily quota ledger."""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from socstat.collectors.base import mask_token, token_fingerprint

MSK = timezone(timedelta(hours=3), "MSK")  # VK resets daily quotas at Moscow midnight
DEFAULT_QUOTAS: dict[str, int] = {"wall.get": 5000, "wall.search": 1000, "newsfeed.search": 1000}
TOKEN_KINDS = ("user", "service", "community", "video")
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class TokenSpec:
    """An access token. ``kind``: user|service (3 req/s), community (20 req/s), video
    (a user token with the ``video`` right, 3 req/s)."""

    token: str
    kind: str = "user"

    @property
    def rps(self) -> int:
        return 20 if self.kind == "community" else 3

    @property
    def video_right(self) -> bool:
        return self.kind == "video"

    @property
    def masked(self) -> str:
        return mask_token(self.token)

    @property
    def fingerprint(self) -> str:
        return token_fingerprint(self.token)


def parse_tokens(value: str | Iterable[str]) -> list[TokenSpec]:
    """Parse ``"tok1, community:tok2, video:tok3"`` (or a list of such items).

    A plain token is a user/service token; the prefixes ``user:``, ``service:``,
    ``community:`` and ``video:`` name the kind. Duplicates are dropped.
    """
    items = _SEPARATORS.split(value) if isinstance(value, str) else list(value)
    specs: list[TokenSpec] = []
    seen: set[str] = set()
    for raw in items:
        raw = raw.strip()
        if not raw:
            continue
        kind, sep, token = raw.partition(":")
        if not sep or kind.lower() not in TOKEN_KINDS:
            kind, token = "user", raw
        token = token.strip()
        if token and token not in seen:
            seen.add(token)
            specs.append(TokenSpec(token=token, kind=kind.lower()))
    return specs


class RateLimiter:
    """At most ``rate`` acquisitions in any window of ``period + margin`` seconds.

    Sliding window on a monotonic clock: a slot frees exactly one window after it was
    taken. With ``spread`` (default) consecutive acquisitions are also at least
    ``window / rate`` apart: a burst would reach the server together, be handled one after
    another and be stamped late, so the next burst would look too early to the server's
    own window. Evenly spaced requests reach an idle server and leave at the full rate.
    ``margin`` absorbs jitter between our clock and the server's; :meth:`penalize` widens
    it when the server still answers "too many requests".
    """

    def __init__(
        self,
        rate: int,
        period: float = 1.0,
        margin: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        max_margin: float = 0.25,
        spread: bool = True,
    ) -> None:
        if rate < 1:
            raise ValueError("rate must be >= 1")
        self.rate = rate
        self.period = period
        self.margin = margin
        self.max_margin = max_margin
        self.spread = spread
        self._clock = clock
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()

    @property
    def window(self) -> float:
        return self.period + self.margin

    def delay(self) -> float:
        """Seconds until a slot is free (0 = now)."""
        now = self._clock()
        while self._stamps and self._stamps[0] <= now - self.window:
            self._stamps.popleft()
        wait = 0.0
        if len(self._stamps) >= self.rate:
            wait = self._stamps[0] + self.window - now
        if self.spread and self._stamps:
            wait = max(wait, self._stamps[-1] + self.window / self.rate - now)
        return max(0.0, wait)

    async def acquire(self) -> float:
        """Wait for a slot and take it; returns its stamp (for :meth:`touch`)."""
        async with self._lock:
            while (wait := self.delay()) > 0:  # noqa: ASYNC110 - a timed wait, not polling
                await asyncio.sleep(wait)
            stamp = self._clock()
            self._stamps.append(stamp)
            return stamp

    def touch(self, stamp: float) -> float:
        """Move a taken slot to now: the request really leaves only now (a busy event loop
        may delay it), and the server's window counts from its arrival. Returns the slot's
        new stamp (for a later touch)."""
        if stamp not in self._stamps:
            return stamp
        now = self._clock()
        self._stamps.remove(stamp)
        self._stamps = deque(sorted([*self._stamps, now]))
        return now

    def refund(self) -> None:
        """Give back the most recent slot (it was not used)."""
        if self._stamps:
            self._stamps.pop()

    def penalize(self, step: float = 0.01) -> None:
        self.margin = min(self.max_margin, self.margin + step)


def moscow_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(MSK).date()


class QuotaLedger:
    """Calls made per (token, method) during the current Moscow day, and parked pairs.

    ``today`` returns the current Moscow date (injectable for tests). A pair is parked
    after VK answered 29 for it: unusable until the day changes.
    """

    def __init__(
        self, quotas: dict[str, int] | None = None, today: Callable[[], date] = moscow_today
    ) -> None:
        self.quotas = dict(DEFAULT_QUOTAS if quotas is None else quotas)
        self._today = today
        self._used: dict[tuple[str, str], tuple[date, int]] = {}
        self._parked: dict[tuple[str, str], date] = {}

    def used(self, token: str, method: str) -> int:
        day, count = self._used.get((token, method), (None, 0))
        return count if day == self._today() else 0

    def remaining(self, token: str, method: str) -> int | None:
        """Calls left today (None = no quota for this method)."""
        quota = self.quotas.get(method)
        if quota is None:
            return None
        return max(0, quota - self.used(token, method))

    def available(self, token: str, method: str) -> bool:
        if self._parked.get((token, method)) == self._today():
            return False
        remaining = self.remaining(token, method)
        return remaining is None or remaining > 0

    def charge(self, token: str, method: str, calls: int = 1) -> None:
        if method in self.quotas:
            self._used[(token, method)] = (self._today(), self.used(token, method) + calls)

    def park(self, token: str, method: str) -> None:
        self._parked[(token, method)] = self._today()
