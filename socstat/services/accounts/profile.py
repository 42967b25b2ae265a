"""One's own profile: display name and time zone."""

from __future__ import annotations

import zoneinfo

from sqlmodel import Session

from socstat.models.accounts import User
from socstat.services.accounts.base import AccountError
from socstat.services.accounts.users import UserView


def update_profile(
    session: Session, *, user: User, name: str, timezone: str | None = None
) -> UserView:
    """Change one's own display name and time zone (None = the system default)."""
    if timezone:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise AccountError("Неизвестный часовой пояс.", field="timezone") from None
    user.name = name.strip()[:200]
    user.timezone = timezone or None
    session.add(user)
    session.flush()
    return UserView.of(user)
