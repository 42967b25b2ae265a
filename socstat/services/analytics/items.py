"""Top publications (the one reader of single ContentItem rows) and the best time to post.

A page of the top is picked in SQL by the sort's index (``ix_contentitem_top_*``) and only
its rows are joined with their source and members; how many there are comes from
DailyStat. The heatmap sums the sources' HourlyStat rows (``store``). Deleted
publications (``deleted_at`` set) are left out, as they are from both aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Float, and_, case, cast, func, select, text
from sqlmodel import Session

from socstat.models import ContentItem, ContentKind, Source, User
from socstat.services.analytics.periods import AnalyticsError, Period
from socstat.services.analytics.query import (
    SNAPSHOT,
    STAT,
    in_period,
    in_scope,
    in_sources,
    same_day,
)
from socstat.services.analytics.scope import ResolvedScope, Scope, display_name, resolve_scope
from socstat.services.analytics.store import SLOTS, aggregate_store
from socstat.settings import get_settings

ITEM: Any = ContentItem.__table__  # type: ignore[attr-defined]
SOURCE: Any = Source.__table__  # type: ignore[attr-defined]
MAX_PAGE_SIZE = 100


class PublicationSort(StrEnum):
    PUBLISHED = "published"
    LIKES = "likes"
    REPOSTS = "reposts"
    COMMENTS = "comments"
    VIEWS = "views"
    ER_POST = "er_post"
    ER_VIEW = "er_view"


@dataclass(frozen=True)
class Publication:
    id: int
    source_id: int
    source_name: str
    kind: str
    published_at: datetime
    local_date: date
    text: str
    likes: int | None
    reposts: int | None
    comments: int | None
    views: int | None
    er_post: float | None  # None: members of that day or a reaction figure unknown
    er_view: float | None  # None: views unknown or zero, or a reaction figure unknown
    url: str


@dataclass(frozen=True)
class PublicationPage:
    items: tuple[Publication, ...]
    total: int
    page: int  # 1-based
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _known_reactions() -> Any:
    return and_(
        ITEM.c.likes.is_not(None), ITEM.c.reposts.is_not(None), ITEM.c.comments.is_not(None)
    )


def _reactions() -> Any:
    return ITEM.c.likes + ITEM.c.reposts + ITEM.c.comments


def _er_post() -> Any:
    return case(
        (
            and_(_known_reactions(), SNAPSHOT.c.members > 0),
            cast(_reactions(), Float) / SNAPSHOT.c.members,
        )
    )


def _er_view() -> Any:
    return case(
        (and_(_known_reactions(), ITEM.c.views > 0), cast(_reactions(), Float) / ITEM.c.views)
    )


def _sort_column(sort: PublicationSort) -> Any:
    if sort == PublicationSort.ER_POST:
        return _er_post()
    if sort == PublicationSort.ER_VIEW:
        return _er_view()
    if sort == PublicationSort.PUBLISHED:
        return ITEM.c.published_at
    return ITEM.c[sort.value]


def _with_source_and_members() -> Any:
    return ITEM.join(SOURCE, SOURCE.c.id == ITEM.c.source_id).outerjoin(
        SNAPSHOT, same_day(SNAPSHOT, ITEM)
    )


def top_publications(
    session: Session,
    *,
    actor: User | None,
    scope: Scope,
    period: Period,
    sort: str = PublicationSort.LIKES,
    descending: bool = True,
    page: int = 1,
    page_size: int = 20,
) -> PublicationPage:
    """The scope's publications of the period, best first by ``sort``, one page of them."""
    resolved = resolve_scope(session, actor=actor, scope=scope)
    return publications_page(
        session, resolved, period, sort=sort, descending=descending, page=page, page_size=page_size
    )


def publications_page(
    session: Session,
    resolved: ResolvedScope,
    period: Period,
    *,
    sort: str = PublicationSort.LIKES,
    descending: bool = True,
    page: int = 1,
    page_size: int = 20,
    total: int | None = None,
) -> PublicationPage:
    """One page of the scope's live publications; ``total`` is how many there are (the
    period's publication count, read from DailyStat when not given)."""
    try:
        order = PublicationSort(sort)
    except ValueError:
        raise AnalyticsError("Неизвестная сортировка публикаций.") from None
    if not isinstance(page, int) or page < 1:
        raise AnalyticsError("Неверный номер страницы.")
    if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise AnalyticsError(f"На странице может быть от 1 до {MAX_PAGE_SIZE} публикаций.")
    if total is None:
        total = _publications(session, resolved, period)
    by_kind = tuple((kind, tuple(ids)) for kind, ids in resolved.ids_by_kind().items())
    query = _page_query(
        session.get_bind().dialect, by_kind, period, order, descending, page, page_size
    )
    items = tuple(_publication(row) for row in session.execute(query).mappings().all())
    return PublicationPage(items, int(total), page, page_size)


@lru_cache(maxsize=64)
def _page_query(
    dialect: Dialect,
    by_kind: tuple[tuple[str, tuple[int, ...]], ...],
    period: Period,
    order: PublicationSort,
    descending: bool,
    page: int,
    page_size: int,
) -> Any:
    """The statement of a page, every value written in (kept: a dashboard asks for the same
    page of the same scope and period again and again). Without parameters, psycopg's
    prepared statement keeps PostgreSQL's plan; with them (the limit, the kinds) PostgreSQL
    planned the query anew on every call, which took longer than running it."""
    joined = _with_source_and_members()
    where = and_(  # the scope's publications of the period that were not deleted
        in_sources(ITEM, dict(by_kind)), in_period(ITEM, period), ITEM.c.deleted_at.is_(None)
    )
    column = _sort_column(order)
    ordering = column.desc() if descending else column.asc()
    tiebreak = ITEM.c.id.desc() if descending else ITEM.c.id
    if order != PublicationSort.ER_POST:  # pick the page from the items alone, then join
        page_ids = (
            select(ITEM.c.id)
            .where(where)
            .order_by(ordering.nulls_last(), tiebreak)
            .limit(page_size)
            .offset((page - 1) * page_size)
            .scalar_subquery()
        )
        where = ITEM.c.id.in_(page_ids)
    query = (
        select(
            ITEM.c.id,
            ITEM.c.source_id,
            SOURCE.c.name,
            SOURCE.c.screen_name,
            SOURCE.c.external_id.label("source_external_id"),
            SOURCE.c.platform,
            ITEM.c.kind,
            ITEM.c.external_id,
            ITEM.c.published_at,
            ITEM.c.local_date,
            ITEM.c.text_preview,
            ITEM.c.likes,
            ITEM.c.reposts,
            ITEM.c.comments,
            ITEM.c.views,
            _er_post().label("er_post"),
            _er_view().label("er_view"),
        )
        .select_from(joined)
        .where(where)
        .order_by(ordering.nulls_last(), tiebreak)
        .limit(page_size)
        .offset((page - 1) * page_size if order == PublicationSort.ER_POST else 0)
    )
    written = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return text(str(written)).columns(*query.selected_columns)


def _publications(session: Session, resolved: ResolvedScope, period: Period) -> int:
    """The scope's live publications of the period (DailyStat counts exactly those)."""
    query = select(func.sum(STAT.c.count)).where(in_scope(STAT, resolved), in_period(STAT, period))
    return int(session.execute(query).scalar_one() or 0)


def _publication(row: Any) -> Publication:
    published = row["published_at"]
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return Publication(
        id=row["id"],
        source_id=row["source_id"],
        source_name=display_name(row["name"], row["screen_name"], row["source_external_id"]),
        kind=row["kind"],
        published_at=published,
        local_date=row["local_date"],
        text=(row["text_preview"] or "").strip().splitlines()[0] if row["text_preview"] else "",
        likes=row["likes"],
        reposts=row["reposts"],
        comments=row["comments"],
        views=row["views"],
        er_post=row["er_post"],
        er_view=row["er_view"],
        url=publication_url(
            row["platform"], row["source_external_id"], row["kind"], row["external_id"]
        ),
    )


def publication_url(platform: str, source_external_id: str, kind: str, external_id: str) -> str:
    """A link to the publication on the platform ("" where we cannot build one)."""
    if platform != "vk":
        return ""
    if kind == ContentKind.POST:
        return f"https://vk.com/wall-{source_external_id}_{external_id}"
    if kind == ContentKind.VIDEO:
        return f"https://vk.com/video{external_id}"
    if kind == ContentKind.CLIP:
        return f"https://vk.com/clip{external_id}"
    return ""


# --- best time to post -------------------------------------------------------------------


@dataclass(frozen=True)
class HeatCell:
    weekday: int  # 0 = Monday
    hour: int  # 0..23, installation time
    publications: int
    average_reactions: float | None  # mean likes + reposts + comments per publication


@dataclass(frozen=True)
class Heatmap:
    """Hour × weekday of the installation's zone; every one of the 7 × 24 cells present."""

    timezone: str
    cells: tuple[HeatCell, ...]


def heatmap(session: Session, *, actor: User | None, scope: Scope, period: Period) -> Heatmap:
    """Average engagement per publication by the hour and weekday it was published."""
    resolved = resolve_scope(session, actor=actor, scope=scope)
    return heatmap_of(session, resolved, period)


def heatmap_of(session: Session, resolved: ResolvedScope, period: Period) -> Heatmap:
    """From the sources' HourlyStat rows (local day × hour, kept by collection's rebuild),
    each source over the kinds counted for it."""
    counts, sums, known = aggregate_store().heat(session, resolved.sources, period).tolist()
    cells = tuple(
        HeatCell(
            slot // 24,
            slot % 24,
            int(counts[slot]),
            sums[slot] / known[slot] if known[slot] else None,
        )
        for slot in range(SLOTS)
    )
    return Heatmap(get_settings().timezone, cells)
