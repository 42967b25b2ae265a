"""The first collection of newly added sources: run right after adding (from a background
task of the caller, never inside a request), so a new card fills with numbers without
anyone pressing «Обновить сейчас».

It goes through the collection coordinator like every run (claims, journal, hooks) with
the trigger "first". When another run holds the platform's tokens (or the SQLite process
lock) it waits and tries again a few times; sources another run has claimed are left to
that run; whatever is still uncollected in the end is due for the scheduler's next run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlmodel import Session, select

from socstat.db import run_in_session
from socstat.models import Source, User, utcnow
from socstat.services.authz import require_active
from socstat.services.collection import CollectionBusy, RunSummary, collect_sources, make_collector
from socstat.services.sources.access import manageable_source_ids
from socstat.services.sources.subscribe import AddOutcome, AddResult

log = logging.getLogger(__name__)

FIRST_COLLECTION = "first"  # CollectionRun.trigger of these runs
ATTEMPTS = 12
RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class FirstCollection:
    """What became of the first collection: the run (None when nothing ran: nothing left
    to collect, or every try found collection busy) and the sources still uncollected."""

    summary: RunSummary | None
    waiting: tuple[int, ...]


def needing_first_collection(results: Iterable[AddResult]) -> list[int]:
    """The sources of `subscribe` results that have never been collected."""
    ids = (
        r.source_id
        for r in results
        if r.outcome != AddOutcome.ERROR and r.uncollected and r.source_id is not None
    )
    return list(dict.fromkeys(ids))


def _left_to_collect(session: Session, *, actor: User, ids: list[int]) -> list[int]:
    """Of the given sources: those the actor may manage, never collected, claimed by no
    live run."""
    actor = require_active(actor)
    allowed = manageable_source_ids(session, actor=actor)
    wanted = [i for i in ids if allowed is None or i in allowed]
    if not wanted:
        return []
    now = utcnow()
    rows = session.exec(select(Source).where(Source.id.in_(wanted))).all()
    return sorted(
        s.id
        for s in rows
        if s.id is not None
        and s.last_collected_at is None
        and (s.claimed_until is None or s.claimed_until <= now)
    )


async def collect_first(
    *,
    actor: User,
    source_ids: Iterable[int],
    attempts: int = ATTEMPTS,
    retry_seconds: float = RETRY_SECONDS,
    now: datetime | None = None,
) -> FirstCollection:
    """Collect the actor's never-collected sources among `source_ids` now (their backfill).

    Only sources the actor may manage are collected (the coordinator checks it again);
    ``now`` fixes the run's clock (default: the current time)."""
    wanted = list(dict.fromkeys(source_ids))
    left = await run_in_session(partial(_left_to_collect, actor=actor, ids=wanted))
    if not left:
        return FirstCollection(None, ())
    collector = await asyncio.to_thread(make_collector)
    try:
        for attempt in range(1, attempts + 1):
            try:
                summary = await collect_sources(
                    source_ids=left,
                    collector=collector,
                    trigger=FIRST_COLLECTION,
                    actor=actor,
                    now=now,
                )
            except CollectionBusy as exc:
                log.info("first collection of %s waits (%s/%s): %s", left, attempt, attempts, exc)
                await asyncio.sleep(retry_seconds)
                left = await run_in_session(partial(_left_to_collect, actor=actor, ids=left))
                if not left:
                    return FirstCollection(None, ())
                continue
            waiting = await run_in_session(partial(_left_to_collect, actor=actor, ids=left))
            return FirstCollection(summary, tuple(waiting))
    finally:
        await collector.aclose()
    return FirstCollection(None, tuple(left))
