"""Communities being tracked and who tracks them."""

import uuid
from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from socstat.models.base import UTCDateTime, utcnow


def new_stats_token() -> str:
    return uuid.uuid4().hex


class SourceStatus:
    ACTIVE = "active"
    CLOSED = "closed"
    PRIVATE = "private"
    DELETED = "deleted"
    BANNED = "banned"
    WALL_DISABLED = "wall_disabled"
    ERROR = "error"


class ContentKind:
    POST = "post"
    VIDEO = "video"
    CLIP = "clip"
    ALL = (POST, VIDEO, CLIP)


class Source(SQLModel, table=True):
    """One row per platform community, shared by every user who tracks it."""

    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(default="vk", max_length=16)
    external_id: str = Field(max_length=64)
    screen_name: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=500)
    url: str = Field(default="", max_length=500)
    photo_url: str = Field(default="", max_length=1000)
    community_type: str = Field(default="", max_length=16)
    members_count: int | None = None
    status: str = Field(default=SourceStatus.ACTIVE, max_length=16, index=True)
    status_reason: str = Field(default="", max_length=500)
    stale: bool = False
    history_start: date | None = None
    cursor_post_id: int | None = None
    cursor_published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_collected_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=1000)
    # new whenever collection rewrites the source's aggregates: analytics' in-process copy
    # of them is valid only under the token it was read with (services/analytics/store)
    stats_token: str = Field(default_factory=new_stats_token, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # the collection run collecting this source now, until its lease ends (see collection)
    claimed_by: int | None = None
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Subscription(SQLModel, table=True):
    """A user tracks a source."""

    __table_args__ = (UniqueConstraint("user_id", "source_id"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="CASCADE")
    track_posts: bool = True
    track_videos: bool = True
    track_clips: bool = True
    folder: str = Field(default="", max_length=200)
    tags: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
