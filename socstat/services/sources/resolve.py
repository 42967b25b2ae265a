"""Resolving links: ask the platform what each pasted link, screen name or id is.

No database here: the caller holds no session while the platform answers, then passes the
results to `subscribe`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from socstat.collectors.base import Collector, CollectorError, CommunityInfo, LinkError


@dataclass(frozen=True)
class ResolvedLink:
    """One link as the platform described it (`info`), or why it could not (`error`)."""

    link: str
    platform: str
    info: CommunityInfo | None = None
    error: str = ""


async def resolve_links(collector: Collector, links: list[str]) -> list[ResolvedLink]:
    """Ask the platform about each link (no database: hold no session while waiting).

    All links are asked at once (the collector batches the calls); results keep the links'
    order. Blank links are skipped; a bad link yields an error entry, not an exception.
    """

    async def _one(link: str) -> ResolvedLink:
        try:
            info = await collector.resolve(link)
        except LinkError as exc:
            return ResolvedLink(link, collector.platform, error=str(exc))
        except CollectorError as exc:
            error = f"Не удалось проверить ссылку: {exc}"
            return ResolvedLink(link, collector.platform, error=error)
        return ResolvedLink(link, collector.platform, info=info)

    wanted = [link.strip() for link in links if link.strip()]
    return list(await asyncio.gather(*(_one(link) for link in wanted)))
