"""Collection service: persistence and aggregates of domain values, runs and the journal.

`persist_result` is unit-tested with `SourceResult` values built here; every run is made
by the real VK collector against the project's VK sandbox over HTTP (tests/services/
conftest.py), and the expectations come from the sandbox's ground truth and its own
record of what it served.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from socstat.collectors.base import CommunityInfo, ContentRecord, CounterReading, SourceResult
from socstat.models import (
    CollectionRun,
    CollectionRunSource,
    ContentItem,
    CounterSnapshot,
    DailyStat,
    Notification,
    Role,
    RunStatus,
    Source,
    SourceStatus,
    Subscription,
    SystemSetting,
    User,
    utcnow,
)
from socstat.sandbox import SandboxServer
from socstat.services.authz import PermissionDenied
from socstat.services.collection import (
    CollectionBusy,
    RunSummary,
    collect_due_sources,
    collect_sources,
    due_source_ids,
    local_date,
    local_midnight,
    persist_result,
    register_post_run_hook,
    unregister_post_run_hook,
)
from socstat.services.collection.journal import stale_after
from socstat.settings import get_settings, reset_settings_cache
from tests.services.conftest import (
    SANDBOX_TOKEN,
    open_communities,
    sandbox_collector,
    world_now,
)

MSK_MIDNIGHT_UTC = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # 2026-03-11 00:00 MSK


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


def post(external_id: str, published_at: datetime, **values: object) -> ContentRecord:
    return ContentRecord(kind="post", external_id=external_id, published_at=published_at, **values)


def _user(session: Session, email: str = "ann@example.com", role: str = Role.ANALYST) -> User:
    user = User(email=email, role=role)
    session.add(user)
    session.commit()
    return user


def _source(session: Session, external_id: str, user: User, **values: object) -> Source:
    source = Source(external_id=external_id, screen_name=f"club{external_id}", **values)
    session.add(source)
    session.commit()
    session.add(Subscription(user_id=user.id, source_id=source.id))
    session.commit()
    return source


def _stats(session: Session, source_id: int) -> dict[tuple[date, str], DailyStat]:
    session.expire_all()
    rows = session.exec(select(DailyStat).where(DailyStat.source_id == source_id)).all()
    return {(r.local_date, r.kind): r for r in rows}


def test_persist_groups_by_moscow_day_and_keeps_unknown(session) -> None:
    user = _user(session)
    source = _source(session, "1", user, history_start=date(2026, 3, 1))
    before = MSK_MIDNIGHT_UTC - timedelta(minutes=1)  # 23:59 MSK on the 10th
    after = MSK_MIDNIGHT_UTC + timedelta(minutes=1)  # 00:01 MSK on the 11th
    result = SourceResult(
        external_id="1",
        info=community("1", members_count=1500, counters=CounterReading(videos=4, clips=None)),
        items=[
            post("10", before, likes=5, reposts=1, comments=0, views=100),
            post("11", after, likes=2, reposts=0, comments=3, views=None),
            post("12", after, likes=1, reposts=0, comments=0, views=None),
            ContentRecord(kind="clip", external_id="-1_5", published_at=after, views=70),
            post("1", datetime(2026, 1, 1, tzinfo=UTC), is_pinned=True, likes=9),  # too old
        ],
    )
    stored = persist_result(session, source_id=source.id, result=result)
    status, counts = stored.status, stored.counts
    session.commit()
    assert status == RunStatus.OK
    assert (counts.new, counts.updated) == (4, 0)
    stats = _stats(session, source.id)
    day10, day11 = stats[(date(2026, 3, 10), "post")], stats[(date(2026, 3, 11), "post")]
    assert (day10.count, day10.likes, day10.views, day10.views_unknown) == (1, 5, 100, 0)
    assert (day11.count, day11.likes, day11.comments, day11.views) == (2, 3, 3, None)
    assert day11.views_unknown == 2
    clip = stats[(date(2026, 3, 11), "clip")]
    assert (clip.count, clip.likes, clip.views, clip.views_unknown) == (1, None, 70, 0)
    snapshot = session.exec(select(CounterSnapshot)).one()
    assert (snapshot.members, snapshot.videos, snapshot.clips) == (1500, 4, None)
    assert session.get(Source, source.id).cursor_published_at == after


def test_persist_is_idempotent_and_refreshes_engagement(session) -> None:
    user = _user(session)
    source = _source(session, "1", user, history_start=date(2026, 3, 1))
    at = MSK_MIDNIGHT_UTC + timedelta(hours=5)
    first = SourceResult("1", community("1"), [post("10", at, likes=1, views=None)])
    persist_result(session, source_id=source.id, result=first)
    session.commit()
    same = persist_result(session, source_id=source.id, result=first).counts
    session.commit()
    assert (same.new, same.updated) == (0, 0)
    newer = SourceResult("1", community("1"), [post("10", at, likes=7, views=50)])
    assert persist_result(session, source_id=source.id, result=newer).counts.updated == 1
    session.commit()
    # a later reading without a figure keeps the known one (never turns it back to NULL)
    blank = SourceResult("1", community("1"), [post("10", at, likes=None, views=None)])
    persist_result(session, source_id=source.id, result=blank)
    session.commit()
    session.expire_all()
    item = session.exec(select(ContentItem)).one()
    assert (item.likes, item.views) == (7, 50)
    stat = _stats(session, source.id)[(date(2026, 3, 11), "post")]
    assert (stat.count, stat.likes, stat.views, stat.views_unknown) == (1, 7, 50, 0)


def test_partial_result_keeps_items_and_leaves_source_due(session) -> None:
    user = _user(session)
    source = _source(session, "1", user, history_start=date(2026, 3, 1))
    at = MSK_MIDNIGHT_UTC
    partial = SourceResult(
        "1",
        community("1"),
        [post("10", at, likes=1)],
        complete=False,
        error="Сбой VK",
        error_code=10,
    )
    status = persist_result(session, source_id=source.id, result=partial).status
    session.commit()
    session.refresh(source)
    assert status == RunStatus.PARTIAL
    assert source.stale and "Сбой VK" in source.last_error
    assert source.last_collected_at is None and source.cursor_published_at is None
    assert session.exec(select(ContentItem)).one().likes == 1
    assert due_source_ids(session) == [source.id]


def test_inaccessible_community_gets_status_and_keeps_data(session) -> None:
    user = _user(session)
    source = _source(session, "1", user, history_start=date(2026, 3, 1))
    persist_result(
        session,
        source_id=source.id,
        result=SourceResult("1", community("1"), [post("1", utcnow())]),
    )
    session.commit()
    closed = community("1", status=SourceStatus.CLOSED, status_reason="Закрытое сообщество")
    status = persist_result(session, source_id=source.id, result=SourceResult("1", closed)).status
    session.commit()
    session.refresh(source)
    assert status == RunStatus.OK
    assert (source.status, source.status_reason) == (SourceStatus.CLOSED, "Закрытое сообщество")
    assert len(session.exec(select(ContentItem)).all()) == 1


def test_due_sources_order_and_interval_setting(session) -> None:
    user = _user(session)
    now = utcnow()
    fresh = _source(session, "1", user, last_collected_at=now - timedelta(hours=1))
    old = _source(session, "2", user, last_collected_at=now - timedelta(hours=30))
    older = _source(session, "3", user, last_collected_at=now - timedelta(hours=50))
    never = _source(session, "4", user)
    untracked = Source(external_id="5")
    session.add(untracked)
    session.commit()
    assert due_source_ids(session, now=now) == [never.id, older.id, old.id]
    session.add(SystemSetting(key="collect_interval_hours", value=40))
    session.commit()
    assert due_source_ids(session, now=now) == [never.id, older.id]
    assert fresh.id not in due_source_ids(session, now=now + timedelta(hours=10))


# --- runs against the sandbox ------------------------------------------------------------

BACKFILL_DAYS = 6  # the sandbox world has 7 days: the days before history_start are real
MISSING_ID = "999"  # VK answers "no such community" (the sandbox's ids are >= 1000)
KINDS = {"post": "posts", "video": "videos", "clip": "clips"}
Figures = tuple[int, int, int, int, int, int]


@pytest.fixture
def short_backfill(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """SOCSTAT_BACKFILL_DAYS=6, so the first collection's window starts inside the world."""
    monkeypatch.setenv("SOCSTAT_BACKFILL_DAYS", str(BACKFILL_DAYS))
    reset_settings_cache()
    yield BACKFILL_DAYS
    monkeypatch.undo()
    reset_settings_cache()


def _night_posts(server: SandboxServer, community_id: int, day: date) -> list[tuple[str, datetime]]:
    """(id, time) of the posts published 00:00–03:00 MSK on `day` (Moscow date).

    Read from the sandbox's in-process world: no HTTP, nothing counted or charged.
    """
    world, now = server.state.world, server.state.clock.now()
    posts, _ = world.posts(community_id, now)
    found = []
    for item in posts:
        published = datetime.fromtimestamp(item.date, UTC)
        moscow = published + timedelta(hours=3)
        if moscow.date() == day and moscow.hour < 3:
            found.append((str(item.id), published))
    return found


def _truth(server: SandboxServer, community_id: int) -> dict[tuple[date, str], Figures]:
    """The sandbox's ground truth per (Moscow day, kind) with content, at its clock's now."""
    days = server.truth(community=community_id)["communities"][0]["days"]
    return {
        (date.fromisoformat(day["date"]), kind): _figures(day[key])
        for day in days
        for kind, key in KINDS.items()
        if day[key]["count"]
    }


def _figures(block: dict) -> Figures:
    keys = ("count", "likes", "reposts", "comments", "views", "views_unknown")
    return tuple(block[k] for k in keys)  # type: ignore[return-value]


def _stored(session: Session, source_id: int) -> dict[tuple[date, str], Figures]:
    """The DailyStat rows of a source in the same shape (unknown views count as 0)."""
    return {
        key: (s.count, s.likes, s.reposts, s.comments, s.views or 0, s.views_unknown)
        for key, s in _stats(session, source_id).items()
    }


def _window(
    figures: dict[tuple[date, str], Figures], first: date, last: date | None = None
) -> dict[tuple[date, str], Figures]:
    return {k: v for k, v in figures.items() if k[0] >= first and (last is None or k[0] <= last)}


def _items(figures: dict[tuple[date, str], Figures]) -> int:
    return sum(v[0] for v in figures.values())


async def test_run_journal_since_and_interrupted_runs(
    session, sandbox_factory: Callable[..., SandboxServer], short_backfill: int
) -> None:
    # one wall.get per token and Moscow day: the first source's wall fits one page, the
    # second source's first page is refused with VK error 29 (daily quota) → partial;
    # the third names a community VK does not know → failed
    server = sandbox_factory(quotas={"wall.get": 1})
    tz = get_settings().tz
    now = world_now(server)
    history_start = local_date(now, tz) - timedelta(days=BACKFILL_DAYS)
    # `first` has a post in the first hours of the history's first day: it is collected
    # only if the window opens at Moscow midnight (21:00 UTC), not at UTC midnight
    communities = open_communities(server)
    first = next(c for c in communities if _night_posts(server, c["id"], history_start))
    second = next(c for c in communities if c is not first)
    [(night_post, night_at)] = _night_posts(server, first["id"], history_start)
    assert int(MISSING_ID) not in {c["id"] for c in server.communities()}
    user = _user(session)
    a = _source(session, str(first["id"]), user)
    b = _source(session, str(second["id"]), user)
    c = _source(session, MISSING_ID, user)
    stale_run = CollectionRun(status=RunStatus.RUNNING, heartbeat_at=utcnow() - 2 * stale_after())
    session.add(stale_run)
    session.commit()
    collector = sandbox_collector(server)
    try:
        summary = await collect_due_sources(collector=collector, now=now)
    finally:
        await collector.aclose()
    assert summary is not None
    assert (summary.sources_ok, summary.sources_partial, summary.sources_failed) == (1, 1, 1)
    assert summary.status == RunStatus.PARTIAL

    # the first collection starts at Moscow midnight backfill_days ago, remembered on the
    # source: a's stats are the truth from that day on, and nothing of the days before
    truth = _truth(server, first["id"])
    assert any(day < history_start for day, _ in truth), "the world must reach further back"
    collected = _window(truth, history_start)
    assert summary.items_new == _items(collected) > 0
    assert _stored(session, a.id) == collected
    source_a = session.get(Source, a.id)
    assert source_a.history_start == history_start
    oldest = session.exec(
        select(ContentItem)
        .where(ContentItem.source_id == a.id, ContentItem.kind == "post")
        .order_by(ContentItem.published_at)
    ).first()
    assert (oldest.external_id, oldest.published_at) == (night_post, night_at)
    assert night_at.hour >= 21 and night_at >= local_midnight(history_start, tz)

    # the journal counts what the sandbox really served (it saw no other client)
    served = server.stats()
    calls = {m: n for m, n in served["totals"]["calls"].items() if m != "execute"}
    assert summary.requests == served["http_requests"] > 0
    assert summary.calls == sum(calls.values())
    assert summary.errors_by_code == served["totals"]["errors"]
    assert summary.errors_by_code["29"] >= 1 and summary.errors_by_code["100"] == 1
    session.expire_all()
    assert session.get(CollectionRun, stale_run.id).status == RunStatus.INTERRUPTED
    run = session.get(CollectionRun, summary.run_id)
    assert run.status == RunStatus.PARTIAL
    assert (run.requests, run.calls) == (summary.requests, summary.calls)
    assert (run.sources_ok, run.sources_partial, run.sources_failed) == (1, 1, 1)
    rows = {r.source_id: r for r in session.exec(select(CollectionRunSource))}
    assert {sid: r.status for sid, r in rows.items()} == {
        a.id: "ok",
        b.id: "partial",
        c.id: "failed",
    }
    assert "код 29" in rows[b.id].error and "код 100" in rows[c.id].error
    source_b = session.get(Source, b.id)
    assert source_b.stale and "код 29" in source_b.last_error
    assert source_b.last_collected_at is None and source_b.name == second["name"]

    # only b and c stay due; the next run asks a from min(cursor, refresh window)
    assert set(due_source_ids(session, now=now)) == {b.id, c.id}
    cursor = source_a.cursor_published_at
    assert cursor is not None
    server.advance(2 * 86400)  # two days later: new posts, engagement has grown
    later = world_now(server)
    collector = sandbox_collector(server)  # the old one parked its token for the day
    try:
        again = await collect_sources(
            source_ids=[a.id], collector=collector, trigger="manual", now=later
        )
    finally:
        await collector.aclose()
    assert again.status == RunStatus.OK
    refresh_days = get_settings().refresh_days  # 3: the cursor is the newer bound here
    refresh_from = local_midnight(local_date(later, tz) - timedelta(days=refresh_days), tz)
    since = min(refresh_from, cursor)
    assert later - timedelta(days=4) < since <= later - timedelta(hours=2)
    truth_later = _truth(server, first["id"])
    assert again.items_new == _items(_window(truth_later, history_start)) - _items(collected)
    assert again.items_new > 0
    # days from `since` on were asked again and equal today's truth; the days before were
    # not asked (their stored figures are still the first run's, though VK's moved on)
    since_day = local_date(since, tz)
    fresh_from = since_day if since == local_midnight(since_day, tz) else since_day + timedelta(1)
    stored = _stored(session, a.id)
    assert _window(stored, fresh_from) == _window(truth_later, fresh_from) != {}
    last_old_day = since_day - timedelta(days=1)
    old = _window(stored, history_start, last_old_day)
    assert old == _window(collected, history_start, last_old_day)
    assert old != _window(truth_later, history_start, last_old_day)


async def test_invalid_tokens_notify_admins_once(session, vk_sandbox: SandboxServer) -> None:
    _user(session, "admin@example.com", Role.ADMIN)
    user = _user(session)
    source = _source(session, str(open_communities(vk_sandbox)[0]["id"]), user)
    # the sandbox knows only SANDBOX_TOKEN: it answers error 5 to the other one
    collector = sandbox_collector(
        vk_sandbox, tokens=f"community:abcdefgh12345678,community:{SANDBOX_TOKEN}"
    )
    now = world_now(vk_sandbox)
    try:
        summary = await collect_sources(source_ids=[source.id], collector=collector, now=now)
        assert "недействительные токены" in summary.error.lower()
        assert summary.sources_ok == 1  # the good token carried on
        await collect_sources(source_ids=[source.id], collector=collector, now=now)
    finally:
        await collector.aclose()
    assert vk_sandbox.stats()["tokens"]["abcdefgh12345678"]["errors"] == {"5": 1}
    notes = session.exec(select(Notification)).all()
    assert len(notes) == 1 and "…5678" in notes[0].title


async def test_a_stored_invalid_token_is_told_once_through_system_alerts(
    session, vk_sandbox: SandboxServer
) -> None:
    from socstat.models import ApiToken
    from socstat.services import system_settings
    from socstat.services.alerts.system import check_system

    admin = _user(session, "admin@example.com", Role.ADMIN)
    user = _user(session)
    source = _source(session, str(open_communities(vk_sandbox)[0]["id"]), user)
    system_settings.add_vk_token(session, actor=admin, token="abcdefgh12345678", kind="community")
    session.commit()
    collector = sandbox_collector(
        vk_sandbox, tokens=f"community:abcdefgh12345678,community:{SANDBOX_TOKEN}"
    )
    now = world_now(vk_sandbox)
    try:
        for _ in range(2):
            await collect_sources(source_ids=[source.id], collector=collector, now=now)
    finally:
        await collector.aclose()
    session.expire_all()
    assert session.exec(select(ApiToken.invalid_at)).one() is not None
    assert session.exec(select(Notification)).all() == []  # no direct notice for a stored one
    check_system(session, now=utcnow())
    check_system(session, now=utcnow())
    session.commit()
    notes = session.exec(select(Notification)).all()
    assert len(notes) == 1 and notes[0].user_id == admin.id and "недействителен" in notes[0].title


async def test_collect_sources_checks_actor(session, vk_sandbox, vk_collector) -> None:
    ann = _user(session)
    bob = _user(session, "bob@example.com")
    source = _source(session, str(open_communities(vk_sandbox)[0]["id"]), ann)
    now = world_now(vk_sandbox)
    with pytest.raises(PermissionDenied):
        await collect_sources(source_ids=[source.id], collector=vk_collector, actor=bob, now=now)
    assert vk_sandbox.stats()["http_requests"] == 0  # refused before VK was asked
    summary = await collect_sources(
        source_ids=[source.id], collector=vk_collector, actor=ann, now=now
    )
    assert summary.status == RunStatus.OK and summary.items_new > 0
    assert session.exec(select(CollectionRun.started_by)).one() == ann.id


async def test_only_runs_with_a_stale_heartbeat_are_marked_interrupted(
    session, vk_sandbox, vk_collector
) -> None:
    user = _user(session)
    ids = [str(c["id"]) for c in open_communities(vk_sandbox)[:2]]
    alive_source, dead_source = (_source(session, i, user) for i in ids)
    recently = utcnow() - timedelta(seconds=30)
    long_ago = utcnow() - stale_after() - timedelta(seconds=5)
    alive = CollectionRun(status=RunStatus.RUNNING, started_at=long_ago, heartbeat_at=recently)
    dead = CollectionRun(status=RunStatus.RUNNING, started_at=long_ago, heartbeat_at=long_ago)
    session.add_all([alive, dead])
    session.flush()
    alive_source.claimed_by, alive_source.claimed_until = alive.id, utcnow() + timedelta(hours=1)
    dead_source.claimed_by, dead_source.claimed_until = dead.id, utcnow() + timedelta(hours=1)
    session.add_all([alive_source, dead_source])
    session.commit()
    summary = await collect_sources(
        source_ids=[alive_source.id, dead_source.id],
        collector=vk_collector,
        now=world_now(vk_sandbox),
    )
    session.expire_all()
    assert session.get(CollectionRun, alive.id).status == RunStatus.RUNNING
    assert session.get(CollectionRun, dead.id).status == RunStatus.INTERRUPTED
    # the dead run's claim was freed and collected; the live run's claim was left alone
    assert summary.source_ids == [dead_source.id] and summary.status == RunStatus.OK
    assert session.get(Source, alive_source.id).claimed_by == alive.id
    assert session.get(Source, dead_source.id).claimed_by is None


async def test_a_run_finding_everything_claimed_is_busy_and_changes_nothing(
    session, vk_sandbox, vk_collector
) -> None:
    user = _user(session)
    source = _source(session, str(open_communities(vk_sandbox)[0]["id"]), user)
    other = CollectionRun(status=RunStatus.RUNNING, heartbeat_at=utcnow())
    session.add(other)
    session.flush()
    source.claimed_by, source.claimed_until = other.id, utcnow() + timedelta(minutes=3)
    session.add(source)
    session.commit()
    with pytest.raises(CollectionBusy, match="уже идёт"):
        await collect_sources(
            source_ids=[source.id], collector=vk_collector, now=world_now(vk_sandbox)
        )
    assert vk_sandbox.stats()["http_requests"] == 0
    session.expire_all()
    assert session.exec(select(func.count()).select_from(CollectionRun)).one() == 1
    stored = session.get(Source, source.id)
    assert not stored.stale and stored.last_error == "" and stored.last_attempt_at is None


async def test_post_run_hooks_receive_the_sources_and_days_stored(
    session, vk_sandbox, vk_collector
) -> None:
    user = _user(session)
    source = _source(session, str(open_communities(vk_sandbox)[0]["id"]), user)
    seen: list[RunSummary] = []

    async def hook(summary: RunSummary) -> None:
        seen.append(summary)

    async def broken(summary: RunSummary) -> None:
        raise RuntimeError("a hook's bug must not fail the run")

    register_post_run_hook(broken)
    register_post_run_hook(hook)
    try:
        summary = await collect_sources(
            source_ids=[source.id], collector=vk_collector, now=world_now(vk_sandbox)
        )
    finally:
        unregister_post_run_hook(hook)
        unregister_post_run_hook(broken)
    assert seen == [summary] and summary.status == RunStatus.OK
    assert summary.source_ids == [source.id]
    stored_days = set(session.exec(select(DailyStat.local_date).distinct()).all())
    assert summary.source_days[source.id] == stored_days != set()


def test_worker_batches_are_a_tokens_share_and_shrink_towards_the_end() -> None:
    from socstat.services.collection.worker import MIN_BATCH, batch_size

    assert batch_size(1000, workers=3, largest=200) == 200
    assert batch_size(400, workers=3, largest=200) == 134  # the three finish together
    assert batch_size(60, workers=3, largest=200) == MIN_BATCH  # execute stays full
    assert batch_size(60, workers=1, largest=200) == 60  # one worker: all at once
    assert batch_size(60, workers=1, largest=10) == 10  # SOCSTAT_COLLECT_BATCH_SIZE
