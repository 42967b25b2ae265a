"""Alert rules and their firings, in-app notifications, the outbox of outgoing messages,
and the user's external channels (phone, Telegram chat)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel, UniqueConstraint

from socstat.models.base import UTCDateTime, utcnow


class AlertRule(SQLModel, table=True):
    """A user's rule. ``rule_type`` threshold: ``metric`` over a ``window`` of each source in
    scope compared by ``comparison`` (ge | le | rise_pct | fall_pct) with ``threshold``;
    baseline: a publication of ``kind`` whose ``metric`` reaches ``threshold``× the median
    of the source's previous publications of that kind."""

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(default="", max_length=200)
    rule_type: str = Field(default="threshold", max_length=16)
    scope: str = Field(default="source", max_length=16)
    source_id: int | None = Field(default=None, foreign_key="source.id", ondelete="CASCADE")
    tag: str = Field(default="", max_length=100)
    metric: str = Field(max_length=32)
    kind: str | None = Field(default=None, max_length=8)
    comparison: str = Field(default="ge", max_length=16)
    threshold: float
    window: str = Field(default="day", max_length=16)
    channels: list[str] = Field(default_factory=list, sa_type=JSON)
    quiet_from: str = Field(default="", max_length=5)
    quiet_to: str = Field(default="", max_length=5)
    notify_resolved: bool = False
    enabled: bool = True
    last_triggered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FiringState:
    FIRED = "fired"
    RESOLVED = "resolved"
    SKIPPED = "skipped"


class AlertFiring(SQLModel, table=True):
    """One entry of a rule's history. ``key`` is unique per rule: one firing per window and
    source (threshold rules) or per publication (baseline rules), one "skipped" entry per
    window whose figures were unknown. ``pending`` holds what quiet hours kept back
    ("fired" | "resolved" | "")."""

    __table_args__ = (UniqueConstraint("rule_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="alertrule.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=120)
    state: str = Field(max_length=16)
    source_id: int | None = Field(default=None, foreign_key="source.id", ondelete="CASCADE")
    content_item_id: int | None = Field(
        default=None, foreign_key="contentitem.id", ondelete="SET NULL"
    )
    window_start: date | None = None
    window_end: date | None = None
    value: float | None = None
    reference: float | None = None
    reason: str = Field(default="", max_length=1000)
    pending: str = Field(default="", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    """An in-app notification. ``kind``: alert | system | report | info; ``dedup_key``
    keeps one notification per event."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    kind: str = Field(default="info", max_length=16)
    title: str = Field(max_length=300)
    body: str = Field(default="", max_length=4000)
    link: str = Field(default="", max_length=500)
    dedup_key: str | None = Field(default=None, max_length=200, unique=True)
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


class UserPhone(SQLModel, table=True):
    """A user's phone for SMS (E.164), usable once confirmed by a code."""

    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    phone: str = Field(max_length=16)
    code_hash: str = Field(default="", max_length=128)
    code_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    code_attempts: int = 0
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TelegramLink(SQLModel, table=True):
    """A user's Telegram chat, linked through a one-time ``/start <code>`` deep link."""

    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    code_hash: str | None = Field(default=None, max_length=128, unique=True)
    code_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    chat_id: str | None = Field(default=None, max_length=32)
    username: str = Field(default="", max_length=64)
    linked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
