"""Journal of collection runs and scheduled jobs."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel, UniqueConstraint

from socstat.models.base import UTCDateTime, utcnow


class RunStatus:
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class CollectionRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    trigger: str = Field(default="schedule", max_length=16)
    started_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=RunStatus.RUNNING, max_length=16)
    requests: int = 0
    calls: int = 0
    errors_by_code: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    sources_ok: int = 0
    sources_partial: int = 0
    sources_failed: int = 0
    items_new: int = 0
    items_updated: int = 0
    error: str = Field(default="", max_length=2000)
    # written every few seconds while the run is alive; a stale one means the process died
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    process: str = Field(default="", max_length=100)  # host:pid of the process collecting


class CollectionRunSource(SQLModel, table=True):
    """Per-source outcome of one run."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="collectionrun.id", index=True, ondelete="CASCADE")
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="CASCADE")
    status: str = Field(max_length=16)
    error: str = Field(default="", max_length=1000)
    items_new: int = 0
    items_updated: int = 0
    finished_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiUsage(SQLModel, table=True):
    """Platform API use per quota day, token and method, added to by every collection run
    (any worker): code "" counts the calls made, any other code the errors (VK's error code,
    or timeout/network/httpNNN/bad_json). /metrics and the «Система» page read it."""

    __table_args__ = (UniqueConstraint("platform", "day", "token", "method", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(default="vk", max_length=16)
    day: date = Field(index=True)  # the platform's quota day (VK: Moscow)
    token: str = Field(max_length=16)  # the token's fingerprint, never the token
    token_masked: str = Field(default="", max_length=32)
    method: str = Field(max_length=64)
    code: str = Field(default="", max_length=32)
    count: int = 0


class JobRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64, index=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=RunStatus.RUNNING, max_length=16)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    error: str = Field(default="", max_length=2000)
