"""Single-use link tokens (confirmation, reset, invitation, email change): minting (only
the hash is stored), lookup, invalidation, redemption and the absolute links."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from socstat.crypto import hash_token
from socstat.models.accounts import OneTimeToken, User
from socstat.models.base import utcnow
from socstat.services.accounts.base import MSG_BAD_LINK, AccountError
from socstat.services.delivery import links

CONFIRM = "confirm"
RESET = "reset"
INVITE = "invite"
EMAIL_CHANGE = "email_change"
TOKEN_LIFETIMES = {
    CONFIRM: timedelta(hours=24),
    RESET: timedelta(hours=1),
    INVITE: timedelta(hours=72),
    EMAIL_CHANGE: timedelta(hours=24),
}
LINK_PATHS = {
    CONFIRM: "/confirm",
    RESET: "/reset-password",
    INVITE: "/invite",
    EMAIL_CHANGE: "/confirm-email",
}


def build_link(purpose: str, token: str) -> str:
    """The absolute link for a one-time token, e.g. {base_url}/confirm?token=..."""
    return links.url(LINK_PATHS[purpose], token=token)


def issue_token(
    session: Session,
    *,
    user: User,
    purpose: str,
    now: datetime | None = None,
    new_email: str | None = None,
) -> str:
    """Mint a single-use link token for ``purpose`` (only its hash is stored);
    ``new_email`` is the address an EMAIL_CHANGE link switches to."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        OneTimeToken(
            user_id=user.id or 0,
            purpose=purpose,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + TOKEN_LIFETIMES[purpose],
            new_email=new_email,
        )
    )
    session.flush()
    return token


def find_token(session: Session, *, token: str, purpose: str, now: datetime) -> OneTimeToken | None:
    """The usable (unused, unexpired) token row of this purpose, or None."""
    if not token:
        return None
    row = session.exec(
        select(OneTimeToken).where(OneTimeToken.token_hash == hash_token(token.strip()))
    ).first()
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def redeem_token(
    session: Session, *, token: str, purpose: str, now: datetime, allow_blocked: bool = False
) -> tuple[OneTimeToken, User]:
    """The usable token row and its account; AccountError(MSG_BAD_LINK) when the link is
    unknown, used or expired, or (unless ``allow_blocked``) the account is blocked."""
    row = find_token(session, token=token, purpose=purpose, now=now)
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or (user.blocked_at is not None and not allow_blocked):
        raise AccountError(MSG_BAD_LINK)
    return row, user


def invalidate_tokens(session: Session, *, user_id: int, purpose: str, now: datetime) -> None:
    """Mark every unused token of this purpose of the account as used."""
    rows = session.exec(
        select(OneTimeToken).where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose,
            col(OneTimeToken.used_at).is_(None),
        )
    ).all()
    for row in rows:
        row.used_at = now
        session.add(row)


def check_link_token(
    session: Session, *, token: str, purpose: str, now: datetime | None = None
) -> bool:
    """True when a confirm/reset/invite link token is still usable (for showing the form)."""
    return find_token(session, token=token, purpose=purpose, now=now or utcnow()) is not None
