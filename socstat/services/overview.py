"""Обзор: the figures of the landing page, over the sources the actor may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from socstat.models import ContentKind, DailyStat, Source, SourceStatus, User
from socstat.services.sources import visible_source_ids
from socstat.settings import get_settings

RECENT_DAYS = 7


@dataclass(frozen=True)
class Overview:
    sources: int
    active: int
    needs_attention: int  # not active, or stale after a failed collection
    last_collected_at: datetime | None
    recent_from: date
    recent_to: date
    recent_posts: int | None  # None: nothing collected for the period
    recent_views: int | None  # None: views unknown for every post of the period


def overview(session: Session, *, actor: User | None, today: date | None = None) -> Overview:
    visible = visible_source_ids(session, actor=actor)
    query = select(Source)
    if visible is not None:
        query = query.where(col(Source.id).in_(sorted(visible)))
    rows = session.exec(query).all()
    tz = get_settings().tz
    today = today or datetime.now(tz).date()
    start = today - timedelta(days=RECENT_DAYS - 1)
    collected = [s.last_collected_at for s in rows if s.last_collected_at is not None]
    posts, views = _recent_posts(session, [s.id for s in rows if s.id is not None], start, today)
    if posts is None and any(moment.astimezone(tz).date() >= start for moment in collected):
        posts = 0  # collected during the period, and nothing was published
    return Overview(
        sources=len(rows),
        active=sum(s.status == SourceStatus.ACTIVE for s in rows),
        needs_attention=sum(s.status != SourceStatus.ACTIVE or s.stale for s in rows),
        last_collected_at=max(collected, default=None),
        recent_from=start,
        recent_to=today,
        recent_posts=posts,
        recent_views=views,
    )


def _recent_posts(
    session: Session, ids: list[int], start: date, end: date
) -> tuple[int | None, int | None]:
    """Posts and their known views over the period; None where nothing is known."""
    if not ids:
        return None, None
    posts, views = session.exec(
        select(func.sum(DailyStat.count), func.sum(DailyStat.views)).where(
            col(DailyStat.source_id).in_(ids),
            DailyStat.kind == ContentKind.POST,
            DailyStat.local_date >= start,
            DailyStat.local_date <= end,
        )
    ).one()
    return (
        None if posts is None else int(posts),
        None if views is None else int(views),
    )
