"""The contract between a platform collector and the collection service.

A collector talks to one platform's API and returns plain dataclasses; it never touches
the database. Figures the platform did not give are None — never 0.
(Named *Record/*Reading to stay apart from the tables ContentItem / CounterSnapshot.)
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# The token a collector uses against the built-in sandbox (demo mode: no tokens configured);
# the sandbox accepts any token then.
DEMO_TOKEN = "socstat-demo-token"


class LinkError(ValueError):
    """A link or id that does not name a community of the platform (message names it)."""


class CollectorError(RuntimeError):
    """The platform could not be asked at all (no usable token, API down after retries)."""


@dataclass(frozen=True)
class CounterReading:
    members: int | None = None
    posts: int | None = None
    videos: int | None = None
    clips: int | None = None
    clips_views: int | None = None
    clips_likes: int | None = None
    clips_followers: int | None = None
    photos: int | None = None
    articles: int | None = None


@dataclass(frozen=True)
class CommunityInfo:
    external_id: str
    screen_name: str
    name: str
    url: str
    photo_url: str = ""
    community_type: str = ""
    members_count: int | None = None
    # one of socstat.models.SourceStatus values; reason is human-readable (Russian)
    status: str = "active"
    status_reason: str = ""
    counters: CounterReading = field(default_factory=CounterReading)


@dataclass(frozen=True)
class ContentRecord:
    kind: str  # post | video | clip
    external_id: str
    published_at: datetime  # aware, UTC
    likes: int | None = None
    reposts: int | None = None
    comments: int | None = None
    views: int | None = None
    is_pinned: bool = False
    is_ad: bool = False
    is_repost: bool = False
    text_preview: str = ""


@dataclass(frozen=True)
class CollectRequest:
    """Collect one community: every item published at or after `since` (UTC).

    `known_posts`: ids of stored posts published at or after `since`; the collector
    reports in `SourceResult.deleted_posts` those the platform confirms are gone.
    """

    external_id: str
    since: datetime
    known_posts: tuple[str, ...] = ()


@dataclass
class SourceResult:
    """What a collector learned about one community in one run.

    `complete` is False when some pages could not be fetched: the items present are
    correct, but the period is not fully covered (the run is partial for this source).
    """

    external_id: str
    info: CommunityInfo | None = None
    items: list[ContentRecord] = field(default_factory=list)
    complete: bool = True
    error_code: int | None = None
    error: str = ""
    deleted_posts: list[str] = field(default_factory=list)


def mask_token(token: str) -> str:
    """A token as it may appear in logs and messages: never the secret itself."""
    if len(token) <= 8:
        return "***"
    return f"{token[:2]}…{token[-4:]}"


def token_fingerprint(token: str) -> str:
    """A stable, non-secret id of a token (matching stored tokens, leasing it to one run)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TokenProblem:
    """A token the platform refused; ``masked`` is safe to show to administrators."""

    masked: str
    kind: str
    code: int
    reason: str
    fingerprint: str = ""


@dataclass
class UsageStats:
    """What a collector asked of the platform. `by_method`: (token fingerprint, method,
    code) → count, where code "" counts the calls answered (what daily quotas charge) and
    any other code the errors (`token_masks`: fingerprint → masked token, safe to show)."""

    requests: int = 0
    calls: int = 0
    errors_by_code: dict[str, int] = field(default_factory=dict)
    by_method: dict[tuple[str, str, str], int] = field(default_factory=dict)
    token_masks: dict[str, str] = field(default_factory=dict)

    def count_call(self, token: str, method: str) -> None:
        """One method call `token` got an answer to (also inside a batch such as execute)."""
        self._count(token, method, "")

    def count_error(self, code: int | str, *, token: str = "", method: str = "") -> None:
        key = str(code)
        self.errors_by_code[key] = self.errors_by_code.get(key, 0) + 1
        if token:
            self._count(token, method, key)

    def _count(self, token: str, method: str, code: str) -> None:
        fingerprint = token_fingerprint(token)
        self.token_masks.setdefault(fingerprint, mask_token(token))
        key = (fingerprint, method, code)
        self.by_method[key] = self.by_method.get(key, 0) + 1


class Collector(Protocol):
    platform: str
    usage: UsageStats

    @property
    def token_fingerprints(self) -> list[str]:
        """Fingerprints of every token this collector may use (see `token_fingerprint`)."""
        ...

    @property
    def invalid_tokens(self) -> list[TokenProblem]:
        """Tokens the platform refused so far (the collector carries on without them)."""
        ...

    async def resolve(self, link: str) -> CommunityInfo:
        """Parse a link/id, resolve it, describe the community; LinkError if not one."""
        ...

    def collect(self, requests: list[CollectRequest]) -> AsyncIterator[SourceResult]:
        """Yield one result per request as soon as it is complete (any order)."""
        ...

    async def aclose(self) -> None: ...
