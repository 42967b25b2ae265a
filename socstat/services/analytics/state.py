"""The collection state of a scope's sources: how many, which need attention, when last
collected — what a page says beside the numbers (why one is missing, how fresh they are)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from socstat.models import Source, SourceStatus, User
from socstat.services.analytics.coverage import coverage_of
from socstat.services.analytics.scope import Scope, resolve_scope


@dataclass(frozen=True)
class ScopeState:
    sources: int
    active: int
    needs_attention: int  # not active, or stale after a failed collection
    last_collected_at: datetime | None
    history_start: date | None  # the first day any source of the scope has data for


def scope_state(session: Session, *, actor: User | None, scope: Scope) -> ScopeState:
    resolved = resolve_scope(session, actor=actor, scope=scope)
    ids = resolved.source_ids
    rows = session.exec(select(Source).where(Source.id.in_(ids))).all() if ids else []
    collected = [s.last_collected_at for s in rows if s.last_collected_at is not None]
    firsts = [c.first for c in map(coverage_of, rows) if c.first is not None]
    return ScopeState(
        sources=len(rows),
        active=sum(s.status == SourceStatus.ACTIVE for s in rows),
        needs_attention=sum(s.status != SourceStatus.ACTIVE or s.stale for s in rows),
        last_collected_at=max(collected, default=None),
        history_start=min(firsts, default=None),
    )
