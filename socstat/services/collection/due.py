"""Which sources to collect, and claiming them for one run.

A claim is `Source.claimed_by` (the run id) with a lease (`claimed_until`) that the run's
heartbeat extends. PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so two runs starting
together split the sources instead of waiting on each other; SQLite runs one collection
at a time anyway (the coordinator's process lock), where the claim is bookkeeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from socstat.models import Source, Subscription, utcnow
from socstat.services import system_settings

LEASE = timedelta(minutes=3)


def collect_interval(session: Session) -> timedelta:
    """The collection interval: SystemSetting "collect_interval_hours", else settings."""
    return timedelta(hours=system_settings.collect_interval_hours(session))


def _tracked():  # type: ignore[no-untyped-def]
    return select(Subscription.source_id).where(Subscription.source_id == Source.id).exists()


def _oldest_first():  # type: ignore[no-untyped-def]
    return (Source.last_collected_at.is_not(None), Source.last_collected_at, Source.id)


def due_source_ids(
    session: Session, *, now: datetime | None = None, interval: timedelta | None = None
) -> list[int]:
    """Tracked sources never collected or collected longer than `interval` ago.

    Oldest first (never-collected first), so a restart does not re-collect everything.
    """
    now = now or utcnow()
    interval = interval if interval is not None else collect_interval(session)
    query = (
        select(Source.id)
        .where(_tracked())
        .where(or_(Source.last_collected_at.is_(None), Source.last_collected_at <= now - interval))
        .order_by(*_oldest_first())
    )
    return list(session.exec(query).all())


def tracked_source_ids(session: Session) -> list[int]:
    """Every source somebody tracks (`collect --all`), oldest collection first."""
    return list(session.exec(select(Source.id).where(_tracked()).order_by(*_oldest_first())))


def claim_sources(
    session: Session, *, run_id: int, source_ids: list[int], lease: timedelta = LEASE
) -> list[int]:
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
            .values(claimed_by=run_id, claimed_until=now + lease)
        )
    return [source_id for source_id in source_ids if source_id in claimed]


def extend_claims(session: Session, *, run_id: int, lease: timedelta = LEASE) -> None:
    session.execute(
        update(Source).where(Source.claimed_by == run_id).values(claimed_until=utcnow() + lease)
    )


def release_claims(session: Session, *, run_id: int, source_ids: list[int] | None = None) -> None:
    """Free this run's claims (all of them, or only `source_ids`)."""
    query = update(Source).where(Source.claimed_by == run_id)
    if source_ids is not None:
        query = query.where(Source.id.in_(source_ids))
    session.execute(query.values(claimed_by=None, claimed_until=None))
