"""A scripted in-memory collector for service tests (the real one is tested over HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from socstat.collectors.base import (
    CollectRequest,
    CommunityInfo,
    ContentRecord,
    LinkError,
    SourceResult,
    UsageStats,
)


def community(external_id: str, **overrides: object) -> CommunityInfo:
    values: dict = {
        "external_id": external_id,
        "screen_name": f"club{external_id}",
        "name": f"Сообщество {external_id}",
        "url": f"https://vk.com/club{external_id}",
        "members_count": 1000,
    }
    values.update(overrides)
    return CommunityInfo(**values)


@dataclass
class FakeCollector:
    """`communities` answers resolve; `results` (external_id → SourceResult) answer collect."""

    communities: dict[str, CommunityInfo] = field(default_factory=dict)
    results: dict[str, SourceResult] = field(default_factory=dict)
    platform: str = "vk"
    usage: UsageStats = field(default_factory=UsageStats)
    invalid_tokens: list[str] = field(default_factory=list)
    requests_seen: list[CollectRequest] = field(default_factory=list)
    closed: bool = False

    async def resolve(self, link: str) -> CommunityInfo:
        key = link.rsplit("/", 1)[-1].removeprefix("club")
        info = self.communities.get(key)
        if info is None:
            raise LinkError(f"Ссылка «{link}» не ведёт на сообщество VK")
        return info

    async def collect(self, requests: list[CollectRequest]) -> AsyncIterator[SourceResult]:
        for request in requests:
            self.requests_seen.append(request)
            self.usage.requests += 1
            self.usage.calls += 2
            result = self.results.get(request.external_id)
            if result is None:
                continue
            yield SourceResult(
                external_id=result.external_id,
                info=result.info,
                items=[i for i in result.items if i.published_at >= request.since or i.is_pinned],
                complete=result.complete,
                error_code=result.error_code,
                error=result.error,
            )

    async def aclose(self) -> None:
        self.closed = True


def post(external_id: str, published_at, **values: object) -> ContentRecord:  # type: ignore[no-untyped-def]
    return ContentRecord(kind="post", external_id=external_id, published_at=published_at, **values)
