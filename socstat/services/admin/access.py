"""A user's access as the admin controls it: blocking and unblocking, resetting two-factor
(a lost phone) and ending every session of a user."""

from __future__ import annotations

from sqlmodel import Session

from socstat.models.accounts import User
from socstat.models.base import utcnow
from socstat.services import sessions, twofactor
from socstat.services.accounts import UserView
from socstat.services.admin.base import AdminError, record, user_row
from socstat.services.authz import require_admin


def block_user(session: Session, *, actor: User | None, user_id: int, ip: str = "") -> UserView:
    """Block a user: every session stops working at once (not oneself)."""
    admin = require_admin(actor)
    user = user_row(session, user_id)
    if user.id == admin.id:
        raise AdminError("Нельзя заблокировать собственную учётную запись.")
    if user.blocked_at is None:
        user.blocked_at = utcnow()
        session.add(user)
        count = sessions.revoke_user_sessions(session, user_id=user_id)
        record(
            session,
            actor=actor,
            action="user.blocked",
            target=user,
            details={"sessions_revoked": count},
            ip=ip,
        )
    return UserView.of(user)


def unblock_user(session: Session, *, actor: User | None, user_id: int, ip: str = "") -> UserView:
    """Lift a block."""
    require_admin(actor)
    user = user_row(session, user_id)
    if user.blocked_at is not None:
        user.blocked_at = None
        session.add(user)
        session.flush()
        record(session, actor=actor, action="user.unblocked", target=user, ip=ip)
    return UserView.of(user)


def reset_two_factor(session: Session, *, actor: User | None, user_id: int, ip: str = "") -> None:
    """Turn off a user's 2FA (lost phone); their sessions are revoked."""
    require_admin(actor)
    user = user_row(session, user_id)
    twofactor.clear_two_factor(session, user=user)
    sessions.revoke_user_sessions(session, user_id=user_id)
    record(session, actor=actor, action="auth.2fa_reset", target=user, ip=ip)


def revoke_user_sessions(
    session: Session, *, actor: User | None, user_id: int, ip: str = ""
) -> int:
    """End every session of a user; returns how many."""
    require_admin(actor)
    user = user_row(session, user_id)
    count = sessions.revoke_user_sessions(session, user_id=user_id)
    record(
        session,
        actor=actor,
        action="user.sessions_revoked",
        target=user,
        details={"sessions": count},
        ip=ip,
    )
    return count
