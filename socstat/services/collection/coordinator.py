"""The collection coordinator: one run from claim to journal, then the post-run hooks.

In the spirit of Home Assistant's DataUpdateCoordinator, one object owns everything around
the collector: exclusivity (SQLite: the process lock; PostgreSQL: the collector's tokens
leased to this run and the sources claimed with a lease), the journal with its heartbeat,
progress (one CollectionRunSource row per stored source), the tokens the platform refused,
and the hooks that run after each run (alerts register one with `register_post_run_hook`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from sqlmodel import Session

from socstat.collectors.base import (
    Collector,
    CollectorError,
    CollectRequest,
    SourceResult,
    UsageStats,
)
from socstat.db import get_engine, run_in_session
from socstat.logging_setup import log_context
from socstat.models import RunStatus, User, utcnow
from socstat.services.authz import PermissionDenied
from socstat.services.collection import due, journal, persistence, tokens
from socstat.services.collection import usage as api_usage
from socstat.services.collection.journal import RunSummary, Trigger
from socstat.services.locks import COLLECTION_LOCK_KEY, ProcessLock
from socstat.services.sources import manageable_source_ids
from socstat.settings import Settings, get_settings

log = logging.getLogger(__name__)

PostRunHook = Callable[[RunSummary], Awaitable[None]]
_post_run_hooks: list[PostRunHook] = []


class CollectionBusy(RuntimeError):
    """Another run is collecting these sources (or holds the tokens); nothing was done."""


def register_post_run_hook(hook: PostRunHook) -> PostRunHook:
    """Run `await hook(summary)` after every finished run (usable as a decorator).

    A hook sees the stored outcome (`summary.source_days`: source → local days touched);
    its errors are logged and never change the run.
    """
    if hook not in _post_run_hooks:
        _post_run_hooks.append(hook)
    return hook


def unregister_post_run_hook(hook: PostRunHook) -> None:
    with contextlib.suppress(ValueError):
        _post_run_hooks.remove(hook)


class CollectionCoordinator:
    """Runs collections with one collector (the caller closes the collector)."""

    def __init__(
        self,
        collector: Collector,
        *,
        settings: Settings | None = None,
        heartbeat_seconds: float | None = None,
    ) -> None:
        self.collector = collector
        self.settings = settings or get_settings()
        self.heartbeat_seconds = heartbeat_seconds or journal.heartbeat_seconds()
        self._held = False

    async def collect_due(
        self, *, trigger: str = Trigger.SCHEDULE, now: datetime | None = None
    ) -> RunSummary | None:
        """Collect every due source (system run). None when nothing is due."""
        source_ids = await run_in_session(lambda s: due.due_source_ids(s, now=now))
        if not source_ids:
            return None
        return await self.collect(source_ids=source_ids, trigger=trigger, now=now)

    async def collect(
        self,
        *,
        source_ids: Iterable[int],
        trigger: str = Trigger.MANUAL,
        actor: User | None = None,
        now: datetime | None = None,
    ) -> RunSummary:
        """Collect the given sources now; with an actor, only sources the actor may manage.

        `now` (default: the current time) fixes the run's clock: windows and "today".
        Raises CollectionBusy when another run holds every one of them (or the tokens).
        """
        wanted = list(dict.fromkeys(source_ids))
        if actor is not None:
            await run_in_session(lambda s: _check_actor(s, actor, wanted))
        async with self.exclusive():
            summary = await self._collect_claimed(
                lambda s: _claim(s, trigger=trigger, actor=actor, source_ids=wanted),
                trigger=trigger,
                now=now,
            )
        assert summary is not None
        await _run_hooks(summary)
        return summary

    async def collect_next_batch(
        self, *, size: int, trigger: str = Trigger.SCHEDULE
    ) -> RunSummary | None:
        """One run over up to `size` due sources nobody else holds (a worker's batch; the
        caller holds `exclusive()`). None when there was nothing to claim."""
        summary = await self._collect_claimed(
            lambda s: _claim_batch(s, trigger=trigger, size=size), trigger=trigger, now=None
        )
        if summary is not None:
            await _run_hooks(summary)
        return summary

    async def _collect_claimed(
        self,
        claim: Callable[[Session], tuple[int, datetime, list[int]] | None],
        *,
        trigger: str,
        now: datetime | None,
    ) -> RunSummary | None:
        """Open a run and claim its sources with `claim`, collect them with a heartbeat.
        Cancelled (the process stops): the run is marked interrupted and its claims freed."""
        await run_in_session(journal.mark_interrupted_runs)
        opened = await run_in_session(claim)
        if opened is None:
            return None
        run_id, started_at, claimed = opened
        summary = RunSummary(
            run_id=run_id, status=RunStatus.RUNNING, trigger=trigger, started_at=started_at
        )
        heartbeat = asyncio.create_task(self._heartbeat(run_id))
        try:
            with log_context(run_id=summary.run_id):
                await self._run(summary, claimed, now)
        except asyncio.CancelledError:
            await asyncio.shield(run_in_session(lambda s: journal.interrupt_runs(s, [run_id])))
            raise
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        return summary

    @contextlib.asynccontextmanager
    async def exclusive(self):  # type: ignore[no-untyped-def]
        """Hold the right to collect with this collector for one run or several (reentrant).
        SQLite: the process lock; PostgreSQL: this collector's tokens leased to us.
        Raises CollectionBusy when another process holds them."""
        if self._held:
            yield
            return
        if get_engine().dialect.name == "postgresql":
            lease: ProcessLock | tokens.TokenLeases = tokens.TokenLeases(
                self.collector.token_fingerprints
            )
        else:
            lease = ProcessLock(settings=self.settings, key=COLLECTION_LOCK_KEY, name="collection")
        if not await asyncio.to_thread(lease.acquire):
            raise CollectionBusy("Сбор уже идёт в другом процессе (он занял токены VK).")
        self._held = True
        try:
            yield
        finally:
            self._held = False
            await asyncio.to_thread(lease.release)

    async def _heartbeat(self, run_id: int) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await run_in_session(lambda s: _beat(s, run_id))
            except Exception:
                log.exception("collection run %s: heartbeat failed", run_id)

    async def _run(self, summary: RunSummary, claimed: list[int], now: datetime | None) -> None:
        run_id = summary.run_id
        usage_before = _usage_snapshot(self.collector)
        requests: dict[int, CollectRequest] = {}
        try:
            requests = await run_in_session(
                lambda s: persistence.build_requests(
                    s, claimed, now=now or utcnow(), settings=self.settings
                )
            )
            by_external = {r.external_id: sid for sid, r in requests.items()}
            async for result in self.collector.collect(list(requests.values())):
                source_id = by_external.get(result.external_id)
                if source_id is None or source_id in summary.source_days:
                    log.warning("collector returned an unexpected result for %s", result)
                    continue
                await self._store(summary, source_id, result, now)
        except CollectorError as exc:
            log.warning("collection run %s stopped: %s", run_id, exc)
            summary.error = str(exc)[:2000]
        except Exception as exc:
            log.exception("collection run %s failed", run_id)
            summary.error = f"{type(exc).__name__}: {exc}"[:2000]
        missing = [sid for sid in claimed if sid not in summary.source_days]
        summary.sources_failed += len(missing)
        _apply_usage(summary, self.collector, usage_before)
        invalid = sorted(set(self.collector.invalid_tokens), key=lambda p: p.masked)
        if invalid:
            note = f"Недействительные токены VK: {', '.join(p.masked for p in invalid)}"
            summary.error = f"{summary.error}; {note}" if summary.error else note
        summary.status = journal.final_status(summary)
        summary.finished_at = utcnow()

        platform = self.collector.platform
        day = await asyncio.to_thread(api_usage.quota_day, platform)

        def _finish(session: Session) -> None:
            if missing:
                journal.record_missing(session, source_ids=missing, run_id=run_id)
            due.release_claims(session, run_id=run_id)
            api_usage.record_usage(
                session,
                platform=platform,
                day=day,
                counts=summary.api_usage,
                masks=self.collector.usage.token_masks,
            )
            journal.finish_run(session, summary)
            if invalid:
                tokens.report_invalid_tokens(session, invalid)

        await run_in_session(_finish)

    async def _store(
        self, summary: RunSummary, source_id: int, result: SourceResult, now: datetime | None
    ) -> None:
        """Persist one result and free its claim in one transaction; a database error fails
        only this source."""
        run_id = summary.run_id

        def _persist(session: Session) -> persistence.Persisted:
            stored = persistence.persist_result(
                session,
                source_id=source_id,
                result=result,
                run_id=run_id,
                settings=self.settings,
                now=now,
            )
            due.release_claims(session, run_id=run_id, source_ids=[source_id])
            return stored

        try:
            stored = await run_in_session(_persist)
        except Exception as exc:
            log.exception("storing the result of source %s failed", source_id)
            reason = f"Ошибка сохранения: {type(exc).__name__}"
            await run_in_session(
                lambda s: journal.record_missing(
                    s, source_ids=[source_id], run_id=run_id, reason=reason
                )
            )
            summary.sources_failed += 1
            return
        if stored.status == RunStatus.OK:
            summary.sources_ok += 1
        elif stored.status == RunStatus.PARTIAL:
            summary.sources_partial += 1
        else:
            summary.sources_failed += 1
        summary.items_new += stored.counts.new
        summary.items_updated += stored.counts.updated
        summary.source_days[source_id] = stored.days


def _check_actor(session: Session, actor: User, wanted: list[int]) -> None:
    allowed = manageable_source_ids(session, actor=actor)
    if allowed is not None and not set(wanted) <= allowed:
        raise PermissionDenied("Нет доступа к одному из источников.")


def _claim(
    session: Session, *, trigger: str, actor: User | None, source_ids: list[int]
) -> tuple[int, datetime, list[int]]:
    """Open the journal row and claim the sources in one transaction: when nothing could be
    claimed, nothing of it is kept."""
    run_id, started_at = journal.start_run(session, trigger=trigger, actor=actor)
    claimed = due.claim_sources(session, run_id=run_id, source_ids=source_ids)
    if source_ids and not claimed:
        session.rollback()
        raise CollectionBusy("Сбор уже идёт: эти источники собирает другой запуск.")
    return run_id, started_at, claimed


def _claim_batch(
    session: Session, *, trigger: str, size: int
) -> tuple[int, datetime, list[int]] | None:
    """Open the journal row and claim a batch of due sources in one transaction (nothing of
    it is kept when nothing was claimable)."""
    run_id, started_at = journal.start_run(session, trigger=trigger, actor=None)
    claimed = due.claim_due_batch(session, run_id=run_id, limit=size)
    if not claimed:
        session.rollback()
        return None
    return run_id, started_at, claimed


def _beat(session: Session, run_id: int) -> None:
    journal.beat(session, run_id=run_id)
    due.extend_claims(session, run_id=run_id)


async def _run_hooks(summary: RunSummary) -> None:
    for hook in list(_post_run_hooks):
        try:
            await hook(summary)
        except Exception:
            log.exception("post-run hook %r failed for run %s", hook, summary.run_id)


def _usage_snapshot(collector: Collector) -> UsageStats:
    usage = collector.usage
    return UsageStats(
        usage.requests, usage.calls, dict(usage.errors_by_code), dict(usage.by_method)
    )


def _apply_usage(summary: RunSummary, collector: Collector, before: UsageStats) -> None:
    usage = collector.usage
    summary.requests = usage.requests - before.requests
    summary.calls = usage.calls - before.calls
    summary.errors_by_code = {
        code: count - before.errors_by_code.get(code, 0)
        for code, count in usage.errors_by_code.items()
        if count - before.errors_by_code.get(code, 0)
    }
    summary.api_usage = api_usage.usage_delta(usage.by_method, before.by_method)


async def collect_due_sources(
    *, collector: Collector, now: datetime | None = None, trigger: str = Trigger.SCHEDULE
) -> RunSummary | None:
    """Collect every due source with `collector` (see CollectionCoordinator.collect_due)."""
    return await CollectionCoordinator(collector).collect_due(trigger=trigger, now=now)


async def collect_sources(
    *,
    source_ids: Iterable[int],
    collector: Collector,
    trigger: str = Trigger.MANUAL,
    actor: User | None = None,
    now: datetime | None = None,
) -> RunSummary:
    """Collect the given sources with `collector` (see CollectionCoordinator.collect)."""
    return await CollectionCoordinator(collector).collect(
        source_ids=source_ids, trigger=trigger, actor=actor, now=now
    )
