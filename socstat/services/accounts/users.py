"""User records: creating one without authorization checks (admin service, CLI,
registration), setting a password from a link, and the plain view of a user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from sqlmodel import Session

from socstat.models.accounts import Role, User
from socstat.models.base import utcnow
from socstat.services.accounts.base import (
    AccountError,
    check_new_password,
    get_user_by_email,
    validate_email,
)
from socstat.services.passwords import hash_password


def create_user_record(
    session: Session,
    *,
    email: str,
    role: str = Role.ANALYST,
    name: str = "",
    password: str | None = None,
    confirmed: bool = True,
    check_policy: bool = True,
) -> User:
    """Create a user without authorization checks (for admin services, the CLI and
    registration). ``password=None`` leaves the account without a password (invitation)."""
    email = validate_email(email)
    if role not in Role.ALL:
        raise AccountError("Неизвестная роль.")
    if get_user_by_email(session, email=email) is not None:
        raise AccountError("Пользователь с таким адресом уже существует.")
    if password is not None and check_policy:
        check_new_password(password, email=email)
    now = utcnow()
    user = User(
        email=email,
        name=name.strip()[:200],
        role=role,
        password_hash=hash_password(password) if password is not None else None,
        confirmed_at=now if confirmed else None,
        password_changed_at=now if password is not None else None,
    )
    session.add(user)
    session.flush()
    return user


def set_password_from_link(user: User, *, password: str, now: datetime) -> None:
    """A password set from a reset or invitation link: checked against the policy, and
    the link proves the address, so the account is confirmed too."""
    check_new_password(password, email=user.email)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.confirmed_at = user.confirmed_at or now


@dataclass(frozen=True)
class UserView:
    """A user as the services hand it out (no secrets); the UI and the CLI map it to
    their own shapes."""

    id: int
    email: str
    name: str
    role: str
    timezone: str | None
    totp_enabled: bool
    confirmed: bool
    invited: bool
    blocked: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User, **extra: Any) -> Self:
        """The view of ``user``; ``extra``: the fields a subclass adds."""
        return cls(
            id=user.id or 0,
            email=user.email,
            name=user.name,
            role=user.role,
            timezone=user.timezone,
            totp_enabled=user.totp_enabled,
            confirmed=user.confirmed_at is not None,
            invited=user.password_hash is None and user.confirmed_at is None,
            blocked=user.blocked_at is not None,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
            **extra,
        )
