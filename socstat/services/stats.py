"""Reading the daily pre-aggregates (DailyStat) the collection service maintains."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from socstat.models import ContentKind, DailyStat, Source, User
from socstat.services.sources import visible_source_ids

MAX_SPAN = timedelta(days=366)


class StatsQueryError(ValueError):
    """Bad query parameters; the message is for the user (Russian)."""


@dataclass(frozen=True)
class DailyRow:
    """One source × local day × kind. None = unknown (the platform did not give it)."""

    source_id: int
    screen_name: str
    date: date
    kind: str
    count: int
    likes: int | None
    reposts: int | None
    comments: int | None
    views: int | None
    views_unknown: int


def validate_period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    if date_from is None or date_to is None:
        raise StatsQueryError("Укажите начало и конец периода.")
    if date_from > date_to:
        raise StatsQueryError("Начало периода позже его конца.")
    if date_to - date_from >= MAX_SPAN:
        raise StatsQueryError("Период не может быть длиннее года.")
    return date_from, date_to


def _validate_kinds(kinds: Iterable[str] | None) -> list[str] | None:
    if kinds is None:
        return None
    wanted = list(dict.fromkeys(kinds))
    unknown = [k for k in wanted if k not in ContentKind.ALL]
    if unknown:
        raise StatsQueryError(f"Неизвестный тип публикаций: {', '.join(unknown)}.")
    return wanted


def daily_stats(
    session: Session,
    *,
    actor: User | None,
    date_from: date,
    date_to: date,
    source_ids: Iterable[int] | None = None,
    kinds: Iterable[str] | None = None,
) -> list[DailyRow]:
    """Daily aggregates of the sources the actor may see, ordered by source, date, kind.

    Requested sources the actor may not see are silently left out (no existence leak).
    """
    date_from, date_to = validate_period(date_from, date_to)
    wanted_kinds = _validate_kinds(kinds)
    visible = visible_source_ids(session, actor=actor)
    query = (
        select(DailyStat, Source.screen_name)
        .join(Source, Source.id == DailyStat.source_id)
        .where(DailyStat.local_date >= date_from, DailyStat.local_date <= date_to)
        .order_by(DailyStat.source_id, DailyStat.local_date, DailyStat.kind)
    )
    ids = None if source_ids is None else set(source_ids)
    if visible is not None:
        ids = visible if ids is None else ids & visible
    if ids is not None:
        if not ids:
            return []
        query = query.where(DailyStat.source_id.in_(sorted(ids)))
    if wanted_kinds is not None:
        query = query.where(DailyStat.kind.in_(wanted_kinds))
    return [_row(stat, screen_name) for stat, screen_name in session.exec(query).all()]


def _row(stat: DailyStat, screen_name: str) -> DailyRow:
    return DailyRow(
        source_id=stat.source_id,
        screen_name=screen_name,
        date=stat.local_date,
        kind=stat.kind,
        count=stat.count,
        likes=stat.likes,
        reposts=stat.reposts,
        comments=stat.comments,
        views=stat.views,
        views_unknown=stat.views_unknown,
    )
