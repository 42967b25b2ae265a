"""Threshold alerts, in-app notifications and the outbox of outgoing messages."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from socstat.models.base import UTCDateTime, utcnow


class AlertRule(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    source_id: int | None = Field(default=None, foreign_key="source.id", ondelete="CASCADE")
    name: str = Field(default="", max_length=200)
    metric: str = Field(max_length=32)
    kind: str | None = Field(default=None, max_length=8)
    comparison: str = Field(default="gt", max_length=16)
    threshold: float
    window: str = Field(default="day", max_length=16)
    channels: list[str] = Field(default_factory=list, sa_type=JSON)
    enabled: bool = True
    last_triggered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    """An in-app notification."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=300)
    body: str = Field(default="", max_length=4000)
    link: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxStatus:
    PENDING = "pending"
    SENDING = "sending"  # claimed by a deliverer until ``leased_until``
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; an admin can re-queue it


class Outbox(SQLModel, table=True):
    """Every outgoing message is written here first, then delivered with retries."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=320)
    subject: str = Field(default="", max_length=500)
    body: str = Field(default="")
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    dedup_key: str | None = Field(default=None, max_length=200, unique=True)
    # Stable across retries, so a message re-sent after a crash is recognisably the same one.
    message_id: str = Field(default="", max_length=255)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16, index=True)
    attempts: int = 0
    max_attempts: int = 8
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str = Field(default="", max_length=100)
    last_error: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
