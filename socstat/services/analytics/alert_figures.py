"""Figures alert rules compare: one source's metric over a window of installation days,
and a publication against the median of the source's previous publications.

A figure is ``known`` or carries the reason it is unknown (never 0 by assumption):
days before the source's history, reactions or views the platform did not give, a
missing members snapshot, an ER without publications or members.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from socstat.models import ContentItem, CounterSnapshot, DailyStat, Source

COUNT_METRICS = {"posts": "post", "videos": "video", "clips": "clip"}
SUM_METRICS = ("likes", "reposts", "comments", "views")
ER_METRICS = ("er_post", "er_view")
MEMBERS = "members"
WINDOW_METRICS = (*COUNT_METRICS, *SUM_METRICS, *ER_METRICS, MEMBERS)
BASELINE_METRICS = ("views", "likes", "er_view")


@dataclass(frozen=True)
class Figure:
    """A metric's value over a window; ``value`` None ⇒ ``unknown`` says why (Russian)."""

    value: float | None
    unknown: str = ""


@dataclass(frozen=True)
class Publication:
    id: int
    source_id: int
    kind: str
    external_id: str
    published_at: datetime
    local_date: date
    text_preview: str
    value: float | None


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def window_figure(
    session: Session,
    *,
    source_id: int,
    metric: str,
    kind: str | None,
    start: date,
    end: date,
) -> Figure:
    """``metric`` of one source over the installation days ``start``…``end`` (inclusive).

    ``kind`` narrows reactions and views to one content kind (None: all kinds); ER
    metrics use posts unless ``kind`` says otherwise. ER values are percentages.
    """
    source = session.get(Source, source_id)
    if source is None:
        return Figure(None, "источник удалён")
    if source.history_start is not None and start < source.history_start:
        return Figure(None, f"данные собираются с {_day(source.history_start)}")
    if metric == MEMBERS:
        return _members_at(session, source_id, end)
    if metric in COUNT_METRICS:
        return Figure(float(_sums(session, source_id, COUNT_METRICS[metric], start, end)["count"]))
    if metric in SUM_METRICS:
        return _sum_figure(_sums(session, source_id, kind, start, end), metric)
    if metric == "er_post":
        return _er_post(session, source_id, kind or "post", start, end)
    if metric == "er_view":
        return _er_view(session, source_id, kind or "post", start, end)
    raise ValueError(f"unknown metric {metric!r}")


def _sums(
    session: Session, source_id: int, kind: str | None, start: date, end: date
) -> dict[str, int | None]:
    columns = [
        func.coalesce(func.sum(DailyStat.count), 0),
        func.sum(DailyStat.likes),
        func.sum(DailyStat.reposts),
        func.sum(DailyStat.comments),
        func.sum(DailyStat.views),
        func.coalesce(func.sum(DailyStat.views_unknown), 0),
        # rows with publications whose reaction figures the platform did not give at all
        func.coalesce(
            func.sum(case(((DailyStat.count > 0) & col(DailyStat.likes).is_(None), 1), else_=0)),
            0,
        ),
    ]
    query = select(*columns).where(
        DailyStat.source_id == source_id,
        DailyStat.local_date >= start,
        DailyStat.local_date <= end,
    )
    if kind is not None:
        query = query.where(DailyStat.kind == kind)
    count, likes, reposts, comments, views, views_unknown, no_reactions = session.exec(query).one()
    return {
        "count": int(count),
        "likes": likes,
        "reposts": reposts,
        "comments": comments,
        "views": views,
        "views_unknown": int(views_unknown),
        "no_reactions": int(no_reactions),
    }


def _sum_figure(sums: dict[str, int | None], metric: str) -> Figure:
    if sums["count"] == 0:
        return Figure(0.0)
    if metric == "views" and sums["views_unknown"]:
        return Figure(
            None, f"просмотры неизвестны для {sums['views_unknown']} из {sums['count']} публикаций"
        )
    if metric != "views" and sums["no_reactions"]:
        return Figure(None, "VK не отдал реакции части публикаций")
    value = sums[metric]
    return Figure(None, "VK не отдал эти данные") if value is None else Figure(float(value))


def _members_at(session: Session, source_id: int, day: date) -> Figure:
    members = session.exec(
        select(CounterSnapshot.members).where(
            CounterSnapshot.source_id == source_id, CounterSnapshot.local_date == day
        )
    ).first()
    if members is None:
        return Figure(None, f"нет снимка числа подписчиков за {_day(day)}")
    return Figure(float(members))


def _er_post(session: Session, source_id: int, kind: str, start: date, end: date) -> Figure:
    """Average ERpost = reactions / members (at the window's end) / publications, in %."""
    sums = _sums(session, source_id, kind, start, end)
    if sums["count"] == 0:
        return Figure(None, "нет публикаций за период")
    if sums["no_reactions"]:
        return Figure(None, "VK не отдал реакции части публикаций")
    members = _members_at(session, source_id, end)
    if members.value is None:
        return members
    if members.value == 0:
        return Figure(None, "в сообществе нет подписчиков")
    reactions = sum(int(sums[m] or 0) for m in ("likes", "reposts", "comments"))
    return Figure(100.0 * reactions / members.value / sums["count"])


def _item_er_view(item: ContentItem) -> float | None:
    if item.views is None or item.views == 0 or None in (item.likes, item.reposts, item.comments):
        return None
    return 100.0 * ((item.likes or 0) + (item.reposts or 0) + (item.comments or 0)) / item.views


def _er_view(session: Session, source_id: int, kind: str, start: date, end: date) -> Figure:
    """Average ERview = mean of the publications' (reactions / views), in %."""
    items = session.exec(
        select(ContentItem).where(
            ContentItem.source_id == source_id,
            ContentItem.kind == kind,
            ContentItem.local_date >= start,
            ContentItem.local_date <= end,
            col(ContentItem.deleted_at).is_(None),
        )
    ).all()
    if not items:
        return Figure(None, "нет публикаций за период")
    values = [_item_er_view(i) for i in items]
    missing = sum(v is None for v in values)
    if missing:
        return Figure(None, f"просмотры или реакции неизвестны для {missing} из {len(items)}")
    return Figure(statistics.fmean(v for v in values if v is not None))


def publication_value(item: ContentItem, metric: str) -> float | None:
    """A publication's views, likes or ERview (%); None when the platform did not give it."""
    if metric == "er_view":
        return _item_er_view(item)
    value = getattr(item, metric)
    return None if value is None else float(value)


def _publication(item: ContentItem, metric: str) -> Publication:
    return Publication(
        id=item.id or 0,
        source_id=item.source_id,
        kind=item.kind,
        external_id=item.external_id,
        published_at=item.published_at,
        local_date=item.local_date,
        text_preview=item.text_preview,
        value=publication_value(item, metric),
    )


def recent_publications(
    session: Session, *, source_id: int, kind: str, metric: str, since: date
) -> list[Publication]:
    """The source's publications of ``kind`` published on or after ``since``, oldest first."""
    items = session.exec(
        select(ContentItem)
        .where(
            ContentItem.source_id == source_id,
            ContentItem.kind == kind,
            ContentItem.local_date >= since,
            col(ContentItem.deleted_at).is_(None),
        )
        .order_by(col(ContentItem.published_at), col(ContentItem.id))
    ).all()
    return [_publication(i, metric) for i in items]


def baseline_median(
    session: Session,
    *,
    source_id: int,
    kind: str,
    metric: str,
    before: datetime,
    sample: int = 20,
) -> tuple[float | None, int]:
    """Median ``metric`` of the source's last ``sample`` publications of ``kind`` published
    before ``before`` whose figure is known, and how many there were."""
    items = session.exec(
        select(ContentItem)
        .where(
            ContentItem.source_id == source_id,
            ContentItem.kind == kind,
            ContentItem.published_at < before,
            col(ContentItem.deleted_at).is_(None),
        )
        .order_by(col(ContentItem.published_at).desc(), col(ContentItem.id).desc())
        .limit(sample * 2)
    ).all()
    values = [v for v in (publication_value(i, metric) for i in items) if v is not None][:sample]
    if not values:
        return None, 0
    return statistics.median(values), len(values)
