"""Users, teams, sessions and the tokens of the account flows."""

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from socstat.models.base import UTCDateTime, utcnow
from socstat.roles import Role as Role  # re-exported: socstat.models.Role is the usual import


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    role: str = Field(default=Role.ANALYST, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    totp_secret_enc: str | None = Field(default=None, max_length=512)
    totp_enabled: bool = False
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    blocked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    director_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TeamMember(SQLModel, table=True):
    team_id: int = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")


class AuthSession(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=128, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    mfa_pending: bool = False
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)
    # A single-use, short-lived login ticket the browser exchanges (backend HTTP route)
    # for the session's HttpOnly cookie; only its hash is stored.
    ticket_hash: str | None = Field(default=None, max_length=128, unique=True)
    ticket_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OneTimeToken(SQLModel, table=True):
    """Email confirmation, password reset, invitation and email change links (hash stored
    only). ``new_email``: the address an email change link switches to."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    purpose: str = Field(max_length=32)
    token_hash: str = Field(max_length=128, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    new_email: str | None = Field(default=None, max_length=320)


class RecoveryCode(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=255)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """Sign-in attempts, for throttling per account and per client address."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    ip: str = Field(default="", max_length=64, index=True)
    succeeded: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class TotpUse(SQLModel, table=True):
    """Last accepted TOTP time step per user, so a code cannot be replayed."""

    __table_args__ = (UniqueConstraint("user_id", "step"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    step: int
