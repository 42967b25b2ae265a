"""VKCollector against the real sandbox over HTTP: resolve, collect, statuses, truth."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone

import pytest

from socstat.collectors.base import CollectRequest, ContentRecord, LinkError, SourceResult
from socstat.collectors.vk import VKCollector
from socstat.sandbox import SandboxServer
from tests.collectors.conftest import NOW, by_status

MSK = timezone(timedelta(hours=3))

pytestmark = pytest.mark.timeout(60)


async def collect_all(collector: VKCollector, requests: list[CollectRequest]) -> list[SourceResult]:
    return [result async for result in collector.collect(requests)]


def open_with_name(communities: list[dict]) -> dict:
    return next(
        c
        for c in communities
        if c["status"] == "open"
        and not c["screen_name"].startswith("club")
        and c["type"] != "event"
    )


# ---------------------------------------------------------------------- resolve
async def test_resolve_every_link_form(collector: VKCollector, communities: list[dict]) -> None:
    community = open_with_name(communities)
    gid, name = community["id"], community["screen_name"]
    links = [
        f"https://vk.com/{name}",
        f"  http://www.vk.com/{name}/  ",
        f"m.vk.com/{name}?from=feed#wall",
        f"vk.ru/{name}",
        name,
        f"club{gid}",
        f"public{gid}",
        f"event{gid}",
        str(gid),
        f"-{gid}",
        f"https://vk.com/wall-{gid}_1",
    ]
    for link in links:
        info = await collector.resolve(link)
        assert info.external_id == str(gid), link
        assert info.screen_name == name
        assert info.url == f"https://vk.com/{name}"
        assert info.status == "active"
        assert info.members_count and info.members_count > 0
        assert info.counters.members == info.members_count
        assert info.counters.posts and info.counters.posts > 0
        assert info.counters.clips is not None and info.counters.videos is not None
        assert info.photo_url.endswith("_200.jpg")


async def test_resolve_prefixed_screen_name_of_a_nameless_community(
    collector: VKCollector, communities: list[dict]
) -> None:
    community = next(c for c in communities if c["screen_name"].startswith(("club", "public")))
    info = await collector.resolve(f"https://vk.com/{community['screen_name']}")
    assert info.external_id == str(community["id"])


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("https://vk.com/durov", "профиль пользователя"),
        ("anna.smirnova", "профиль пользователя"),
        ("vk.com/no_such_community_here", "не найдено"),
        ("club1", "не найдено"),
        ("https://youtube.com/@channel", "не во ВКонтакте"),
    ],
)
async def test_resolve_rejects_non_communities(
    collector: VKCollector, link: str, message: str
) -> None:
    with pytest.raises(LinkError, match=message):
        await collector.resolve(link)


@pytest.mark.parametrize("status", ["closed", "private", "deleted", "banned", "wall_disabled"])
async def test_resolve_reports_status(
    collector: VKCollector, communities: list[dict], status: str
) -> None:
    community = by_status(communities, status)
    info = await collector.resolve(community["url"])
    assert info.status == status
    assert info.status_reason


# ---------------------------------------------------------------------- collect vs truth
def day_of(record: ContentRecord) -> str:
    return record.published_at.astimezone(MSK).strftime("%Y-%m-%d")


def aggregate(items: list[ContentRecord]) -> dict[tuple[str, str], dict[str, int]]:
    days: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {
            "count": 0,
            "likes": 0,
            "reposts": 0,
            "comments": 0,
            "views": 0,
            "views_unknown": 0,
        }
    )
    for item in items:
        block = days[(day_of(item), item.kind + "s")]
        block["count"] += 1
        block["likes"] += item.likes or 0
        block["reposts"] += item.reposts or 0
        block["comments"] += item.comments or 0
        if item.views is None:
            block["views_unknown"] += 1
        else:
            block["views"] += item.views
    return days


def truth_blocks(truth: dict) -> dict[tuple[str, str], dict[str, int]]:
    blocks = {}
    for day in truth["days"]:
        for kind in ("posts", "videos", "clips"):
            if day[kind]["count"]:
                blocks[(day["date"], kind)] = day[kind]
    return blocks


async def test_collect_matches_ground_truth_per_day(
    collector: VKCollector, sandbox: SandboxServer, communities: list[dict]
) -> None:
    truth = await sandbox.atruth()
    start = datetime.fromisoformat(truth["history_start"])
    open_ids = [c["id"] for c in communities if c["status"] == "open"][:12]
    results = await collect_all(collector, [CollectRequest(str(g), start) for g in open_ids])
    assert sorted(int(r.external_id) for r in results) == sorted(open_ids)
    expected = {c["id"]: c for c in truth["communities"]}
    checked_media = 0
    for result in results:
        assert result.complete and result.error == ""
        community = expected[int(result.external_id)]
        assert aggregate(result.items) == truth_blocks(community), result.external_id
        assert result.info is not None and result.info.status == "active"
        assert result.info.members_count == community["members_count"]
        assert result.info.counters.clips == community["counters"]["clips"]
        assert result.info.counters.videos == community["counters"]["videos"]
        keys = [(item.kind, item.external_id) for item in result.items]
        assert len(keys) == len(set(keys))
        for item in result.items:
            if item.kind != "post":
                checked_media += 1
                assert item.external_id.startswith(f"-{result.external_id}_")
    assert checked_media > 0


async def test_collect_since_cuts_exactly_and_pinned_post_does_not_stop_paging(
    collector: VKCollector, sandbox: SandboxServer
) -> None:
    world = sandbox.state.world
    community = next(c for c in world.communities if c.has_pinned and c.wall_accessible)
    pinned = world.content(community.id, NOW.timestamp()).pinned
    assert pinned is not None
    since = NOW - timedelta(days=3)
    [recent] = await collect_all(collector, [CollectRequest(str(community.id), since)])
    posts = [item for item in recent.items if item.kind == "post"]
    assert posts and all(item.published_at >= since for item in posts)
    assert not any(item.is_pinned for item in recent.items)
    expected = [
        p for p in world.posts(community.id, NOW.timestamp())[0] if p.date >= since.timestamp()
    ]
    assert sorted(int(item.external_id) for item in posts) == sorted(p.id for p in expected)

    start = datetime.fromtimestamp(world.start, UTC)
    [full] = await collect_all(collector, [CollectRequest(str(community.id), start)])
    pinned_items = [item for item in full.items if item.is_pinned]
    assert [item.external_id for item in pinned_items] == [str(pinned.id)]


async def test_views_are_none_on_old_posts_never_zero(
    collector: VKCollector, sandbox: SandboxServer, communities: list[dict]
) -> None:
    world = sandbox.state.world
    gid = open_with_name(communities)["id"]
    start = datetime.fromtimestamp(world.start, UTC)
    [result] = await collect_all(collector, [CollectRequest(str(gid), start)])
    posts = [item for item in result.items if item.kind == "post"]
    old = [item for item in posts if item.published_at.timestamp() < world.views_since]
    new = [item for item in posts if item.published_at.timestamp() >= world.views_since]
    assert old and new
    assert all(item.views is None for item in old)
    assert all(item.views is not None for item in new)
    assert result.info is not None and result.info.counters.posts == len(
        world.posts(gid, NOW.timestamp())[0]
    )


@pytest.mark.parametrize("status", ["closed", "private", "deleted", "banned", "wall_disabled"])
async def test_collect_inaccessible_community_gives_status_not_crash(
    collector: VKCollector, communities: list[dict], status: str
) -> None:
    community = by_status(communities, status)
    [result] = await collect_all(
        collector, [CollectRequest(str(community["id"]), NOW - timedelta(days=5))]
    )
    assert result.info is not None and result.info.status == status
    assert result.items == [] and result.complete and result.error_code is None


async def test_collect_unknown_id_is_an_error_result(collector: VKCollector) -> None:
    results = await collect_all(
        collector,
        [CollectRequest("1", NOW - timedelta(days=1)), CollectRequest("nonsense!", NOW)],
    )
    assert all(not r.complete and r.error for r in results)
    assert {r.external_id for r in results} == {"1", "nonsense!"}


async def test_collect_batches_many_calls_per_request(
    sandbox: SandboxServer, communities: list[dict]
) -> None:
    from tests.collectors.conftest import make_collector

    collector = make_collector(sandbox)
    try:
        ids = [c["id"] for c in communities]
        await collect_all(collector, [CollectRequest(str(g), NOW - timedelta(days=2)) for g in ids])
    finally:
        await collector.aclose()
    usage = collector.usage
    assert usage.calls >= 2 * len(ids)
    assert usage.requests <= usage.calls / 10
