"""Collection runs: ask the collector about due sources, persist results, keep the journal.

Every source's result is persisted in ONE transaction (source info and status, the day's
counter snapshot, content items, and the affected DailyStat rows), so a killed process
loses at most the source in flight and a rerun continues with the sources still due.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Float,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    update,
)
from sqlmodel import Session, select

from socstat.collectors.base import (
    Collector,
    CollectorError,
    CollectRequest,
    ContentRecord,
    CounterReading,
    SourceResult,
)
from socstat.db import session_scope
from socstat.models import (
    ApiToken,
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
    User,
    utcnow,
)
from socstat.services import system_settings
from socstat.services.locks import COLLECTION_LOCK_KEY, ProcessLock
from socstat.services.sources import apply_info, manageable_source_ids
from socstat.settings import Settings, get_settings

log = logging.getLogger(__name__)

INACCESSIBLE = frozenset(
    {
        SourceStatus.CLOSED,
        SourceStatus.PRIVATE,
        SourceStatus.DELETED,
        SourceStatus.BANNED,
        SourceStatus.WALL_DISABLED,
    }
)
_IN_CHUNK = 500
DEMO_TOKEN = "demo-sandbox-token"  # the sandbox accepts any token when none is configured


class Trigger:
    SCHEDULE = "schedule"
    MANUAL = "manual"
    CLI = "cli"


@dataclass
class ItemCounts:
    new: int = 0
    updated: int = 0


@dataclass
class RunSummary:
    """What a run did (returned to callers; also stored as a CollectionRun row)."""

    run_id: int
    status: str
    sources_ok: int = 0
    sources_partial: int = 0
    sources_failed: int = 0
    items_new: int = 0
    items_updated: int = 0
    requests: int = 0
    calls: int = 0
    errors_by_code: dict[str, int] = field(default_factory=dict)
    error: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def duration_seconds(self) -> float:
        if self.started_at is None or self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at).total_seconds()


# --- the collector factory -------------------------------------------------------------


def configured_tokens(
    session: Session | None = None, settings: Settings | None = None
) -> list[str]:
    """VK tokens as "kind:token": SOCSTAT_VK_TOKENS (always) plus valid stored ApiTokens."""
    settings = settings or get_settings()
    tokens = [t.strip() for t in re.split(r"[,;\s]+", settings.vk_tokens) if t.strip()]
    if session is not None:
        tokens.extend(f"{t.kind}:{t.token}" for t in system_settings.active_vk_tokens(session))
    return list(dict.fromkeys(tokens))


def make_collector(
    session: Session | None = None, settings: Settings | None = None, **options: Any
) -> Collector:
    """The VK collector as configured (the built-in sandbox in demo mode).

    `options` go to the VK client (e.g. max_retries, backoff_base) — mainly for tests.
    """
    from socstat.collectors.vk import VKCollector

    settings = settings or get_settings()
    if session is None:
        with session_scope() as own:
            tokens = configured_tokens(own, settings)
    else:
        tokens = configured_tokens(session, settings)
    if not tokens and settings.demo_mode:
        tokens = [DEMO_TOKEN]
    return VKCollector(
        base_url=settings.effective_vk_api_url,
        tokens=",".join(tokens),
        api_version=settings.vk_api_version,
        timeout=settings.vk_timeout_seconds,
        **options,
    )


# --- due sources -----------------------------------------------------------------------


def collect_interval(session: Session) -> timedelta:
    """The collection interval: SystemSetting "collect_interval_hours", else settings."""
    return timedelta(hours=system_settings.collect_interval_hours(session))


def due_source_ids(
    session: Session, *, now: datetime | None = None, interval: timedelta | None = None
) -> list[int]:
    """Tracked sources never collected or collected longer than `interval` ago.

    Oldest first (never-collected first), so a restart does not re-collect everything.
    """
    now = now or utcnow()
    interval = interval if interval is not None else collect_interval(session)
    tracked = select(Subscription.source_id).where(Subscription.source_id == Source.id).exists()
    query = (
        select(Source.id)
        .where(tracked)
        .where(or_(Source.last_collected_at.is_(None), Source.last_collected_at <= now - interval))
        .order_by(Source.last_collected_at.is_not(None), Source.last_collected_at, Source.id)
    )
    return list(session.exec(query).all())


# --- running ---------------------------------------------------------------------------


async def collect_due_sources(
    *, collector: Collector, now: datetime | None = None, trigger: str = Trigger.SCHEDULE
) -> RunSummary | None:
    """Collect every due source (system run, no actor). None when nothing is due."""

    def _due(session: Session) -> list[int]:
        return due_source_ids(session, now=now)

    source_ids = await asyncio.to_thread(_in_session, _due)
    if not source_ids:
        return None
    return await _run(
        source_ids=source_ids, collector=collector, trigger=trigger, actor=None, now=now
    )


async def collect_sources(
    *,
    source_ids: Iterable[int],
    collector: Collector,
    trigger: str = Trigger.MANUAL,
    actor: User | None = None,
    now: datetime | None = None,
) -> RunSummary:
    """Collect the given sources now. With an actor, only sources the actor may manage.

    `now` (default: the current time) fixes the run's clock: windows and "today".
    """
    wanted = list(dict.fromkeys(source_ids))
    if actor is not None:

        def _check(session: Session) -> None:
            allowed = manageable_source_ids(session, actor=actor)
            if allowed is not None and not set(wanted) <= allowed:
                from socstat.services.authz import PermissionDenied

                raise PermissionDenied("Нет доступа к одному из источников.")

        await asyncio.to_thread(_in_session, _check)
    return await _run(source_ids=wanted, collector=collector, trigger=trigger, actor=actor, now=now)


def _in_session(func):  # type: ignore[no-untyped-def]
    with session_scope() as session:
        return func(session)


async def _run(
    *,
    source_ids: list[int],
    collector: Collector,
    trigger: str,
    actor: User | None,
    now: datetime | None,
) -> RunSummary:
    """One journaled run. While it holds the collection lock, runs left "running" are dead."""
    lock = ProcessLock(key=COLLECTION_LOCK_KEY, name="collection")
    alone = await asyncio.to_thread(lock.acquire)
    try:
        return await _run_journaled(
            source_ids=source_ids,
            collector=collector,
            trigger=trigger,
            actor=actor,
            now=now,
            alone=alone,
        )
    finally:
        await asyncio.to_thread(lock.release)


async def _run_journaled(
    *,
    source_ids: list[int],
    collector: Collector,
    trigger: str,
    actor: User | None,
    now: datetime | None,
    alone: bool,
) -> RunSummary:
    settings = get_settings()
    run_id, started_at = await asyncio.to_thread(
        _in_session, lambda s: _start_run(s, trigger=trigger, actor=actor, alone=alone)
    )
    summary = RunSummary(run_id=run_id, status=RunStatus.RUNNING, started_at=started_at)
    usage_before = _usage_snapshot(collector)
    requests: dict[int, CollectRequest] = {}
    seen: set[int] = set()
    try:
        requests = await asyncio.to_thread(
            _in_session,
            lambda s: build_requests(s, source_ids, now=now or utcnow(), settings=settings),
        )
        by_external = {r.external_id: sid for sid, r in requests.items()}
        async for result in collector.collect(list(requests.values())):
            source_id = by_external.get(result.external_id)
            if source_id is None or source_id in seen:
                log.warning("collector returned an unexpected result for %s", result.external_id)
                continue
            seen.add(source_id)
            outcome = await _persist_safely(source_id, result, run_id, settings, now)
            _count(summary, outcome)
    except CollectorError as exc:
        log.warning("collection run %s stopped: %s", run_id, exc)
        summary.error = str(exc)[:2000]
    except Exception as exc:
        log.exception("collection run %s failed", run_id)
        summary.error = f"{type(exc).__name__}: {exc}"[:2000]
    missing = [sid for sid in requests if sid not in seen]
    if missing:
        await asyncio.to_thread(
            _in_session, lambda s: _record_missing(s, source_ids=missing, run_id=run_id)
        )
        summary.sources_failed += len(missing)
    _apply_usage(summary, collector, usage_before)
    invalid = _invalid_tokens(collector)
    if invalid:
        note = f"Недействительные токены VK: {', '.join(p.masked for p in invalid)}"
        summary.error = f"{summary.error}; {note}" if summary.error else note
    summary.status = _final_status(summary)
    summary.finished_at = utcnow()
    await asyncio.to_thread(_in_session, lambda s: _finish_run(s, summary, invalid))
    return summary


async def _persist_safely(
    source_id: int,
    result: SourceResult,
    run_id: int,
    settings: Settings,
    now: datetime | None,
) -> tuple[str, ItemCounts]:
    """Persist one result in its own transaction; a database error fails only this source."""
    try:
        return await asyncio.to_thread(
            _in_session,
            lambda s: persist_result(
                s, source_id=source_id, result=result, run_id=run_id, settings=settings, now=now
            ),
        )
    except Exception as exc:
        log.exception("storing the result of source %s failed", source_id)
        reason = f"Ошибка сохранения: {type(exc).__name__}"
        await asyncio.to_thread(
            _in_session,
            lambda s: _record_missing(s, source_ids=[source_id], run_id=run_id, reason=reason),
        )
        return RunStatus.FAILED, ItemCounts()


def _count(summary: RunSummary, outcome: tuple[str, ItemCounts]) -> None:
    status, counts = outcome
    if status == RunStatus.OK:
        summary.sources_ok += 1
    elif status == RunStatus.PARTIAL:
        summary.sources_partial += 1
    else:
        summary.sources_failed += 1
    summary.items_new += counts.new
    summary.items_updated += counts.updated


def _final_status(summary: RunSummary) -> str:
    if summary.error and not (summary.sources_ok or summary.sources_partial):
        return RunStatus.FAILED
    total = summary.sources_ok + summary.sources_partial + summary.sources_failed
    if total and summary.sources_ok == total and not summary.error:
        return RunStatus.OK
    if total and summary.sources_failed == total:
        return RunStatus.FAILED
    if not total:
        return RunStatus.FAILED if summary.error else RunStatus.OK
    return RunStatus.PARTIAL


# --- journal ---------------------------------------------------------------------------


def mark_interrupted_runs(session: Session) -> int:
    """Runs still "running" belong to a process that died: mark them interrupted."""
    result = session.execute(
        update(CollectionRun)
        .where(CollectionRun.status == RunStatus.RUNNING)
        .values(
            status=RunStatus.INTERRUPTED,
            finished_at=utcnow(),
            error="Сбор прерван: процесс был остановлен.",
        )
    )
    return result.rowcount or 0


def _start_run(
    session: Session, *, trigger: str, actor: User | None, alone: bool
) -> tuple[int, datetime]:
    if alone:
        mark_interrupted_runs(session)
    run = CollectionRun(trigger=trigger[:16], started_by=actor.id if actor else None)
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id, run.started_at


def _finish_run(session: Session, summary: RunSummary, invalid_tokens: list[TokenProblem]) -> None:
    run = session.get(CollectionRun, summary.run_id)
    if run is None:
        return
    run.status = summary.status
    run.finished_at = summary.finished_at
    run.requests = summary.requests
    run.calls = summary.calls
    run.errors_by_code = dict(summary.errors_by_code)
    run.sources_ok = summary.sources_ok
    run.sources_partial = summary.sources_partial
    run.sources_failed = summary.sources_failed
    run.items_new = summary.items_new
    run.items_updated = summary.items_updated
    run.error = summary.error[:2000]
    session.add(run)
    if invalid_tokens:
        report_invalid_tokens(session, invalid_tokens)


def _record_missing(
    session: Session,
    *,
    source_ids: list[int],
    run_id: int,
    reason: str = "Источник не удалось опросить в этом запуске.",
) -> None:
    """Sources without a stored result: stale, still due, failed in this run."""
    for source_id in source_ids:
        source = session.get(Source, source_id)
        if source is None:
            continue
        source.stale = True
        source.last_error = reason
        source.last_attempt_at = utcnow()
        session.add(source)
        session.add(
            CollectionRunSource(
                run_id=run_id, source_id=source_id, status=RunStatus.FAILED, error=reason
            )
        )


def _usage_snapshot(collector: Collector) -> tuple[int, int, dict[str, int]]:
    usage = collector.usage
    return usage.requests, usage.calls, dict(usage.errors_by_code)


def _apply_usage(
    summary: RunSummary, collector: Collector, before: tuple[int, int, dict[str, int]]
) -> None:
    usage = collector.usage
    summary.requests = usage.requests - before[0]
    summary.calls = usage.calls - before[1]
    errors = {}
    for code, count in usage.errors_by_code.items():
        delta = count - before[2].get(code, 0)
        if delta:
            errors[code] = delta
    summary.errors_by_code = errors


# --- invalid tokens --------------------------------------------------------------------


@dataclass(frozen=True)
class TokenProblem:
    """A token the platform refused, as safe to show (masked) plus VK's reason."""

    masked: str
    reason: str = ""


def _invalid_tokens(collector: Collector) -> list[TokenProblem]:
    """The collector's `invalid_tokens` (objects with .masked/.reason, or plain strings)."""
    problems = []
    for token in getattr(collector, "invalid_tokens", None) or ():
        if isinstance(token, str):
            problems.append(TokenProblem(masked=_mask(token)))
            continue
        reason = str(getattr(token, "reason", "") or "")
        code = getattr(token, "code", None)
        if code is not None:
            reason = f"{reason} (код {code})".strip()
        problems.append(TokenProblem(masked=str(getattr(token, "masked", "***")), reason=reason))
    return sorted(set(problems), key=lambda p: p.masked)


def _mask(token: str) -> str:
    from socstat.collectors.vk.limits import mask_token

    return mask_token(token)


def report_invalid_tokens(session: Session, problems: list[TokenProblem]) -> None:
    """Mark stored tokens invalid and tell every admin once (unread notifications dedupe)."""
    _mark_stored_tokens_invalid(session, problems)
    admins = session.exec(
        select(User.id).where(User.role == Role.ADMIN, User.blocked_at.is_(None))
    ).all()
    for problem in problems:
        title = f"Токен VK {problem.masked} недействителен"
        body = (
            f"VK отклонил токен: {problem.reason or 'ошибка авторизации'}. "
            "Сбор продолжается остальными токенами; замените токен в настройках."
        )
        for admin_id in admins:
            exists = session.exec(
                select(Notification.id).where(
                    Notification.user_id == admin_id,
                    Notification.title == title,
                    Notification.read_at.is_(None),
                )
            ).first()
            if exists is None:
                session.add(
                    Notification(user_id=admin_id, title=title, body=body, link="/settings")
                )


def _mark_stored_tokens_invalid(session: Session, problems: list[TokenProblem]) -> None:
    from socstat.crypto import SecretDecryptionError, decrypt_secret

    reasons = {p.masked: p.reason for p in problems}
    rows = session.exec(select(ApiToken).where(ApiToken.invalid_at.is_(None))).all()
    for row in rows:
        try:
            masked = _mask(decrypt_secret(row.token_enc))
        except SecretDecryptionError:
            continue
        if masked in reasons:
            row.invalid_at = utcnow()
            row.invalid_reason = (reasons[masked] or "VK: ошибка авторизации")[:500]
            session.add(row)


# --- requests --------------------------------------------------------------------------


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def build_requests(
    session: Session, source_ids: list[int], *, now: datetime, settings: Settings
) -> dict[int, CollectRequest]:
    """One request per existing source, in the given order.

    First collection: from local midnight `backfill_days` ago (remembered as
    `history_start`); later: from min(cursor, local midnight `refresh_days` ago).
    """
    tz = settings.tz
    requests: dict[int, CollectRequest] = {}
    for chunk in _chunks(source_ids):
        sources = {s.id: s for s in session.exec(select(Source).where(Source.id.in_(chunk)))}
        since_of = {
            source_id: _since(source, now=now, tz=tz, settings=settings)
            for source_id, source in sources.items()
            if source_id is not None
        }
        known = _known_posts(session, since_of)
        for source_id in chunk:
            source = sources.get(source_id)
            if source is None:
                continue
            session.add(source)
            requests[source_id] = CollectRequest(
                external_id=source.external_id,
                since=since_of[source_id],
                known_posts=tuple(known.get(source_id, ())),
            )
    return requests


def _known_posts(session: Session, since_of: dict[int, datetime]) -> dict[int, list[str]]:
    """Stored, not deleted posts of each source published at or after its `since`."""
    if not since_of:
        return {}
    rows = session.execute(
        select(_ITEM.c.source_id, _ITEM.c.external_id, _ITEM.c.published_at).where(
            _ITEM.c.source_id.in_(list(since_of)),
            _ITEM.c.kind == "post",
            _ITEM.c.deleted_at.is_(None),
            _ITEM.c.published_at >= min(since_of.values()),
        )
    )
    known: dict[int, list[str]] = {}
    for source_id, external_id, published_at in rows:
        if published_at >= since_of[source_id]:
            known.setdefault(source_id, []).append(external_id)
    return known


def _since(source: Source, *, now: datetime, tz: ZoneInfo, settings: Settings) -> datetime:
    if source.history_start is None:
        source.history_start = local_date(now, tz) - timedelta(days=settings.backfill_days)
    if source.last_collected_at is None and source.cursor_published_at is None:
        return local_midnight(source.history_start, tz)
    refresh_from = local_midnight(local_date(now, tz) - timedelta(days=settings.refresh_days), tz)
    since = refresh_from
    if source.cursor_published_at is not None:
        since = min(since, source.cursor_published_at)
    return max(since, local_midnight(source.history_start, tz))


def _chunks(values: list[int], size: int = _IN_CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- persisting one result -------------------------------------------------------------


def persist_result(
    session: Session,
    *,
    source_id: int,
    result: SourceResult,
    run_id: int | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> tuple[str, ItemCounts]:
    """Store one source's result (the caller commits: one transaction per source)."""
    settings = settings or get_settings()
    now = now or utcnow()
    tz = settings.tz
    source = session.get(Source, source_id)
    if source is None:
        return RunStatus.FAILED, ItemCounts()
    if result.info is not None:
        apply_info(source, result.info)
        _upsert_snapshot(session, source, result.info.counters, result.info.members_count, now, tz)
    items = _in_history(result.items, source.history_start, tz)
    counts, days = _upsert_items(session, source_id, items, now, tz)
    if result.complete and result.deleted_posts:
        days |= _mark_deleted(session, source_id, result.deleted_posts, now)
    recompute_daily_stats(session, source_id=source_id, days=days, now=now)
    status, error = _source_outcome(source, result)
    _update_source(source, result, items, status=status, error=error, now=now)
    session.add(source)
    if run_id is not None:
        session.add(
            CollectionRunSource(
                run_id=run_id,
                source_id=source_id,
                status=status,
                error=error[:1000],
                items_new=counts.new,
                items_updated=counts.updated,
                finished_at=now,
            )
        )
    return status, counts


def _source_outcome(source: Source, result: SourceResult) -> tuple[str, str]:
    if result.complete:
        reason = source.status_reason if source.status in INACCESSIBLE else ""
        return RunStatus.OK, reason
    error = result.error or "Данные получены не полностью."
    if result.error_code is not None:
        error = f"{error} (код {result.error_code})"
    if result.info is None and not result.items:
        return RunStatus.FAILED, error
    return RunStatus.PARTIAL, error


def _update_source(
    source: Source,
    result: SourceResult,
    items: list[ContentRecord],
    *,
    status: str,
    error: str,
    now: datetime,
) -> None:
    source.last_attempt_at = now
    if status != RunStatus.OK:
        source.stale = True
        source.last_error = error[:1000]
        return
    source.stale = False
    source.last_error = ""
    source.last_collected_at = now
    newest = max((i.published_at for i in items if i.kind == "post"), default=None)
    if newest is not None and (
        source.cursor_published_at is None or newest > source.cursor_published_at
    ):
        source.cursor_published_at = newest


def _in_history(
    items: list[ContentRecord], history_start: date | None, tz: ZoneInfo
) -> list[ContentRecord]:
    """Drop items older than the source's history (e.g. an old pinned post)."""
    if history_start is None:
        return list(items)
    return [i for i in items if local_date(i.published_at, tz) >= history_start]


def _upsert_snapshot(
    session: Session,
    source: Source,
    counters: CounterReading,
    members: int | None,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    day = local_date(now, tz)
    snapshot = session.exec(
        select(CounterSnapshot).where(
            CounterSnapshot.source_id == source.id, CounterSnapshot.local_date == day
        )
    ).first()
    if snapshot is None:
        snapshot = CounterSnapshot(source_id=source.id, local_date=day)
    snapshot.taken_at = now
    values = {
        "members": members if members is not None else counters.members,
        "posts": counters.posts,
        "videos": counters.videos,
        "clips": counters.clips,
        "clips_views": counters.clips_views,
        "clips_likes": counters.clips_likes,
        "clips_followers": counters.clips_followers,
        "photos": counters.photos,
        "articles": counters.articles,
    }
    for name, value in values.items():
        if value is not None:
            setattr(snapshot, name, value)
    session.add(snapshot)


_ENGAGEMENT = ("likes", "reposts", "comments", "views")
_FLAGS = ("is_pinned", "is_ad", "is_repost", "text_preview")
_ITEM = ContentItem.__table__  # type: ignore[attr-defined]


def _upsert_items(
    session: Session,
    source_id: int,
    records: list[ContentRecord],
    now: datetime,
    tz: ZoneInfo,
) -> tuple[ItemCounts, set[tuple[date, str]]]:
    """Insert new items, refresh known ones; returns counts and the (day, kind) touched.

    Plain Core statements (one bulk insert, one executemany update) rather than ORM
    objects: a first collection writes ~100k items and the unit of work was the bottleneck.
    """
    latest: dict[tuple[str, str], ContentRecord] = {}
    for record in records:
        latest[(record.kind, record.external_id[:64])] = record
    existing = _existing_items(session, source_id, list(latest))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    days: set[tuple[date, str]] = set()
    for key, record in latest.items():
        row = existing.get(key)
        if row is None:
            inserts.append(_new_item(source_id, record, now, tz))
            days.add((local_date(record.published_at, tz), record.kind))
            continue
        changes = _item_changes(row, record)
        if changes:
            updates.append({"item_id": row["id"], **changes, "updated_at": now})
        days.add((row["local_date"], row["kind"]))
    if inserts:
        session.execute(insert(_ITEM), inserts)
    for columns, batch in _by_columns(updates).items():
        statement = (
            update(_ITEM)
            .where(_ITEM.c.id == bindparam("item_id"))
            .values({name: bindparam(name) for name in columns})
        )
        session.connection().execute(statement, batch)
    return ItemCounts(new=len(inserts), updated=len(updates)), days


def _mark_deleted(
    session: Session, source_id: int, external_ids: list[str], now: datetime
) -> set[tuple[date, str]]:
    """Flag posts the platform confirmed gone; returns the (day, kind) pairs to rebuild."""
    days: set[tuple[date, str]] = set()
    for start in range(0, len(external_ids), _IN_CHUNK):
        rows = session.execute(
            update(_ITEM)
            .where(
                _ITEM.c.source_id == source_id,
                _ITEM.c.kind == "post",
                _ITEM.c.external_id.in_(external_ids[start : start + _IN_CHUNK]),
                _ITEM.c.deleted_at.is_(None),
            )
            .values(deleted_at=now, updated_at=now)
            .returning(_ITEM.c.local_date)
        )
        days.update((day, "post") for (day,) in rows)
    return days


def _by_columns(updates: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Group update rows by the set of columns they change (one executemany per group)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in updates:
        columns = tuple(sorted(k for k in row if k != "item_id"))
        groups.setdefault(columns, []).append(row)
    return groups


def _existing_items(
    session: Session, source_id: int, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Stored rows for these (kind, external id) keys: one query per chunk of ids, whatever
    the kinds (ids of different kinds never collide: posts are "123", media "-1_123")."""
    wanted = set(keys)
    kinds = sorted({kind for kind, _external_id in keys})
    ids = sorted({external_id for _kind, external_id in keys})
    columns = [_ITEM.c[name] for name in ("id", "kind", "external_id", "local_date")]
    columns += [_ITEM.c[name] for name in (*_ENGAGEMENT, *_FLAGS, "deleted_at")]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        rows = session.execute(
            select(*columns).where(
                _ITEM.c.source_id == source_id,
                _ITEM.c.kind.in_(kinds),
                _ITEM.c.external_id.in_(ids[start : start + _IN_CHUNK]),
            )
        ).mappings()
        for row in rows:
            key = (row["kind"], row["external_id"])
            if key in wanted:
                found[key] = dict(row)
    return found


def _new_item(source_id: int, record: ContentRecord, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "kind": record.kind,
        "external_id": record.external_id[:64],
        "published_at": record.published_at,
        "local_date": local_date(record.published_at, tz),
        "likes": record.likes,
        "reposts": record.reposts,
        "comments": record.comments,
        "views": record.views,
        "is_pinned": record.is_pinned,
        "is_ad": record.is_ad,
        "is_repost": record.is_repost,
        "text_preview": record.text_preview[:300],
        "collected_at": now,
        "updated_at": now,
    }


def _item_changes(row: dict[str, Any], record: ContentRecord) -> dict[str, Any]:
    """Newer readings overwrite; a figure not given this time keeps the old value."""
    changes: dict[str, Any] = {}
    for name in _ENGAGEMENT:
        value = getattr(record, name)
        if value is not None and value != row[name]:
            changes[name] = value
    flags = {
        "is_pinned": record.is_pinned,
        "is_ad": record.is_ad,
        "is_repost": record.is_repost,
        "text_preview": record.text_preview[:300],
    }
    for name, value in flags.items():
        if row[name] != value:
            changes[name] = value
    if row["deleted_at"] is not None:  # seen again: it was restored on the platform
        changes["deleted_at"] = None
    return changes


def recompute_daily_stats(
    session: Session, *, source_id: int, days: set[tuple[date, str]], now: datetime | None = None
) -> None:
    """Rebuild the DailyStat rows of the touched local days from ContentItem (GROUP BY).

    Every kind of a touched day is rebuilt (two statements per chunk of days, not two per
    kind): a rebuild from the items is idempotent, so the extra pairs cost nothing wrong."""
    if not days:
        return
    now = now or utcnow()
    session.flush()
    dates = sorted({day for day, _kind in days})
    kinds = sorted({kind for _day, kind in days})
    for start in range(0, len(dates), _IN_CHUNK):
        _rebuild(session, source_id, kinds, dates[start : start + _IN_CHUNK], now)


def _rebuild(
    session: Session, source_id: int, kinds: list[str], dates: list[date], now: datetime
) -> None:
    stat = DailyStat.__table__  # type: ignore[attr-defined]
    item = ContentItem.__table__  # type: ignore[attr-defined]
    session.execute(
        delete(stat).where(
            and_(
                stat.c.source_id == source_id,
                stat.c.kind.in_(kinds),
                stat.c.local_date.in_(dates),
            )
        )
    )
    er_view = case(
        (
            and_(
                item.c.likes.is_not(None),
                item.c.reposts.is_not(None),
                item.c.comments.is_not(None),
                item.c.views > 0,
            ),
            cast(item.c.likes + item.c.reposts + item.c.comments, Float) / item.c.views,
        )
    )
    grouped = (
        select(
            item.c.source_id,
            item.c.local_date,
            item.c.kind,
            func.count(),
            func.sum(item.c.likes),
            func.sum(item.c.reposts),
            func.sum(item.c.comments),
            func.sum(item.c.views),
            func.count() - func.count(item.c.likes),
            func.count() - func.count(item.c.reposts),
            func.count() - func.count(item.c.comments),
            func.count() - func.count(item.c.views),
            func.sum(er_view),
            func.count(er_view),
            literal(now, DailyStat.__table__.c.updated_at.type),  # type: ignore[attr-defined]
        )
        .where(
            item.c.source_id == source_id,
            item.c.kind.in_(kinds),
            item.c.local_date.in_(dates),
            item.c.deleted_at.is_(None),
        )
        .group_by(item.c.source_id, item.c.local_date, item.c.kind)
    )
    columns = [
        "source_id",
        "local_date",
        "kind",
        "count",
        "likes",
        "reposts",
        "comments",
        "views",
        "likes_unknown",
        "reposts_unknown",
        "comments_unknown",
        "views_unknown",
        "er_view_sum",
        "er_view_items",
        "updated_at",
    ]
    session.execute(insert(stat).from_select(columns, grouped))
