"""World determinism, clock, ground truth vs. wall.get, execute parser, CLI."""

from __future__ import annotations

import argparse
import shlex
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from socstat.sandbox import SandboxServer
from socstat.sandbox.cli import config_from_args, register
from socstat.sandbox.execute import ExecuteSyntaxError, parse
from socstat.sandbox.world import World, msk_day
from tests.sandbox.conftest import NOW, VK, make_config


def _snapshot(world: World, now: float) -> list:
    data = []
    for community in world.communities:
        posts, pinned = world.posts(community.id, now)
        data.append((community, [(p.id, p.date, p.engagement) for p in posts], pinned))
    return data


def test_same_seed_same_world() -> None:
    now = NOW.timestamp()
    assert _snapshot(World(3, 20, 10, now), now) == _snapshot(World(3, 20, 10, now), now)
    assert _snapshot(World(3, 20, 10, now), now) != _snapshot(World(4, 20, 10, now), now)


def test_world_rhythm() -> None:
    world = World(1, 60, 30, NOW.timestamp())
    hours, empty_days = set(), 0
    for community in world.communities:
        if not community.has_content:
            continue
        posts, _ = world.posts(community.id, NOW.timestamp())
        days = {msk_day(p.date) for p in posts}
        empty_days += len(range(world.first_day, msk_day(NOW.timestamp()))) - len(days)
        hours |= {datetime.fromtimestamp(p.date, UTC).astimezone().hour for p in posts}
        minutes = {(p.date + 3 * 3600) % 86400 // 60 for p in posts}
        assert not any(60 <= m < 8 * 60 for m in minutes)  # night gap 01:00-08:00 MSK
    assert empty_days > 0


def test_clock_new_posts_and_growth(vk: VK, sandbox: SandboxServer) -> None:
    gid = next(c["id"] for c in sandbox.communities() if c["wall_accessible"])
    before = vk.call("wall.get", owner_id=-gid, count=100)
    try:
        sandbox.advance(2 * 86400)
        after = vk.call("wall.get", owner_id=-gid, count=100)
    finally:
        sandbox.set_now(NOW)
    assert after["count"] > before["count"]
    old = {i["id"]: i for i in before["items"]}
    grown = [i for i in after["items"] if i["id"] in old and not i.get("is_pinned")]
    assert any(i["likes"]["count"] > old[i["id"]]["likes"]["count"] for i in grown)
    assert all(i["likes"]["count"] >= old[i["id"]]["likes"]["count"] for i in grown)
    assert sandbox.clock()["now"] == NOW.isoformat()


def _wall_truth(vk: VK, gid: int) -> dict[str, dict]:
    days: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    offset, total = 0, 1
    while offset < total:
        page = vk.call("wall.get", owner_id=-gid, count=100, offset=offset)
        total, offset = page["count"], offset + 100
        for item in page["items"]:
            day = (datetime.fromtimestamp(item["date"], UTC) + timedelta(hours=3)).date()
            entry = days[day.isoformat()]
            entry["posts"] += 1
            entry["post_likes"] += item["likes"]["count"]
            entry["post_views"] += item.get("views", {}).get("count", 0)
            entry["views_unknown"] += "views" not in item
            for att in item["attachments"]:
                obj = att.get(att["type"], {})
                if att["type"] in ("clip", "video") and obj["owner_id"] == -gid:
                    kind = "video" if obj["type"] == "video" else "clip"
                    entry[kind] += 1
                    entry[f"{kind}_views"] += obj["views"]
    return days


def test_truth_matches_wall(vk: VK, sandbox: SandboxServer) -> None:
    truth = sandbox.truth()
    assert truth["now"] == NOW.isoformat()
    checked = 0
    for community in truth["communities"]:
        if not community["wall_accessible"]:
            continue
        wall = _wall_truth(vk, community["id"])
        for day in community["days"]:
            got = wall.get(day["date"], {})
            assert day["posts"]["count"] == got.get("posts", 0), day
            assert day["posts"]["likes"] == got.get("post_likes", 0)
            assert day["posts"]["views"] == got.get("post_views", 0)
            assert day["posts"]["views_unknown"] == got.get("views_unknown", 0)
            assert day["clips"]["count"] == got.get("clip", 0)
            assert day["clips"]["views"] == got.get("clip_views", 0)
            assert day["videos"]["count"] == got.get("video", 0)
            assert day["videos"]["views"] == got.get("video_views", 0)
        checked += 1
        if checked == 6:
            break
    assert checked == 6
    one = sandbox.truth(community=truth["communities"][0]["id"], date_from="2025-03-01")
    assert len(one["communities"]) == 1 and one["communities"][0]["days"][0]["date"] == "2025-03-01"
    with httpx.Client(base_url=sandbox.url) as http:
        assert http.get("/_sandbox/truth", params={"community": 1}).status_code == 404
        assert http.get("/_sandbox/truth", params={"from": "x"}).status_code == 400


def test_warm_world_answers_like_a_cold_one() -> None:
    """POST /_sandbox/warm generates and encodes every wall ahead; a warm sandbox answers
    exactly like a cold one, and the warm walls hold every post."""
    with (
        SandboxServer(make_config(rate_limit=False)) as cold,
        SandboxServer(make_config(rate_limit=False)) as warm,
    ):
        with httpx.Client(base_url=warm.url) as http:
            posts = http.post("/_sandbox/warm").json()["posts"]
        truth = cold.truth()["communities"]
        assert posts == sum(day["posts"]["count"] for c in truth for day in c["days"]) > 0
        cold_vk, warm_vk = VK(cold), VK(warm)
        for community in truth[:10]:
            for offset in (0, 100):
                params = {"owner_id": -community["id"], "count": 100, "offset": offset}
                assert warm_vk.raw("wall.get", **params) == cold_vk.raw("wall.get", **params)


def test_execute_parser() -> None:
    program = parse(
        "return [API.wall.get({\"owner_id\": -1, 'count': 100, extended: true}),\n"
        ' API.groups.getById({group_ids: [1, 2, "x"], fields: "counters", ratio: -1.5})];'
    )
    assert program.is_list and [c.method for c in program.calls] == ["wall.get", "groups.getById"]
    assert program.calls[0].params == {"owner_id": "-1", "count": "100", "extended": "1"}
    assert program.calls[1].params["group_ids"] == "1,2,x"
    assert parse('return API.utils.resolveScreenName({screen_name: "a\\"b"})').calls[0].params == {
        "screen_name": 'a"b'
    }
    for bad in (
        "",
        "API.wall.get()",
        "return API.wall.get({a: b})",
        "return API.get();",
        "return 1;",
    ):
        with pytest.raises(ExecuteSyntaxError):
            parse(bad)


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    args = _cli(
        shlex.split(
            "sandbox serve --seed 5 --communities 10 --days 3 --now 2025-01-01T00:00:00 "
            "--fault error10=0.1 --fault-rate 0.1 --token community:abc --token u "
            "--no-rate-limit --wall-get-quota 10"
        )
    )
    config = config_from_args(args)
    assert config.quotas["wall.get"] == 10 and not config.rate_limit
    assert [t.kind for t in config.tokens] == ["community", "user"]
    assert config.now == datetime(2025, 1, 1, tzinfo=UTC) and config.faults == {"error10": 0.1}
    for bad in (["--fault", "boom=1"], ["--token", "admin:x"], ["--communities", "0"]):
        with pytest.raises(SystemExit):
            _cli(["sandbox", "serve", *bad])
    assert "must be within 1..1000000, got 0" in capsys.readouterr().err


@pytest.mark.asyncio
async def test_async_usage() -> None:
    async with SandboxServer(make_config(communities=5, days=3)) as server:
        await server.aadvance(3600)
        async with httpx.AsyncClient(base_url=server.url) as http:
            response = await http.get(
                "/method/utils.resolveScreenName",
                params={"screen_name": "durov", "v": "5.199", "access_token": "x"},
            )
        assert response.json() == {"response": {"type": "user", "object_id": 1}}
