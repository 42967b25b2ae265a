"""Generated reports, who receives which scheduled report, and extra recipient addresses."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel, UniqueConstraint

from socstat.models.base import UTCDateTime, utcnow
from socstat.report_kinds import ReportKind as ReportKind  # re-exported; light for the CLI


class ReportStatus:
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Report(SQLModel, table=True):
    """One report: what it covers (``scope``: source_ids / tags / team), its files, its state.

    ``schedule_key`` (``owner:kind:period_start``) is set for scheduled reports only and is
    unique, so the scheduler makes each one exactly once whatever the number of processes.
    A running report holds a lease; a report whose lease expired is claimable again.
    """

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    kind: str = Field(max_length=16)
    period_start: date
    period_end: date
    scope: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    formats: list[str] = Field(default_factory=list, sa_type=JSON)
    files: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    status: str = Field(default=ReportStatus.PENDING, max_length=16, index=True)
    error: str = Field(default="", max_length=2000)
    progress: int = 0
    size_bytes: int | None = None
    schedule_key: str | None = Field(default=None, max_length=100, unique=True)
    send_email: bool = False
    email_queued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    worker: str = Field(default="", max_length=200)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    generated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReportSchedule(SQLModel, table=True):
    """A user's delivery settings. No row = the defaults (daily on, xlsx, not paused)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", unique=True, ondelete="CASCADE")
    daily: bool = True
    weekly: bool = False
    monthly: bool = False
    formats: list[str] = Field(default_factory=lambda: ["xlsx"], sa_type=JSON)
    paused: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportRecipient(SQLModel, table=True):
    """An extra address that receives a user's scheduled reports once confirmed by a link."""

    __table_args__ = (UniqueConstraint("user_id", "email"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=320)
    token_hash: str = Field(max_length=128, unique=True)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
