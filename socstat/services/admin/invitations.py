"""Inviting a user: the account without a password, the emailed link (see
``accounts.send_invitation``) and sending a fresh link."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from socstat.models.accounts import User
from socstat.services import accounts
from socstat.services.accounts import UserView
from socstat.services.admin.base import AdminError, record, user_row
from socstat.services.authz import require_admin


def invite_user(
    session: Session, *, actor: User | None, email: str, role: str, name: str = "", ip: str = ""
) -> UserView:
    """Create an account without a password and email an invitation link (72 h)."""
    admin = require_admin(actor)
    user = accounts.create_user_record(
        session, email=email, role=role, name=name, password=None, confirmed=False
    )
    _send(session, admin=admin, user=user, details={"email": user.email, "role": role}, ip=ip)
    return UserView.of(user)


def resend_invitation(session: Session, *, actor: User | None, user_id: int, ip: str = "") -> None:
    """Send a fresh invitation link to an account that has not set a password yet."""
    admin = require_admin(actor)
    user = user_row(session, user_id)
    if user.password_hash is not None:
        raise AdminError("Пользователь уже задал пароль.")
    _send(session, admin=admin, user=user, details={"email": user.email, "resend": True}, ip=ip)


def _send(session: Session, *, admin: User, user: User, details: dict[str, Any], ip: str) -> None:
    accounts.send_invitation(session, user=user, invited_by=admin)
    record(session, actor=admin, action="user.invited", target=user, details=details, ip=ip)
