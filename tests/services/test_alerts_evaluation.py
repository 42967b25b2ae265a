"""Rule evaluation on sandbox data collected over HTTP, with a controlled clock.

Expected figures come from the sandbox's ground truth (``server.truth()``) or, for
baseline rules, are recomputed here from the stored publications.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from socstat.models import (
    AlertFiring,
    ContentItem,
    FiringState,
    Notification,
    Outbox,
    Source,
    User,
)
from socstat.sandbox import SandboxServer
from socstat.services import alerts
from socstat.services.alerts import hooks
from socstat.services.collection import collect_sources, unregister_post_run_hook
from tests.services.accounts_fixtures import make_user
from tests.services.conftest import (
    SANDBOX_NOW,
    add_sources,
    open_communities,
    sandbox_collector,
)

DAY = "2026-03-10"  # the last closed installation day at SANDBOX_NOW (12:00 MSK, 11.03)
KINDS = ("posts", "videos", "clips")


async def _track_and_collect(
    session: Session, server: SandboxServer, collector, user: User, *, now: datetime
) -> dict[str, Source]:
    links = [f"https://vk.com/{c['screen_name']}" for c in open_communities(server)]
    await add_sources(session, actor=user, links=links, collector=collector)
    ids = [s.id for s in session.exec(select(Source)).all()]
    server.reset_quotas()
    await collect_sources(source_ids=ids, collector=collector, now=now)
    session.expire_all()
    return {s.screen_name: s for s in session.exec(select(Source)).all()}


def _truth_day(server: SandboxServer, screen_name: str, day: str) -> dict:
    community = next(c for c in server.truth()["communities"] if c["screen_name"] == screen_name)
    return next(d for d in community["days"] if d["date"] == day)


def _rule(session: Session, user: User, **fields) -> alerts.RuleView:
    values = {
        "name": "",
        "metric": "posts",
        "comparison": "ge",
        "threshold": 1,
        "window": "day",
        "channels": ["inapp"],
    }
    values.update(fields)
    rule = alerts.create_alert_rule(session, actor=user, **values)
    session.commit()
    return rule


def _firings(session: Session, rule_id: int, state: str = FiringState.FIRED) -> list[AlertFiring]:
    session.expire_all()
    return list(
        session.exec(
            select(AlertFiring).where(AlertFiring.rule_id == rule_id, AlertFiring.state == state)
        ).all()
    )


def _evaluate(session: Session, sources: dict[str, Source], now: datetime) -> None:
    alerts.evaluate_after_collection(session, source_ids=[s.id for s in sources.values()], now=now)
    session.commit()


@pytest.fixture
async def world(db, session, vk_sandbox, vk_collector):
    user = make_user(session, "analyst@example.com")
    sources = await _track_and_collect(session, vk_sandbox, vk_collector, user, now=SANDBOX_NOW)
    return user, sources


async def test_threshold_fires_exactly_when_the_condition_holds_once_per_window(
    session, vk_sandbox, world
) -> None:
    user, sources = world
    name = open_communities(vk_sandbox)[0]["screen_name"]
    source = sources[name]
    posts = _truth_day(vk_sandbox, name, DAY)["posts"]["count"]
    assert posts >= 1
    at = _rule(session, user, scope="source", source_id=source.id, threshold=posts)
    above = _rule(session, user, scope="source", source_id=source.id, threshold=posts + 1)
    at_most = _rule(
        session, user, scope="source", source_id=source.id, comparison="le", threshold=posts
    )
    below = _rule(
        session, user, scope="source", source_id=source.id, comparison="le", threshold=posts - 1
    )
    for _ in range(2):  # a second evaluation (a restart, another process) adds nothing
        _evaluate(session, sources, SANDBOX_NOW)
    closed = [f for f in _firings(session, at.id) if f.window_start.isoformat() == DAY]
    assert [(f.value, f.source_id) for f in closed] == [(posts, source.id)]
    assert [f.value for f in _firings(session, at_most.id)] == [posts]
    assert not [f for f in _firings(session, above.id) if f.window_start.isoformat() == DAY]
    assert _firings(session, below.id) == []
    notes = session.exec(select(Notification).where(Notification.user_id == user.id)).all()
    assert len([n for n in notes if n.link == f"/sources/{source.id}"]) == len(
        _firings(session, at.id) + _firings(session, at_most.id) + _firings(session, above.id)
    )


async def test_any_of_my_sources_over_views_and_unknown_is_skipped(
    session, vk_sandbox, world
) -> None:
    user, sources = world
    truth = {}
    for community in open_communities(vk_sandbox):
        day = _truth_day(vk_sandbox, community["screen_name"], DAY)
        unknown = sum(day[k]["views_unknown"] for k in KINDS)
        truth[community["screen_name"]] = (sum(day[k]["views"] for k in KINDS), unknown)
    threshold = statistics.median(v for v, _ in truth.values())
    rule = _rule(session, user, scope="mine", metric="views", threshold=int(threshold))
    _evaluate(session, sources, SANDBOX_NOW)
    fired = {f.source_id for f in _firings(session, rule.id) if f.window_start.isoformat() == DAY}
    expected = {
        sources[n].id
        for n, (views, unknown) in truth.items()
        if views >= int(threshold) and not unknown
    }
    assert fired == expected and fired
    skipped = {f.source_id for f in _firings(session, rule.id, FiringState.SKIPPED)}
    assert skipped == {sources[n].id for n, (_, unknown) in truth.items() if unknown}


async def test_unknown_members_never_fire_as_zero(session, vk_sandbox, world) -> None:
    user, sources = world
    source = next(iter(sources.values()))
    # members were read on 11.03 only: the closed day 10.03 has no snapshot
    rule = _rule(
        session,
        user,
        scope="source",
        source_id=source.id,
        metric="members",
        comparison="le",
        threshold=10**9,
    )
    _evaluate(session, sources, SANDBOX_NOW)
    assert _firings(session, rule.id) == []
    [skip] = _firings(session, rule.id, FiringState.SKIPPED)
    assert "нет снимка числа подписчиков за период" in skip.reason
    history = alerts.rule_history(session, actor=user, rule_id=rule.id)
    assert [h.state for h in history] == [FiringState.SKIPPED]


async def test_change_against_the_previous_window(session, vk_sandbox, world) -> None:
    user, sources = world
    candidates = []
    for community in open_communities(vk_sandbox):
        today = _truth_day(vk_sandbox, community["screen_name"], DAY)["posts"]["count"]
        before = _truth_day(vk_sandbox, community["screen_name"], "2026-03-09")["posts"]["count"]
        if before and today != before:
            candidates.append((community["screen_name"], 100.0 * (today - before) / before))
    assert candidates, "the sandbox world has no day-to-day change to test with"
    name, change = candidates[0]
    comparison = "rise_pct" if change > 0 else "fall_pct"
    exact = _rule(
        session,
        user,
        scope="source",
        source_id=sources[name].id,
        comparison=comparison,
        threshold=round(abs(change), 6) - 1e-6,
    )
    more = _rule(
        session,
        user,
        scope="source",
        source_id=sources[name].id,
        comparison=comparison,
        threshold=abs(change) + 1,
    )
    _evaluate(session, sources, SANDBOX_NOW)
    assert len(_firings(session, exact.id)) == 1
    assert _firings(session, more.id) == []


def _expected_baseline_hits(session: Session, source_id: int, since: datetime, n: float) -> set:
    items = session.exec(
        select(ContentItem)
        .where(ContentItem.source_id == source_id, ContentItem.kind == "post")
        .order_by(ContentItem.published_at)
    ).all()
    hits = set()
    for index, item in enumerate(items):
        previous = [i.views for i in items[:index] if i.views is not None][-20:]
        if item.published_at < since or item.views is None or len(previous) < 5:
            continue
        median = statistics.median(previous)
        if median > 0 and item.views >= n * median:
            hits.add(item.id)
    return hits


async def test_baseline_fires_on_the_right_publication(session, vk_sandbox, world) -> None:
    user, sources = world
    since = SANDBOX_NOW - timedelta(days=30)
    best: tuple[float, str] = (0.0, "")
    for name, source in sources.items():
        items = session.exec(
            select(ContentItem)
            .where(ContentItem.source_id == source.id, ContentItem.kind == "post")
            .order_by(ContentItem.published_at)
        ).all()
        for index, item in enumerate(items):
            previous = [i.views for i in items[:index] if i.views is not None][-20:]
            if item.views is not None and len(previous) >= 5 and statistics.median(previous):
                best = max(best, (item.views / statistics.median(previous), name))
    ratio, name = best
    assert ratio > 1, "no publication above its source's median in the sandbox world"
    multiplier = round(ratio, 3) - 0.001 if ratio > 1.002 else ratio
    rule = _rule(
        session,
        user,
        rule_type="baseline",
        scope="mine",
        metric="views",
        kind="post",
        threshold=multiplier,
    )
    _evaluate(session, sources, SANDBOX_NOW)
    fired = {f.content_item_id for f in _firings(session, rule.id)}
    expected = set()
    for source in sources.values():
        expected |= _expected_baseline_hits(session, source.id, since, multiplier)
    assert fired == expected and fired


async def test_quiet_hours_in_the_users_zone_hold_email_then_one_digest(
    session, vk_sandbox, world
) -> None:
    user, sources = world
    user.timezone = "Asia/Vladivostok"  # SANDBOX_NOW is 19:00 there, 12:00 in Moscow
    session.add(user)
    session.commit()
    rule = _rule(
        session,
        user,
        scope="mine",
        metric="posts",
        threshold=1,
        channels=["inapp", "email"],
        quiet_from="18:00",
        quiet_to="23:30",
    )
    _evaluate(session, sources, SANDBOX_NOW)
    fired = _firings(session, rule.id)
    assert fired and all(f.pending == FiringState.FIRED for f in fired)
    assert session.exec(select(Outbox)).all() == []
    assert len(session.exec(select(Notification)).all()) == len(fired)  # in-app at once
    still_quiet = SANDBOX_NOW + timedelta(hours=4)  # 23:00 in Vladivostok
    alerts.evaluate_due(session, now=still_quiet)
    session.commit()
    assert session.exec(select(Outbox)).all() == []
    after = SANDBOX_NOW + timedelta(hours=5)  # 00:00 in Vladivostok
    for _ in range(2):
        alerts.evaluate_due(session, now=after)
        session.commit()
    [digest] = session.exec(select(Outbox)).all()
    assert digest.channel == "email" and digest.recipient == user.email
    assert f"({len(fired)})" in digest.subject
    assert all(f.pending == "" for f in _firings(session, rule.id))


async def test_back_to_normal_after_the_condition_stops(session, vk_sandbox, vk_collector, world):
    user, sources = world
    name = open_communities(vk_sandbox)[0]["screen_name"]
    posts = _truth_day(vk_sandbox, name, DAY)["posts"]["count"]
    rule = _rule(
        session,
        user,
        scope="source",
        source_id=sources[name].id,
        threshold=posts,
        notify_resolved=True,
    )
    _evaluate(session, sources, SANDBOX_NOW)
    [fired] = [f for f in _firings(session, rule.id) if f.window_start.isoformat() == DAY]
    later = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    vk_sandbox.set_now(later)
    vk_sandbox.reset_quotas()
    await collect_sources(source_ids=[sources[name].id], collector=vk_collector, now=later)
    next_day = _truth_day(vk_sandbox, name, "2026-03-11")["posts"]["count"]
    _evaluate(session, sources, later)
    session.refresh(fired)
    if next_day >= posts:
        assert fired.state == FiringState.FIRED
    else:
        assert fired.state == FiringState.RESOLVED
        titles = [n.title for n in session.exec(select(Notification)).all()]
        assert any(t.startswith("Снова в норме") for t in titles)


async def test_the_post_run_hook_evaluates_after_each_collection(db, session, sandbox_factory):
    """Installed hook, a real-time sandbox clock: a collection alone fires the rule."""
    now = datetime.now(UTC).replace(microsecond=0)
    server = sandbox_factory(now=now, communities=4)
    collector = sandbox_collector(server)
    user = make_user(session, "hook@example.com")
    links = [f"https://vk.com/{c['screen_name']}" for c in open_communities(server)]
    await add_sources(session, actor=user, links=links, collector=collector)
    rule = _rule(session, user, scope="mine", metric="posts", threshold=1)
    hooks.install()
    try:
        ids = [s.id for s in session.exec(select(Source)).all()]
        await collect_sources(source_ids=ids, collector=collector)
    finally:
        unregister_post_run_hook(hooks.after_collection)
        await collector.aclose()
    session.expire_all()
    by_name = {s.screen_name: s.id for s in session.exec(select(Source)).all()}
    yesterday = (now.astimezone(ZoneInfo("Europe/Moscow")).date() - timedelta(days=1)).isoformat()
    expected = {
        by_name[c["screen_name"]]
        for c in open_communities(server)
        if _truth_day(server, c["screen_name"], yesterday)["posts"]["count"] >= 1
    }
    fired = {
        f.source_id for f in _firings(session, rule.id) if f.window_start.isoformat() == yesterday
    }
    assert fired == expected and fired


async def test_preview_replays_the_last_30_days(session, vk_sandbox, world) -> None:
    user, sources = world
    name = open_communities(vk_sandbox)[0]["screen_name"]
    community = next(c for c in vk_sandbox.truth()["communities"] if c["screen_name"] == name)
    expected = [
        datetime.fromisoformat(d["date"]).strftime("%d.%m.%Y")
        for d in community["days"]
        if d["posts"]["count"] >= 2 and d["date"] < "2026-03-11"
    ]
    preview = alerts.preview_rule(
        session,
        actor=user,
        now=SANDBOX_NOW,
        name="",
        scope="source",
        source_id=sources[name].id,
        metric="posts",
        comparison="ge",
        threshold=2,
        window="day",
        channels=["inapp"],
    )
    assert [h.label for h in preview.hits] == expected
    assert preview.checked == 30
    history_start = sources[name].history_start
    before = (history_start - (SANDBOX_NOW.date() - timedelta(days=30))).days
    assert preview.skipped == max(0, before)
    assert session.exec(select(AlertFiring)).all() == []  # a preview stores nothing
