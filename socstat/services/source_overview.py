"""Read-side helpers for the sources pages: who tracks what, history, manual refresh runs.

Additions beside `socstat.services.sources` (which stays the place for adding, listing and
unsubscribing): the facts a list page shows that `SourceRow` does not carry, and the
bookkeeping of "Обновить сейчас" runs. Every function takes the acting user and never
reveals data outside what `visible_source_ids` / `visible_user_ids` allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import Session, select

from socstat.models import (
    CollectionRun,
    CollectionRunSource,
    RunStatus,
    Source,
    Subscription,
    User,
    utcnow,
)
from socstat.services.authz import require_active, visible_user_ids
from socstat.services.collection import Trigger
from socstat.services.collection.journal import stale_after
from socstat.settings import get_settings


@dataclass(frozen=True)
class SourceFacts:
    """What the list shows beside `SourceRow`: history start, last attempt, owners."""

    history_start: date | None
    last_attempt_at: datetime | None
    owners: tuple[str, ...]


def actor_timezone(actor: User) -> ZoneInfo:
    """The user's own time zone, else the system's (settings)."""
    name = (actor.timezone or "").strip()
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return get_settings().tz


def source_facts(session: Session, *, actor: User, source_ids: list[int]) -> dict[int, SourceFacts]:
    """Facts of the given sources (callers pass ids the actor may see).

    `owners` lists the subscribers the actor may know about (their team for a director,
    everyone for an admin, nobody else for an analyst), excluding the actor, by name.
    """
    actor = require_active(actor)
    ids = sorted({i for i in source_ids if isinstance(i, int)})
    if not ids:
        return {}
    visible_users = visible_user_ids(session, actor)
    rows = session.exec(
        select(Source.id, Source.history_start, Source.last_attempt_at).where(Source.id.in_(ids))
    ).all()
    owner_query = (
        select(Subscription.source_id, User.name, User.email)
        .join(User, User.id == Subscription.user_id)
        .where(Subscription.source_id.in_(ids), Subscription.user_id != actor.id)
        .order_by(Subscription.source_id, func.lower(User.email))
    )
    if visible_users is not None:
        others = sorted(u for u in visible_users if u != actor.id)
        owner_query = owner_query.where(Subscription.user_id.in_(others or [-1]))
    owners: dict[int, list[str]] = {}
    for source_id, name, email in session.exec(owner_query).all():
        owners.setdefault(source_id, []).append(name or email)
    return {
        source_id: SourceFacts(
            history_start=history_start,
            last_attempt_at=last_attempt_at,
            owners=tuple(owners.get(source_id, ())),
        )
        for source_id, history_start, last_attempt_at in rows
    }


def own_source_ids(session: Session, *, actor: User) -> list[int]:
    """The sources the actor subscribes to: what "Обновить сейчас" refreshes for anyone,
    admins included (refreshing the whole system is the scheduler's or the CLI's job)."""
    actor = require_active(actor)
    rows = session.exec(
        select(Subscription.source_id)
        .where(Subscription.user_id == actor.id)
        .order_by(Subscription.source_id)
    ).all()
    return list(rows)


@dataclass(frozen=True)
class ManualRunProgress:
    run_id: int
    done: int
    started_at: datetime


def running_manual_run(
    session: Session, *, actor: User, now: datetime | None = None
) -> ManualRunProgress | None:
    """The actor's manual collection run still in progress (its heartbeat is fresh), with
    the number of sources done."""
    actor = require_active(actor)
    now = now or utcnow()
    run = session.exec(
        select(CollectionRun)
        .where(
            CollectionRun.started_by == actor.id,
            CollectionRun.trigger == Trigger.MANUAL,
            CollectionRun.status == RunStatus.RUNNING,
            CollectionRun.heartbeat_at >= now - stale_after(),
        )
        .order_by(CollectionRun.started_at.desc())
    ).first()
    if run is None or run.id is None:
        return None
    done = session.exec(
        select(func.count())
        .select_from(CollectionRunSource)
        .where(CollectionRunSource.run_id == run.id)
    ).one()
    return ManualRunProgress(run_id=run.id, done=int(done or 0), started_at=run.started_at)
