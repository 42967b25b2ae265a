"""Collection service against a scripted collector: persistence, aggregates, journal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from socstat.collectors.base import ContentRecord, CounterReading, SourceResult
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
from socstat.services.authz import PermissionDenied
from socstat.services.collection import (
    collect_due_sources,
    collect_sources,
    due_source_ids,
    persist_result,
)
from tests.services.fake_collector import FakeCollector, community, post

MSK_MIDNIGHT_UTC = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # 2026-03-11 00:00 MSK


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
    status, counts = persist_result(session, source_id=source.id, result=result)
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
    same = persist_result(session, source_id=source.id, result=first)[1]
    session.commit()
    assert (same.new, same.updated) == (0, 0)
    newer = SourceResult("1", community("1"), [post("10", at, likes=7, views=50)])
    assert persist_result(session, source_id=source.id, result=newer)[1].updated == 1
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
    status, _ = persist_result(session, source_id=source.id, result=partial)
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
    status, _ = persist_result(session, source_id=source.id, result=SourceResult("1", closed))
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


async def test_run_journal_since_and_interrupted_runs(session) -> None:
    user = _user(session)
    a = _source(session, "1", user)
    b = _source(session, "2", user)
    c = _source(session, "3", user)
    stale_run = CollectionRun(status=RunStatus.RUNNING)
    session.add(stale_run)
    session.commit()
    now = utcnow()
    collector = FakeCollector(
        results={
            "1": SourceResult("1", community("1"), [post("5", now - timedelta(hours=2), likes=1)]),
            "2": SourceResult("2", community("2"), complete=False, error="Лимит", error_code=29),
        }
    )
    summary = await collect_due_sources(collector=collector)
    assert summary is not None
    assert (summary.sources_ok, summary.sources_partial, summary.sources_failed) == (1, 1, 1)
    assert summary.status == RunStatus.PARTIAL
    assert summary.items_new == 1 and summary.requests == 3
    session.expire_all()
    assert session.get(CollectionRun, stale_run.id).status == RunStatus.INTERRUPTED
    run = session.get(CollectionRun, summary.run_id)
    assert run.status == RunStatus.PARTIAL and run.calls == 6
    per_source = {r.source_id: r.status for r in session.exec(select(CollectionRunSource))}
    assert per_source == {a.id: "ok", b.id: "partial", c.id: "failed"}
    # first collection starts at Moscow midnight backfill_days ago, remembered on the source
    source_a = session.get(Source, a.id)
    request = collector.requests_seen[0]
    assert source_a.history_start == (now + timedelta(hours=3)).date() - timedelta(days=90)
    assert request.since.astimezone(UTC).hour == 21
    # only b and c stay due; the next run asks from the cursor / refresh window
    assert set(due_source_ids(session)) == {b.id, c.id}
    collector.requests_seen.clear()
    again = await collect_sources(source_ids=[a.id], collector=collector, trigger="manual")
    assert again.status == RunStatus.OK and again.items_new == 0
    since = collector.requests_seen[0].since
    assert now - timedelta(days=4) < since <= now - timedelta(hours=2)


async def test_invalid_tokens_notify_admins_once(session) -> None:
    _user(session, "admin@example.com", Role.ADMIN)
    user = _user(session)
    source = _source(session, "1", user)
    collector = FakeCollector(
        results={"1": SourceResult("1", community("1"))}, invalid_tokens=["abcdefgh12345678"]
    )
    summary = await collect_sources(source_ids=[source.id], collector=collector)
    assert "недействительные токены" in summary.error.lower()
    await collect_sources(source_ids=[source.id], collector=collector)
    notes = session.exec(select(Notification)).all()
    assert len(notes) == 1 and "…5678" in notes[0].title


async def test_collect_sources_checks_actor(session) -> None:
    ann = _user(session)
    bob = _user(session, "bob@example.com")
    source = _source(session, "1", ann)
    collector = FakeCollector(results={"1": SourceResult("1", community("1"))})
    with pytest.raises(PermissionDenied):
        await collect_sources(source_ids=[source.id], collector=collector, actor=bob)
    summary = await collect_sources(source_ids=[source.id], collector=collector, actor=ann)
    assert summary.status == RunStatus.OK
    assert session.exec(select(CollectionRun.started_by)).one() == ann.id


async def test_runs_are_marked_interrupted_only_when_no_other_run_is_active(session) -> None:
    from socstat.services.locks import COLLECTION_LOCK_KEY, ProcessLock

    user = _user(session)
    source = _source(session, "1", user)
    other = CollectionRun(status=RunStatus.RUNNING)
    session.add(other)
    session.commit()
    collector = FakeCollector(results={"1": SourceResult("1", community("1"))})
    busy = ProcessLock(key=COLLECTION_LOCK_KEY, name="collection")
    assert busy.acquire()
    try:
        await collect_sources(source_ids=[source.id], collector=collector)
        session.expire_all()
        assert session.get(CollectionRun, other.id).status == RunStatus.RUNNING
    finally:
        busy.release()
    await collect_sources(source_ids=[source.id], collector=collector)
    session.expire_all()
    assert session.get(CollectionRun, other.id).status == RunStatus.INTERRUPTED
