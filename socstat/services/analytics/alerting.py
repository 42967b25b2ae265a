"""What alert rules read (services/alerts): a window's figure for each source of a scope
beside the previous window's, taken from the same totals as every page; and a
publication against the median of its source's previous publications of its kind.

A figure is known or carries the reason it is unknown (never 0 by assumption): days
outside the source's collected history, reactions or views VK did not give for some
publications, no members reading, an ER with publications left out for lack of data.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from socstat.models import ContentItem
from socstat.services.analytics.coverage import Coverage
from socstat.services.analytics.periods import Period
from socstat.services.analytics.scope import ResolvedScope, SourceRef
from socstat.services.analytics.totals import Totals, compare_by_source

COUNT_METRICS = {"posts": "post", "videos": "video", "clips": "clip"}
SUM_METRICS = ("likes", "reposts", "comments", "views")
ER_METRICS = ("er_post", "er_view")
MEMBERS = "members"
WINDOW_METRICS = (*COUNT_METRICS, *SUM_METRICS, *ER_METRICS, MEMBERS)
BASELINE_METRICS = ("views", "likes", "er_view")
_GENITIVE = {
    "likes": "лайки",
    "reposts": "репосты",
    "comments": "комментарии",
    "views": "просмотры",
}


@dataclass(frozen=True)
class AlertFigure:
    """A metric's value over a window (ER in %); ``value`` None ⇒ ``unknown`` says why."""

    value: float | None
    unknown: str = ""


@dataclass(frozen=True)
class WindowFigures:
    source: SourceRef
    current: AlertFigure
    previous: AlertFigure


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


def _coverage_problem(cov: Coverage | None, period: Period, through: date) -> str:
    last = min(period.end, through)
    if cov is None or cov.first is None or cov.last is None:
        return "данных нет: стена недоступна или сбор ещё не проходил"
    if period.start < cov.first:
        return f"данные собираются с {_day(cov.first)}"
    if cov.last < last:
        return f"данные собраны только по {_day(cov.last)}"
    return ""


def _from_totals(totals: Totals, metric: str) -> AlertFigure:
    if metric in COUNT_METRICS:
        count = totals.count(COUNT_METRICS[metric])
        return (
            AlertFigure(None, "этот тип не отслеживается")
            if count is None
            else AlertFigure(float(count))
        )
    if metric == MEMBERS:
        members = totals.members_end
        if members.value is None or members.unknown:
            return AlertFigure(None, "нет снимка числа подписчиков за период")
        return AlertFigure(float(members.value))
    if metric in SUM_METRICS:
        figure = getattr(totals, metric)
        if figure.unknown:
            return AlertFigure(
                None, f"VK не отдал {_GENITIVE[metric]} для {figure.unknown} публикаций"
            )
        if figure.value is None:
            return AlertFigure(None, "VK не отдал эти данные")
        return AlertFigure(float(figure.value))
    ratio = getattr(totals, metric)
    if ratio.value is None:
        return AlertFigure(None, "ER не определён: нет публикаций с известными данными")
    if ratio.unknown:
        return AlertFigure(None, f"ER неизвестен для {ratio.unknown} публикаций")
    return AlertFigure(100.0 * ratio.value)


def window_figures(
    session: Session, resolved: ResolvedScope, *, metric: str, period: Period, through: date
) -> list[WindowFigures]:
    """``metric`` of each source of ``resolved`` over ``period`` and the previous period.
    ``through``: the last day that can be known (today while the period is open)."""
    if metric not in WINDOW_METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    covs = resolved.coverages(session)
    out = []
    for row in compare_by_source(session, resolved, period):
        cov = covs.get(row.source.id)
        figures = []
        for totals, window in ((row.current, period), (row.previous, period.previous())):
            problem = "" if metric == MEMBERS else _coverage_problem(cov, window, through)
            figures.append(AlertFigure(None, problem) if problem else _from_totals(totals, metric))
        out.append(WindowFigures(row.source, *figures))
    return out


def _item_er_view(item: ContentItem) -> float | None:
    if item.views is None or item.views == 0 or None in (item.likes, item.reposts, item.comments):
        return None
    return 100.0 * ((item.likes or 0) + (item.reposts or 0) + (item.comments or 0)) / item.views


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
