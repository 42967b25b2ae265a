"""Posts deleted on VK: the collector confirms them with wall.getById (sandbox over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from socstat.collectors.base import CollectRequest, SourceResult
from socstat.sandbox import SandboxServer
from tests.collectors.conftest import NOW, make_collector, make_config

pytestmark = pytest.mark.timeout(60)
SINCE = NOW - timedelta(days=3)


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(make_config(communities=6, days=10)) as sandbox:
        yield sandbox


def _wall(server: SandboxServer) -> tuple[int, list]:
    world = server.state.world
    community = next(c for c in world.communities if c.wall_accessible)
    posts, _ = world.posts(community.id, NOW.timestamp())
    return community.id, posts


async def _collect(server: SandboxServer, request: CollectRequest) -> SourceResult:
    collector = make_collector(server)
    try:
        [result] = [r async for r in collector.collect([request])]
    finally:
        await collector.aclose()
    return result


async def test_known_posts_gone_from_vk_are_reported_deleted(server: SandboxServer) -> None:
    gid, posts = _wall(server)
    recent = [p for p in posts if p.date >= SINCE.timestamp()]
    assert len(recent) >= 3
    gone, kept, far_older = recent[-2], recent[-1], posts[0]
    assert server.delete_posts(-gid, [gone.id]) == {"deleted": 1}
    # far_older is still on VK, just not on the pages read back to SINCE: asked by id, kept
    known = (*(str(p.id) for p in recent), str(far_older.id), "999999999")
    result = await _collect(server, CollectRequest(str(gid), SINCE, known))
    assert result.complete and result.error == ""
    assert sorted(result.deleted_posts) == sorted([str(gone.id), "999999999"])
    post_ids = {item.external_id for item in result.items if item.kind == "post"}
    assert str(gone.id) not in post_ids and str(kept.id) in post_ids
    assert str(far_older.id) not in post_ids  # older than SINCE: not collected


async def test_nothing_is_reported_deleted_when_vk_cannot_confirm() -> None:
    with SandboxServer(make_config(communities=6, days=10, quotas={"wall.getById": 0})) as server:
        gid, posts = _wall(server)
        recent = [p for p in posts if p.date >= SINCE.timestamp()]
        server.delete_posts(-gid, [recent[-1].id])
        known = tuple(str(p.id) for p in recent)
        result = await _collect(server, CollectRequest(str(gid), SINCE, known))
    assert result.complete
    assert result.deleted_posts == []  # error 29 on wall.getById proves nothing


async def test_no_known_posts_no_extra_calls(server: SandboxServer) -> None:
    gid, _ = _wall(server)
    server.reset_stats()
    result = await _collect(server, CollectRequest(str(gid), SINCE))
    assert result.complete and result.deleted_posts == []
    assert "wall.getById" not in server.stats()["totals"]["calls"]
    assert server.stats()["totals"]["calls"]["wall.get"] >= 1
