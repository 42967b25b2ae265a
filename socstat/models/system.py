"""System settings edited by admins, and the VK token pool kept in the database."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from socstat.models.base import UTCDateTime, utcnow


class SystemSetting(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(default=None, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")


class ApiToken(SQLModel, table=True):
    """A platform API token (encrypted at rest); kind: user | service | community."""

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(default="vk", max_length=16)
    kind: str = Field(default="user", max_length=16)
    label: str = Field(default="", max_length=200)
    token_enc: str = Field(max_length=2048)
    token_hint: str = Field(default="", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    invalid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    invalid_reason: str = Field(default="", max_length=500)
