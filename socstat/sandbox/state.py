"""Mutable sandbox state: clock, rate limiter, quota ledger, statistics, fault injector."""

from __future__ import annotations

import random
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime

from socstat.sandbox.config import FAULT_KINDS, check_rate
from socstat.sandbox.world import MSK, msk_day


def parse_iso(text: str) -> datetime:
    """ISO datetime; a naive value is taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Clock:
    """World clock: frozen, or ticking with the real monotonic clock from an anchor."""

    def __init__(self, now: datetime | None, running: bool) -> None:
        start = (now or datetime.now(UTC)).timestamp()
        self.running = running
        self._anchor = start
        self._mono = time.monotonic()

    def now(self) -> float:
        if self.running:
            return self._anchor + (time.monotonic() - self._mono)
        return self._anchor

    def set(self, ts: float) -> None:
        self._anchor = ts
        self._mono = time.monotonic()

    def advance(self, seconds: float) -> None:
        self.set(self.now() + seconds)

    def describe(self) -> dict:
        now = self.now()
        return {
            "now": datetime.fromtimestamp(now, UTC).isoformat(),
            "now_ts": int(now),
            "now_msk": datetime.fromtimestamp(now, MSK).isoformat(),
            "running": self.running,
        }


class RateLimiter:
    """Sliding one-second window per token on the real monotonic clock (``clock`` is
    replaceable so that tests do not depend on how fast the machine answers)."""

    def __init__(self, enabled: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self.clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, token: str, limit: int) -> bool:
        if not self.enabled:
            return True
        now = self.clock()
        hits = self._hits[token]
        while hits and hits[0] <= now - 1.0:
            hits.popleft()
        if len(hits) >= limit:
            return False
        hits.append(now)
        return True


class QuotaLedger:
    """Per token, per method daily quotas; the day is the Moscow day of the world clock."""

    def __init__(self, quotas: dict[str, int]) -> None:
        self.quotas = dict(quotas)
        self._used: dict[tuple[str, str], list[int]] = {}

    def exceeded(self, token: str, method: str, now: float) -> bool:
        quota = self.quotas.get(method)
        return quota is not None and self._current(token, method, now)[1] >= quota

    def charge(self, token: str, method: str, now: float) -> None:
        if method in self.quotas:
            self._current(token, method, now)[1] += 1

    def _current(self, token: str, method: str, now: float) -> list[int]:
        day = msk_day(now)
        entry = self._used.get((token, method))
        if entry is None or entry[0] != day:
            entry = self._used[(token, method)] = [day, 0]
        return entry

    def snapshot(self, now: float) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = defaultdict(dict)
        for (token, method), (day, used) in self._used.items():
            result[token][method] = used if day == msk_day(now) else 0
        return dict(result)

    def reset(self) -> None:
        self._used.clear()


def _token_stats() -> dict:
    return {
        "requests": 0,
        "calls": defaultdict(int),
        "errors": defaultdict(int),
        "faults": defaultdict(int),
    }


class Stats:
    """Request/call counters per token (calls include calls inside execute)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._tokens: dict[str, dict] = defaultdict(_token_stats)
        self.http_requests = 0

    def request(self, token: str) -> None:
        self.http_requests += 1
        self._tokens[token]["requests"] += 1

    def call(self, token: str, method: str) -> None:
        self._tokens[token]["calls"][method] += 1

    def error(self, token: str, code: int) -> None:
        self._tokens[token]["errors"][str(code)] += 1

    def fault(self, token: str, kind: str) -> None:
        self._tokens[token]["faults"][kind] += 1

    def snapshot(self) -> dict:
        tokens = {
            token: {
                "requests": data["requests"],
                "calls": dict(data["calls"]),
                "errors": dict(data["errors"]),
                "faults": dict(data["faults"]),
            }
            for token, data in self._tokens.items()
        }
        totals: dict = {"requests": 0, "calls": defaultdict(int), "errors": defaultdict(int)}
        totals["faults"] = defaultdict(int)
        for data in tokens.values():
            totals["requests"] += data["requests"]
            for key in ("calls", "errors", "faults"):
                for name, count in data[key].items():
                    totals[key][name] += count
        totals = {
            key: dict(value) if isinstance(value, dict) else value for key, value in totals.items()
        }
        return {"http_requests": self.http_requests, "tokens": tokens, "totals": totals}


class FaultInjector:
    """Rolls at most one fault per /method/ request; deterministic for a given request order."""

    def __init__(
        self, seed: int, rate: float, faults: dict[str, float], slow_seconds: float
    ) -> None:
        self._rng = random.Random(seed * 7919 + 17)
        self.configure(rate, faults, slow_seconds)

    def configure(self, rate: float, faults: dict[str, float], slow_seconds: float) -> None:
        check_rate(rate)
        rates = {kind: rate / len(FAULT_KINDS) for kind in FAULT_KINDS}
        for kind, value in faults.items():
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}")
            rates[kind] += check_rate(value, kind)
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError("total fault rate exceeds 1")
        if slow_seconds < 0:
            raise ValueError("slow_seconds must be >= 0")
        self.rate, self.faults, self.slow_seconds = rate, dict(faults), slow_seconds
        self.rates = rates

    def roll(self) -> str | None:
        if not any(self.rates.values()):
            return None
        roll = self._rng.random()
        for kind in FAULT_KINDS:
            if roll < self.rates[kind]:
                return kind
            roll -= self.rates[kind]
        return None

    def describe(self) -> dict:
        return {
            "rate": self.rate,
            "faults": self.faults,
            "effective": self.rates,
            "slow_seconds": self.slow_seconds,
        }
