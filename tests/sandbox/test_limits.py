"""Per-token rate limits, daily quotas with day rollover, auth errors, stats."""

from __future__ import annotations

from socstat.sandbox import SandboxServer, parse_token
from tests.sandbox.conftest import VK, make_config


def _codes(vk: VK, count: int, gid: int) -> list[int | None]:
    codes = []
    for _ in range(count):
        body = vk.raw("groups.getById", group_id=gid)
        codes.append(body["error"]["error_code"] if "error" in body else None)
    return codes


def test_rps_limits_and_auth() -> None:
    tokens = [parse_token("user1"), parse_token("community:comm1"), parse_token("video:vid1")]
    with SandboxServer(make_config(tokens=tokens)) as server:
        moment = [1000.0]  # the limiter's clock, frozen: the result must not depend on speed
        server.state.limiter.clock = lambda: moment[0]
        gid = server.communities()[0]["id"]
        user = VK(server, "user1")
        assert _codes(user, 4, gid) == [None, None, None, 6]
        moment[0] += 0.99
        assert _codes(user, 1, gid) == [6]  # still inside the one-second window
        moment[0] += 0.02
        assert _codes(user, 1, gid) == [None]
        community = VK(server, "comm1")
        codes = _codes(community, 21, gid)
        assert codes[:20] == [None] * 20 and codes[20] == 6
        error = VK(server, "bogus").error("groups.getById", group_id=gid)
        assert error["error_code"] == 5 and "invalid access_token" in error["error_msg"]
        assert VK(server, "vid1").call("video.get", owner_id=-gid, count=5)["count"] >= 0
        stats = server.stats()
        assert stats["tokens"]["user1"]["errors"]["6"] == 2
        assert stats["tokens"]["comm1"]["calls"]["groups.getById"] == 20
        # an execute is one request for the per-second limit
        moment[0] += 1.05
        code = "return [" + ",".join(f"API.groups.getById({{group_id:{gid}}})" for _ in range(25))
        body = user.raw("execute", code=code + "];")
        assert len(body["response"]) == 25 and "execute_errors" not in body


def test_video_get_with_video_token() -> None:
    with SandboxServer(make_config(tokens=[parse_token("video:vid")], rate_limit=False)) as server:
        gid = next(c["id"] for c in server.communities() if c["wall_accessible"])
        vk = VK(server, "vid")
        result = vk.call("video.get", owner_id=-gid, count=200)
        group = vk.call("groups.getById", group_id=gid, fields="counters")["groups"][0]
        counters = group["counters"]
        assert result["count"] == counters["videos"] + counters["clips"]
        assert {i["type"] for i in result["items"]} <= {"video", "short_video"}
        assert all(i["owner_id"] == -gid for i in result["items"])
        assert vk.error("video.get", owner_id=-gid, count=201)["error_code"] == 100


def test_daily_quota_and_rollover() -> None:
    config = make_config(rate_limit=False, quotas={"wall.get": 3})
    with SandboxServer(config) as server:
        gid = next(c["id"] for c in server.communities() if c["wall_accessible"])
        vk = VK(server)
        for _ in range(2):
            vk.call("wall.get", owner_id=-gid, count=1)
        call = f"API.wall.get({{owner_id:-{gid},count:1}})"
        body = vk.raw("execute", code=f"return [{call},{call}];")
        assert body["response"][0] is not False and body["response"][1] is False
        assert body["execute_errors"][0]["error_code"] == 29
        error = vk.error("wall.get", owner_id=-gid, count=1)
        assert error["error_code"] == 29 and error["error_msg"] == "Rate limit reached"
        assert vk.call("groups.getById", group_id=gid)  # other methods unaffected
        assert VK(server, "other-token").call("wall.get", owner_id=-gid, count=1)
        server.set_now("2025-03-10T20:59:00+00:00")  # 23:59 MSK, same day
        assert vk.error("wall.get", owner_id=-gid, count=1)["error_code"] == 29
        server.advance(120)  # 00:01 MSK next day
        assert vk.call("wall.get", owner_id=-gid, count=1)["count"] > 0
        assert server.stats()["quota_used"]["test-token"]["wall.get"] == 1
