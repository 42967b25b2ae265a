"""After a real collection (VK collector → sandbox over HTTP), the analytics numbers equal
the sandbox's ground truth: per source, over the scope, per day, per kind."""

from __future__ import annotations

from datetime import date

import pytest

from socstat.models import Role, User
from socstat.services.analytics import (
    Period,
    Scope,
    day_series,
    totals,
    totals_by_kind,
    totals_by_source,
)
from socstat.services.collection import collect_sources
from socstat.services.sources import AddOutcome
from tests.services.conftest import add_sources, world_now

pytestmark = pytest.mark.slow

KINDS = {"post": "posts", "video": "videos", "clip": "clips"}
FIGURES = ("likes", "reposts", "comments", "views")


def _sum(days: list[dict], key: str, field: str) -> int:
    return sum(day[key][field] for day in days)


async def test_numbers_equal_ground_truth(session, vk_sandbox, vk_collector) -> None:
    ann = User(email="ann@example.com", role=Role.ANALYST)
    session.add(ann)
    session.commit()
    links = [f"https://vk.com/{c['screen_name']}" for c in vk_sandbox.communities()]
    added = await add_sources(session, actor=ann, links=links, collector=vk_collector)
    assert {r.outcome for r in added} == {AddOutcome.ADDED}
    session.commit()
    ids = [r.source_id for r in added]
    summary = await collect_sources(
        source_ids=ids, collector=vk_collector, now=world_now(vk_sandbox)
    )
    assert summary.sources_failed == 0
    session.expire_all()

    truth = vk_sandbox.truth()
    first = date.fromisoformat(truth["communities"][0]["days"][0]["date"])
    last = date.fromisoformat(truth["communities"][0]["days"][-1]["date"])
    period = Period.custom(first, last)
    readable = [c for c in truth["communities"] if c["wall_accessible"]]
    assert readable and len(readable) < len(truth["communities"])

    rows = {
        r.source.external_id: r
        for r in totals_by_source(session, actor=ann, scope=Scope(), period=period)
    }
    for community in truth["communities"]:
        row = rows[str(community["id"])].current
        members = None if community["deactivated"] else community["members_count"]
        assert row.members_end.value == members, community["screen_name"]  # VK hides deleted
        if not community["wall_accessible"]:  # closed, deleted…: unknown, not 30 days of 0
            assert row.posts is None and row.likes.value is None, community["screen_name"]
            continue
        days = community["days"]
        for kind, key in KINDS.items():
            assert row.count(kind) == _sum(days, key, "count"), (community["screen_name"], kind)
        for figure in FIGURES:
            want = sum(_sum(days, key, figure) for key in KINDS.values())
            assert (getattr(row, figure).value or 0) == want, (community["screen_name"], figure)
        unknown = sum(_sum(days, key, "views_unknown") for key in KINDS.values())
        assert row.views.unknown == unknown

    scope = totals(session, actor=ann, scope=Scope(), period=period)
    for kind, key in KINDS.items():
        want = sum(_sum(c["days"], key, "count") for c in readable)
        assert scope.current.count(kind) == want
    assert scope.current.likes.value == sum(
        _sum(c["days"], key, "likes") for c in readable for key in KINDS.values()
    )
    assert scope.previous.posts == 0  # collected history before the world began: known zeros

    clips = totals_by_kind(session, actor=ann, scope=Scope(kinds=("clip",)), period=period)
    assert clips[0].current.publications == sum(_sum(c["days"], "clips", "count") for c in readable)

    series = day_series(session, actor=ann, scope=Scope(kinds=("post",)), period=period)
    for index, point in enumerate(series.points):
        assert point.posts == sum(c["days"][index]["posts"]["count"] for c in readable)
        assert point.reposts.value == sum(c["days"][index]["posts"]["reposts"] for c in readable)
