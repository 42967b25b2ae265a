"""VK methods over real HTTP: shapes, paging, pinned post, access errors, execute."""

from __future__ import annotations

import httpx

from socstat.sandbox import SandboxServer
from tests.sandbox.conftest import NOW, VK, first_with, make_config


def test_resolve_screen_name(vk: VK, communities: list[dict]) -> None:
    named = next(c for c in communities if not c["screen_name"][-1].isdigit())
    assert vk.call("utils.resolveScreenName", screen_name=named["screen_name"]) == {
        "type": named["type"],
        "object_id": named["id"],
    }
    club = communities[0]
    resolved = vk.call("utils.resolveScreenName", screen_name=f"club{club['id']}")
    assert resolved["object_id"] == club["id"]
    assert vk.call("utils.resolveScreenName", screen_name="durov") == {
        "type": "user",
        "object_id": 1,
    }
    assert vk.call("utils.resolveScreenName", screen_name="no_such_name_x") == []


def test_groups_get_by_id(vk: VK, communities: list[dict]) -> None:
    ids = ",".join(str(c["id"]) for c in communities[:8])
    plain = vk.call("groups.getById", group_ids=ids)
    assert plain["profiles"] == [] and len(plain["groups"]) == 8
    assert all("counters" not in g for g in plain["groups"])
    full = vk.call("groups.getById", group_ids=ids, fields="counters,members_count,clips_count")
    for group in full["groups"]:
        assert {"id", "name", "screen_name", "type", "is_closed", "photo_200"} <= group.keys()
        if "deactivated" in group:
            assert group["deactivated"] in ("deleted", "banned") and "counters" not in group
        else:
            assert set(group["counters"]) >= {"videos", "clips", "clips_views", "clips_likes"}
            assert group["clips_count"] == group["counters"]["clips"]
    by_status = {c["id"]: c["status"] for c in communities}
    kinds = {by_status[g["id"]] for g in full["groups"]}
    assert {"open", "closed", "private", "deleted", "banned", "wall_disabled"} <= kinds
    assert vk.error("groups.getById", group_ids="999999999999")["error_code"] == 100
    single = vk.call("groups.getById", group_id=communities[0]["screen_name"])
    assert single["groups"][0]["id"] == communities[0]["id"]


def _all_posts(vk: VK, gid: int) -> list[dict]:
    items, offset = [], 0
    while True:
        page = vk.call("wall.get", owner_id=-gid, count=100, offset=offset)
        items += page["items"]
        offset += 100
        if offset >= page["count"]:
            assert len(items) == page["count"]
            return items


def test_wall_paging_and_pinned(vk: VK, sandbox: SandboxServer, communities: list[dict]) -> None:
    world = sandbox.state.world
    pinned_community = next(
        c for c in communities if c["wall_accessible"] and world.by_id[c["id"]].has_pinned
    )
    items = _all_posts(vk, pinned_community["id"])
    assert items[0].get("is_pinned") == 1
    assert sum(1 for i in items if i.get("is_pinned")) == 1
    assert len({i["id"] for i in items}) == len(items)
    rest = [i["date"] for i in items[1:]]
    assert rest == sorted(rest, reverse=True)
    assert items[0]["date"] <= min(rest)  # an old post pinned
    assert "views" not in items[0] and "views" in items[1]
    second = vk.call("wall.get", owner_id=-pinned_community["id"], count=5, offset=5)["items"]
    assert [i["id"] for i in second] == [i["id"] for i in items[5:10]]
    assert vk.error("wall.get", owner_id=-pinned_community["id"], count=101)["error_code"] == 100


def test_wall_item_shapes(vk: VK, communities: list[dict]) -> None:
    seen: set[str] = set()
    for community in [c for c in communities if c["wall_accessible"]][:10]:
        for item in _all_posts(vk, community["id"]):
            assert {"id", "owner_id", "from_id", "date", "text", "likes", "reposts"} <= item.keys()
            assert item["post_type"] == "post" and item["marked_as_ads"] in (0, 1)
            seen |= {"ads"} if item["marked_as_ads"] else set()
            seen |= {"repost"} if item.get("copy_history") else set()
            for att in item["attachments"]:
                obj = att.get(att["type"], {})
                if att["type"] == "clip":
                    seen.add("clip")
                elif att["type"] == "video":
                    seen.add(f"video:{obj['type']}")
                if att["type"] in ("clip", "video"):
                    assert {"id", "owner_id", "date", "views", "likes", "comments"} <= obj.keys()
    assert {"ads", "repost", "clip", "video:video", "video:short_video"} <= seen


def test_access_errors(vk: VK, communities: list[dict]) -> None:
    expected = {
        "closed": "this wall available only for community members",
        "private": "this wall available only for community members",
        "wall_disabled": "wall is disabled",
        "banned": "group is blocked",
        "deleted": "group is deactivated",
    }
    for status, message in expected.items():
        community = first_with(communities, status=status)
        error = vk.error("wall.get", owner_id=-community["id"], count=10)
        assert error["error_code"] == 15 and message in error["error_msg"]
        assert {"key": "method", "value": "wall.get"} in error["request_params"]


def test_video_get_needs_video_right(sandbox: SandboxServer, communities: list[dict]) -> None:
    gid = first_with(communities, status="open", wall_enabled=True)["id"]
    plain = VK(sandbox)
    assert plain.error("video.get", owner_id=-gid)["error_code"] == 15
    assert plain.error("video.get", owner_id=-gid, count=10)["error_msg"].startswith(
        "Access denied"
    )


def test_execute_batch(vk: VK, communities: list[dict]) -> None:
    open_id = first_with(communities, status="open")["id"]
    closed_id = first_with(communities, status="closed")["id"]
    code = (
        f'return [API.wall.get({{"owner_id":-{open_id},"count":2}}),'
        f"API.wall.get({{owner_id: -{closed_id}, count: 2}}),"
        f"API.groups.getById({{'group_ids': '{open_id}', fields: ['counters', 'members_count']}})];"
    )
    body = vk.raw("execute", code=code)
    first, second, third = body["response"]
    assert len(first["items"]) == 2 and second is False
    assert third["groups"][0]["counters"]["videos"] >= 0
    assert body["execute_errors"] == [
        {
            "method": "wall.get",
            "error_code": 15,
            "error_msg": "Access denied: this wall available only for community members",
        }
    ]
    single = vk.call("execute", code=f"return API.wall.get({{owner_id:-{open_id},count:1}})")
    assert len(single["items"]) == 1
    assert vk.error("execute", code="return 1 + API.x();")["error_code"] == 12
    assert vk.error("execute", code="var a = eval('x'); return a;")["error_code"] == 12
    many = ",".join(f"API.wall.get({{owner_id:-{open_id},count:1}})" for _ in range(26))
    assert vk.error("execute", code=f"return [{many}];")["error_code"] == 13


def test_get_and_bearer(sandbox: SandboxServer, communities: list[dict]) -> None:
    with VK(sandbox).http as http:
        response = http.get(
            "/method/wall.get",
            params={"owner_id": -first_with(communities, status="open")["id"], "v": "5.199"},
            headers={"Authorization": "Bearer abc"},
        )
    assert response.status_code == 200 and "response" in response.json()


def test_deleted_posts_leave_wall_get_by_id_and_truth_media_stay() -> None:
    with SandboxServer(make_config(communities=8, days=5, rate_limit=False)) as server:
        vk = VK(server)
        world = server.state.world
        community = next(c for c in world.communities if c.wall_accessible)
        gid = community.id
        before = _all_posts(vk, gid)
        truth_before = server.truth()
        with_media = next((p for p in world.posts(gid, NOW.timestamp())[0] if p.media), None)
        victims = [before[1]["id"], before[2]["id"]]
        if with_media is not None and with_media.id not in victims:
            victims.append(with_media.id)
        refs = ",".join(f"-{gid}_{pid}" for pid in victims)
        assert len(vk.call("wall.getById", posts=refs)["items"]) == len(victims)

        assert server.delete_posts(-gid, victims) == {"deleted": len(victims)}
        assert server.delete_posts(-gid, victims) == {"deleted": 0}  # already gone
        after = _all_posts(vk, gid)
        assert len(after) == len(before) - len(victims)
        assert not {p["id"] for p in after} & set(victims)
        kept = before[0]["id"]
        answer = vk.call("wall.getById", posts=f"{refs},-{gid}_{kept}")
        assert [item["id"] for item in answer["items"]] == [kept]
        assert vk.error("wall.getById", posts="")["error_code"] == 100
        assert vk.error("wall.getById", posts="-1_x")["error_code"] == 100

        def totals(truth: dict, key: str) -> int:
            [entry] = [c for c in truth["communities"] if c["id"] == gid]
            return sum(day[key]["count"] for day in entry["days"])

        after_truth = server.truth()
        assert totals(after_truth, "posts") == totals(truth_before, "posts") - len(victims)
        for key in ("videos", "clips"):  # VK keeps clips and videos of a deleted post
            assert totals(after_truth, key) == totals(truth_before, key)
        bad = httpx.post(f"{server.url}/_sandbox/delete_posts", json={"owner_id": -gid})
        assert bad.status_code == 400
