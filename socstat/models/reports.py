"""Generated reports and who receives which report when."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from socstat.models.base import UTCDateTime, utcnow


class Report(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)
    period_start: date
    period_end: date
    format: str = Field(default="xlsx", max_length=8)
    status: str = Field(default="pending", max_length=16)
    source_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    file_path: str = Field(default="", max_length=1000)
    size_bytes: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str = Field(default="", max_length=2000)


class ReportSubscription(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)
    format: str = Field(default="xlsx", max_length=8)
    recipients: list[str] = Field(default_factory=list, sa_type=JSON)
    source_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    filters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    enabled: bool = True
    last_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
