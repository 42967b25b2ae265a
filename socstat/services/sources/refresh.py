"""«Обновить сейчас»: the bookkeeping of a user's manual collection runs (is one of theirs
still running, and how far it got). The collection itself is the coordinator's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from socstat.models import CollectionRun, CollectionRunSource, RunStatus, User, utcnow
from socstat.services.authz import require_active
from socstat.services.collection.journal import Trigger, stale_after


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
