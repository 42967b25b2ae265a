"""Sandbox configuration (plain dataclasses, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

FAULT_KINDS: tuple[str, ...] = (
    "error10",
    "error9",
    "http500",
    "http502",
    "http503",
    "slow",
    "drop",
    "truncate",
)
TOKEN_KINDS: tuple[str, ...] = ("user", "service", "community", "video")
DEFAULT_QUOTAS: dict[str, int] = {"wall.get": 5000, "wall.search": 1000, "newsfeed.search": 1000}


@dataclass(frozen=True)
class TokenSpec:
    """A configured access token; ``kind`` is one of TOKEN_KINDS."""

    token: str
    kind: str = "user"

    @property
    def rps(self) -> int:
        return 20 if self.kind == "community" else 3

    @property
    def video_right(self) -> bool:
        return self.kind == "video"


def parse_token(text: str) -> TokenSpec:
    """Parse ``TOKEN`` or ``KIND:TOKEN`` (KIND in user|service|community|video)."""
    kind, sep, token = text.partition(":")
    if not sep:
        kind, token = "user", text
    if kind not in TOKEN_KINDS:
        raise ValueError(f"unknown token kind {kind!r} (expected one of {', '.join(TOKEN_KINDS)})")
    if not token:
        raise ValueError("empty token")
    return TokenSpec(token=token, kind=kind)


def parse_fault(text: str) -> tuple[str, float]:
    """Parse ``KIND=RATE`` for fault injection."""
    kind, sep, rate_text = text.partition("=")
    if not sep or kind not in FAULT_KINDS:
        raise ValueError(
            f"bad fault {text!r}: expected KIND=RATE, KIND in {', '.join(FAULT_KINDS)}"
        )
    return kind, check_rate(float(rate_text), kind)


def check_rate(rate: float, what: str = "fault rate") -> float:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{what} must be within [0, 1], got {rate}")
    return rate


@dataclass
class SandboxConfig:
    """Everything that defines a sandbox instance.

    ``now`` is the initial world time (None = real now). ``running_clock`` None means: the
    clock ticks in real time when ``now`` is None and stays frozen when ``now`` is given.
    """

    seed: int = 1
    communities: int = 50
    days: int = 90
    now: datetime | None = None
    running_clock: bool | None = None
    tokens: list[TokenSpec] = field(default_factory=list)
    rate_limit: bool = True
    quotas: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_QUOTAS))
    fault_rate: float = 0.0
    faults: dict[str, float] = field(default_factory=dict)
    slow_seconds: float = 30.0

    def validate(self) -> None:
        if self.communities < 1:
            raise ValueError("communities must be >= 1")
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if self.slow_seconds < 0:
            raise ValueError("slow_seconds must be >= 0")
        check_rate(self.fault_rate)
        for kind, rate in self.faults.items():
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}")
            check_rate(rate, kind)
        if self.fault_rate + sum(self.faults.values()) > 1.0 + 1e-9:
            raise ValueError("total fault rate exceeds 1")
        for method, quota in self.quotas.items():
            if quota < 0:
                raise ValueError(f"quota for {method} must be >= 0")
