"""The run journal: CollectionRun rows (start, heartbeat, finish), per-source outcomes,
and noticing runs whose process died (their heartbeat stopped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, select

from socstat.models import CollectionRun, CollectionRunSource, RunStatus, Source, User, utcnow
from socstat.services.processes import process_name
from socstat.settings import get_settings

# A live run writes its heartbeat every HEARTBEAT_SECONDS (more often with a lease shorter
# than 9 beats); one silent for the claim lease (SOCSTAT_COLLECT_LEASE_SECONDS) died.
HEARTBEAT_SECONDS = 20.0


def stale_after() -> timedelta:
    """A run whose heartbeat is older than this belongs to a dead process."""
    return get_settings().collect_lease


def heartbeat_seconds() -> float:
    return min(HEARTBEAT_SECONDS, get_settings().collect_lease_seconds / 9)


class Trigger:
    SCHEDULE = "schedule"
    MANUAL = "manual"
    CLI = "cli"


@dataclass
class RunSummary:
    """What a run did: returned to callers, stored as a CollectionRun row, and handed to
    the post-run hooks. `source_days`: every source stored in this run → the installation's
    local days whose figures it touched (empty set: nothing changed)."""

    run_id: int
    status: str
    trigger: str = Trigger.SCHEDULE
    sources_ok: int = 0
    sources_partial: int = 0
    sources_failed: int = 0
    items_new: int = 0
    items_updated: int = 0
    requests: int = 0
    calls: int = 0
    errors_by_code: dict[str, int] = field(default_factory=dict)
    # (token fingerprint, method, code) → count: the run's share of ApiUsage
    api_usage: dict[tuple[str, str, str], int] = field(default_factory=dict)
    error: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    source_days: dict[int, frozenset[date]] = field(default_factory=dict)

    @property
    def source_ids(self) -> list[int]:
        """The sources whose results this run stored, in id order."""
        return sorted(self.source_days)

    @property
    def duration_seconds(self) -> float:
        if self.started_at is None or self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at).total_seconds()


def mark_interrupted_runs(session: Session, *, now: datetime | None = None) -> int:
    """Runs "running" without a heartbeat for `stale_after()` belong to a dead process:
    mark them interrupted and free their claims at once. Returns how many were marked."""
    now = now or utcnow()
    limit = now - stale_after()
    dead = session.exec(
        select(CollectionRun.id).where(
            CollectionRun.status == RunStatus.RUNNING,
            ((CollectionRun.heartbeat_at.is_(None)) & (CollectionRun.started_at < limit))
            | (CollectionRun.heartbeat_at < limit),
        )
    ).all()
    if dead:
        interrupt_runs(session, list(dead), now=now)
    return len(dead)


def live_runs(session: Session, *, now: datetime | None = None) -> int:
    """How many runs are collecting now (running, heartbeat fresh): every one of them is
    a worker holding a token, which is how a worker tells how many share the due sources."""
    limit = (now or utcnow()) - stale_after()
    query = select(func.count()).select_from(CollectionRun)
    return session.exec(
        query.where(CollectionRun.status == RunStatus.RUNNING, CollectionRun.heartbeat_at >= limit)
    ).one()


def interrupt_runs(session: Session, run_ids: list[int], *, now: datetime | None = None) -> None:
    """Mark runs interrupted (their process died or stopped) and free their claims."""
    session.execute(
        update(CollectionRun)
        .where(CollectionRun.id.in_(run_ids), CollectionRun.status == RunStatus.RUNNING)
        .values(
            status=RunStatus.INTERRUPTED,
            finished_at=now or utcnow(),
            error="Сбор прерван: процесс был остановлен.",
        )
    )
    session.execute(
        update(Source)
        .where(Source.claimed_by.in_(run_ids))
        .values(claimed_by=None, claimed_until=None)
    )


def start_run(session: Session, *, trigger: str, actor: User | None) -> tuple[int, datetime]:
    run = CollectionRun(
        trigger=trigger[:16],
        started_by=actor.id if actor else None,
        heartbeat_at=utcnow(),
        process=process_name(),
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id, run.started_at


def beat(session: Session, *, run_id: int) -> None:
    session.execute(
        update(CollectionRun).where(CollectionRun.id == run_id).values(heartbeat_at=utcnow())
    )


def finish_run(session: Session, summary: RunSummary) -> None:
    run = session.get(CollectionRun, summary.run_id)
    if run is None:
        return
    run.status = summary.status
    run.finished_at = summary.finished_at
    run.heartbeat_at = summary.finished_at
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


def record_missing(
    session: Session,
    *,
    source_ids: list[int],
    run_id: int,
    reason: str = "Источник не удалось опросить в этом запуске.",
) -> None:
    """Sources this run claimed but stored no result for: stale, still due, failed here."""
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


def final_status(summary: RunSummary) -> str:
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
