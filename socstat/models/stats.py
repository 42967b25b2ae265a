"""Collected content, counter snapshots and daily pre-aggregates.

NULL means "the platform did not give it" — never replace it by 0.
"""

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from socstat.models.base import UTCDateTime, utcnow


class ContentItem(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("source_id", "kind", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=8)
    external_id: str = Field(max_length=64)
    published_at: datetime = Field(sa_type=UTCDateTime)
    local_date: date = Field(index=True)
    likes: int | None = None
    reposts: int | None = None
    comments: int | None = None
    views: int | None = None
    is_pinned: bool = False
    is_ad: bool = False
    is_repost: bool = False
    text_preview: str = Field(default="", max_length=300)
    collected_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # set when the platform confirmed the post is gone; such items leave DailyStat
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# the figures top publications are sorted by: best first (unknown last) read from an index
# on PostgreSQL (SQLite has no NULLS LAST in an index, and no data that needs one); it
# carries what a page is filtered by, so the page's ids come from the index alone (reading
# each candidate's row made a 7-day page of a year's data touch ~1 400 table pages)
TOP_SORTS = ("likes", "reposts", "comments", "views", "published_at")
TOP_FILTERS = ("local_date", "source_id", "kind", "deleted_at")
for _name in TOP_SORTS:
    _column = ContentItem.__table__.c[_name]  # type: ignore[attr-defined]
    Index(
        f"ix_contentitem_top_{_name}",
        _column.desc().nulls_last(),
        ContentItem.id.desc(),
        postgresql_include=list(TOP_FILTERS),
    ).ddl_if(dialect="postgresql")


class CounterSnapshot(SQLModel, table=True):
    """What the platform reported for the community on one local day (last reading wins)."""

    __table_args__ = (UniqueConstraint("source_id", "local_date"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="CASCADE")
    local_date: date
    taken_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    members: int | None = None
    posts: int | None = None
    videos: int | None = None
    clips: int | None = None
    clips_views: int | None = None
    clips_likes: int | None = None
    clips_followers: int | None = None
    photos: int | None = None
    articles: int | None = None


class DailyStat(SQLModel, table=True):
    """Pre-aggregate per source × local day × content kind, kept in step with ContentItem.

    `*_unknown` counts the items whose figure the platform did not give; the sums cover
    the known ones only, and a sum over nothing known is NULL. `er_view_sum` adds up the
    items' ERview ((likes + reposts + comments) / views) over the `er_view_items` items
    where all four figures are known and views > 0, so a mean of ERview over any period is
    a sum of sums (services/analytics).
    """

    __table_args__ = (UniqueConstraint("source_id", "local_date", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="CASCADE")
    local_date: date = Field(index=True)
    kind: str = Field(max_length=8)
    count: int = 0
    likes: int | None = None
    reposts: int | None = None
    comments: int | None = None
    views: int | None = None
    likes_unknown: int = 0
    reposts_unknown: int = 0
    comments_unknown: int = 0
    views_unknown: int = 0
    er_view_sum: float | None = None
    er_view_items: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HourlyStat(SQLModel, table=True):
    """Pre-aggregate per source × local day × content kind × local hour (the best time to
    post), kept in step with ContentItem by the same rebuild as DailyStat.

    `reactions` adds up likes + reposts + comments over the `reactions_items` items where
    all three are known (0 and 0 when none is), so a mean per publication over any period
    is a sum of sums (services/analytics).
    """

    __table_args__ = (UniqueConstraint("source_id", "local_date", "kind", "hour"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="CASCADE")
    local_date: date = Field(index=True)
    kind: str = Field(max_length=8)
    hour: int  # 0..23 in the installation's zone
    count: int = 0
    reactions: int = 0
    reactions_items: int = 0


# a period's members of every source in scope, read by date and from the index alone
# (analytics' store loads them with the sources' day tables)
Index(
    "ix_countersnapshot_day_members",
    CounterSnapshot.local_date,
    CounterSnapshot.source_id,
    CounterSnapshot.members,
)
