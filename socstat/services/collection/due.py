"""Which sources to collect, and claiming them for one run.

A claim is `Source.claimed_by` (the run id) with a lease (`claimed_until`, the setting
SOCSTAT_COLLECT_LEASE_SECONDS) that the run's heartbeat extends. PostgreSQL claims with
`FOR UPDATE SKIP LOCKED`, so runs starting together — in one process or in several
workers — split the sources instead of waiting on each other; SQLite runs one collection
at a time anyway (the coordinator's process lock), where the claim is bookkeeping.
Workers claim due sources in batches (`claim_due_batch`); a source whose attempt failed
waits RETRY_AFTER (at most the collection interval) before it is claimed again.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, update
from sqlmodel import Session, select

from socstat.models import Source, Subscription, utcnow
from socstat.services import system_settings
from socstat.settings import get_settings

RETRY_AFTER = timedelta(hours=1)


def lease() -> timedelta:
    """How long a claim lasts without its run's heartbeat (SOCSTAT_COLLECT_LEASE_SECONDS)."""
    return get_settings().collect_lease


def collect_interval(session: Session) -> timedelta:
    """The collection interval: SystemSetting "collect_interval_hours", else settings."""
    return timedelta(hours=system_settings.collect_interval_hours(session))


def _tracked():  # type: ignore[no-untyped-def]
    return select(Subscription.source_id).where(Subscription.source_id == Source.id).exists()


def _oldest_first():  # type: ignore[no-untyped-def]
    return (Source.last_collected_at.is_not(None), Source.last_collected_at, Source.id)


def _due(now: datetime, interval: timedelta):  # type: ignore[no-untyped-def]
    return or_(Source.last_collected_at.is_(None), Source.last_collected_at <= now - interval)


def due_source_ids(
    session: Session, *, now: datetime | None = None, interval: timedelta | None = None
) -> list[int]:
    """Tracked sources never collected or collected longer than `interval` ago.

    Oldest first (never-collected first), so a restart does not re-collect everything.
    """
    now = now or utcnow()
    interval = interval if interval is not None else collect_interval(session)
    query = select(Source.id).where(_tracked(), _due(now, interval)).order_by(*_oldest_first())
    return list(session.exec(query).all())


def _claimable(now: datetime, interval: timedelta):  # type: ignore[no-untyped-def]
    """Due, not claimed by a live run, and not attempted in vain within RETRY_AFTER."""
    retry_after = min(interval, RETRY_AFTER)
    return (
        _tracked(),
        _due(now, interval),
        or_(Source.claimed_until.is_(None), Source.claimed_until < now),
        or_(Source.last_attempt_at.is_(None), Source.last_attempt_at <= now - retry_after),
    )


def claimable_count(session: Session, *, now: datetime | None = None) -> int:
    """How many sources a worker could claim now (see `claim_due_batch`)."""
    now = now or utcnow()
    query = select(func.count()).select_from(Source)
    return session.exec(query.where(*_claimable(now, collect_interval(session)))).one()


def claim_due_batch(
    session: Session, *, run_id: int, limit: int, now: datetime | None = None
) -> list[int]:
    """Claim up to `limit` claimable sources for `run_id`, oldest first. Rows another
    worker is claiming right now are skipped, not awaited; the due test is made under the
    row lock, so a source another worker has just collected is not claimed again."""
    now = now or utcnow()
    ids = list(
        session.exec(
            select(Source.id)
            .where(*_claimable(now, collect_interval(session)))
            .order_by(*_oldest_first())
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )
    if ids:
        session.execute(
            update(Source)
            .where(Source.id.in_(ids))
            .values(claimed_by=run_id, claimed_until=now + lease())
        )
    return ids


def tracked_source_ids(session: Session) -> list[int]:
    """Every source somebody tracks (`collect --all`), oldest collection first."""
    return list(session.exec(select(Source.id).where(_tracked()).order_by(*_oldest_first())))


def claim_sources(session: Session, *, run_id: int, source_ids: list[int]) -> list[int]:
    """Claim those of `source_ids` nobody holds a live claim on; returns them in the
    given order. Rows another transaction is claiming right now are skipped, not awaited."""
    if not source_ids:
        return []
    now = utcnow()
    free = session.exec(
        select(Source.id)
        .where(
            Source.id.in_(source_ids),
            or_(Source.claimed_until.is_(None), Source.claimed_until < now),
        )
        .with_for_update(skip_locked=True)
    ).all()
    claimed = set(free)
    if claimed:
        session.execute(
            update(Source)
            .where(Source.id.in_(claimed))
            .values(claimed_by=run_id, claimed_until=now + lease())
        )
    return [source_id for source_id in source_ids if source_id in claimed]


def extend_claims(session: Session, *, run_id: int) -> None:
    session.execute(
        update(Source).where(Source.claimed_by == run_id).values(claimed_until=utcnow() + lease())
    )


def release_claims(session: Session, *, run_id: int, source_ids: list[int] | None = None) -> None:
    """Free this run's claims (all of them, or only `source_ids`)."""
    if source_ids is None:
        session.execute(_release(some=False), {"run_id": run_id})
    elif source_ids:
        session.execute(_release(some=True), {"run_id": run_id, "ids": source_ids})


@functools.cache
def _release(*, some: bool):  # type: ignore[no-untyped-def]
    """The claim release, built once (it runs after every stored source): a Core statement
    on the table, without the ORM's bulk-update bookkeeping (autoflush, synchronisation)."""
    source = Source.__table__  # type: ignore[attr-defined]
    query = update(source).where(source.c.claimed_by == bindparam("run_id"))
    if some:
        query = query.where(source.c.id.in_(bindparam("ids", expanding=True)))
    return query.values(claimed_by=None, claimed_until=None)
