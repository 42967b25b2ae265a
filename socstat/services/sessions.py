"""Server-side sign-in sessions.

Contract for the UI: the browser keeps the raw session token only in an HttpOnly cookie
(``COOKIE_NAME``; SameSite=Lax, Secure on https) that a backend HTTP route sets — never in
client-visible state or a cookie JavaScript can read. The database stores only
``hash_token(token)``. After a successful sign-in the UI calls ``issue_login_ticket`` and
sends the browser to the route, which calls ``redeem_login_ticket``: the ticket is
single-use, lives ``TICKET_LIFETIME``, and redeeming it gives the session a NEW token (the
one the sign-in returned stops working), which goes into the cookie. Page handlers read the
cookie from the websocket's request headers (``token_from_cookie_header``) and call
``resolve_session(session, token=...)`` to get the user, or None (sign in again).

A session expires after ``IDLE_TIMEOUT`` without use (sliding) and at the latest at
``ABSOLUTE_LIFETIME`` after sign-in. A session created with ``mfa_pending=True`` lives
``MFA_PENDING_LIFETIME`` and is useful only for the second sign-in step;
``resolve_session`` ignores it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from socstat.crypto import hash_token
from socstat.models.accounts import AuthSession, User
from socstat.models.base import utcnow

IDLE_TIMEOUT = timedelta(days=7)
ABSOLUTE_LIFETIME = timedelta(days=30)
MFA_PENDING_LIFETIME = timedelta(minutes=10)
TOUCH_INTERVAL = timedelta(minutes=1)
TICKET_LIFETIME = timedelta(seconds=60)
COOKIE_NAME = "socstat_session"


@dataclass(frozen=True)
class IssuedSession:
    """A freshly minted session: give ``token`` to the browser, never store it server-side."""

    token: str
    session_id: int
    expires_at: datetime
    mfa_pending: bool


def create_session(
    session: Session,
    *,
    user: User,
    ip: str = "",
    user_agent: str = "",
    mfa_pending: bool = False,
    now: datetime | None = None,
) -> IssuedSession:
    """Mint a session token for ``user`` (only its hash is stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    lifetime = MFA_PENDING_LIFETIME if mfa_pending else ABSOLUTE_LIFETIME
    row = AuthSession(
        user_id=user.id or 0,
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        mfa_pending=mfa_pending,
        ip=(ip or "")[:64],
        user_agent=(user_agent or "")[:512],
    )
    session.add(row)
    session.flush()
    return IssuedSession(
        token=token, session_id=row.id or 0, expires_at=row.expires_at, mfa_pending=mfa_pending
    )


def _is_live(row: AuthSession, now: datetime) -> bool:
    if row.revoked_at is not None or row.expires_at <= now:
        return False
    return row.mfa_pending or row.last_seen_at + IDLE_TIMEOUT > now


def find_session(
    session: Session, *, token: str | None, now: datetime | None = None
) -> AuthSession | None:
    """The live session row (full or pending) for a raw token, or None."""
    if not token:
        return None
    now = now or utcnow()
    row = session.exec(_BY_TOKEN, params={"token_hash": hash_token(token)}).first()
    if row is None or not _is_live(row, now):
        return None
    return row


# Built once: every event of a signed-in page resolves its session, and building the
# statement anew cost SQLAlchemy more than the read.
_BY_TOKEN = select(AuthSession).where(AuthSession.token_hash == bindparam("token_hash"))
_WITH_USER = (
    select(AuthSession, User)
    .join(User, col(User.id) == AuthSession.user_id)
    .where(AuthSession.token_hash == bindparam("token_hash"))
)


def _active_user(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    if user is None or user.blocked_at is not None:
        return None
    return user


def resolve_session(
    session: Session, *, token: str | None, now: datetime | None = None
) -> User | None:
    """The signed-in user for a raw session token, or None (unknown, revoked, expired,
    still waiting for the second factor, or the user is blocked). Slides the idle expiry:
    ``last_seen_at`` is updated at most once a minute (the caller commits)."""
    if not token:
        return None
    now = now or utcnow()
    found = session.exec(_WITH_USER, params={"token_hash": hash_token(token)}).first()
    if found is None:
        return None
    row, user = found  # one read: the session with its user
    if not _is_live(row, now) or row.mfa_pending or user.blocked_at is not None:
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        session.add(row)
        session.flush()
    return user


def resolve_pending_session(
    session: Session, *, token: str | None, now: datetime | None = None
) -> tuple[User, AuthSession] | None:
    """For the second sign-in step: the user and the live ``mfa_pending`` session."""
    row = find_session(session, token=token, now=now)
    if row is None or not row.mfa_pending:
        return None
    user = _active_user(session, row.user_id)
    return (user, row) if user is not None else None


def token_from_cookie_header(header: str | None) -> str | None:
    """The raw session token in a request's ``Cookie`` header, or None."""
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE_NAME)
    return morsel.value if morsel is not None and morsel.value else None


def issue_login_ticket(
    session: Session, *, token: str | None, now: datetime | None = None
) -> str | None:
    """A single-use ticket (``TICKET_LIFETIME``) for the full session of ``token``, to be
    exchanged by the browser for the session cookie; None when the session is not live.
    A newer ticket replaces an older one."""
    now = now or utcnow()
    row = find_session(session, token=token, now=now)
    if row is None or row.mfa_pending:
        return None
    ticket = secrets.token_urlsafe(32)
    row.ticket_hash = hash_token(ticket)
    row.ticket_expires_at = now + TICKET_LIFETIME
    session.add(row)
    session.flush()
    return ticket


def redeem_login_ticket(
    session: Session, *, ticket: str | None, now: datetime | None = None
) -> IssuedSession | None:
    """Exchange a login ticket for a fresh token of its session (the session's previous
    token stops working). None when the ticket is unknown, used, expired, or its session
    is no longer live. One atomic UPDATE: two redemptions of one ticket cannot both win."""
    if not ticket:
        return None
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    result = session.execute(
        update(AuthSession)
        .where(
            col(AuthSession.ticket_hash) == hash_token(ticket),
            col(AuthSession.ticket_expires_at) > now,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.mfa_pending).is_(False),
            col(AuthSession.expires_at) > now,
        )
        .values(ticket_hash=None, ticket_expires_at=None, token_hash=hash_token(token))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    row = find_session(session, token=token, now=now)
    if row is None or _active_user(session, row.user_id) is None:
        return None
    session.refresh(row)
    return IssuedSession(
        token=token, session_id=row.id or 0, expires_at=row.expires_at, mfa_pending=False
    )


def revoke(row: AuthSession, *, now: datetime | None = None) -> None:
    """Mark one session row revoked (the caller's session must hold the row)."""
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()


def revoke_token(
    session: Session, *, token: str | None, now: datetime | None = None
) -> AuthSession | None:
    """Revoke the session of a raw token (sign out); returns the row or None if unknown."""
    if not token:
        return None
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    revoke(row, now=now)
    session.add(row)
    session.flush()
    return row


def revoke_other_sessions(
    session: Session, *, user: User, current_token: str | None, now: datetime | None = None
) -> int:
    """Revoke every open session of ``user`` but the one of ``current_token`` (when it is
    theirs: the browser that made the change stays signed in); returns how many."""
    current = find_session(session, token=current_token, now=now)
    keep = current.id if current is not None and current.user_id == user.id else None
    return revoke_user_sessions(session, user_id=user.id or 0, except_session_id=keep, now=now)


def revoke_user_sessions(
    session: Session,
    *,
    user_id: int,
    except_session_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Revoke every open session of a user (optionally keeping one); returns how many."""
    now = now or utcnow()
    stmt = (
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    if except_session_id is not None:
        stmt = stmt.where(col(AuthSession.id) != except_session_id)
    result = session.execute(stmt.execution_options(synchronize_session="fetch"))
    session.flush()
    return int(result.rowcount or 0)


def revoke_own_session(
    session: Session, *, user: User, session_id: int, now: datetime | None = None
) -> bool:
    """Revoke one of the user's own sessions (profile page); False if not theirs."""
    row = session.get(AuthSession, session_id)
    if row is None or row.user_id != user.id:
        return False
    revoke(row, now=now)
    session.add(row)
    session.flush()
    return True


def session_to_dict(row: AuthSession, *, current_id: int | None = None) -> dict[str, Any]:
    """A session as a plain dict for the profile page."""
    return {
        "id": row.id,
        "created_at": row.created_at,
        "last_seen_at": row.last_seen_at,
        "expires_at": row.expires_at,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "current": row.id == current_id,
    }


def list_active_sessions(
    session: Session, *, user: User, current_token: str | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The user's live full sessions, most recently used first; ``current`` marks the one
    of ``current_token``."""
    now = now or utcnow()
    rows = session.exec(
        select(AuthSession)
        .where(
            AuthSession.user_id == user.id,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.mfa_pending).is_(False),
            AuthSession.expires_at > now,
        )
        .order_by(col(AuthSession.last_seen_at).desc())
    ).all()
    current = find_session(session, token=current_token, now=now)
    current_id = current.id if current is not None else None
    return [session_to_dict(r, current_id=current_id) for r in rows if _is_live(r, now)]


def purge_expired(
    session: Session, *, now: datetime | None = None, keep: timedelta = timedelta(days=30)
) -> int:
    """Delete sessions that ended more than ``keep`` ago (retention job); returns how many."""
    now = now or utcnow()
    cutoff = now - keep
    rows = session.exec(
        select(AuthSession).where(
            (AuthSession.expires_at < cutoff) | (col(AuthSession.revoked_at) < cutoff)
        )
    ).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)
