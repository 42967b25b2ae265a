"""Invitations: the emailed link (72 h) an admin's invitation sends, and accepting it
by setting a password."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from socstat.models.accounts import User
from socstat.models.base import utcnow
from socstat.services import audit
from socstat.services.accounts.base import send
from socstat.services.accounts.tokens import (
    INVITE,
    build_link,
    invalidate_tokens,
    issue_token,
    redeem_token,
)
from socstat.services.accounts.users import UserView, set_password_from_link


def send_invitation(session: Session, *, user: User, invited_by: User | None = None) -> None:
    """Email an invitation link (72 h) to set a password; used by admin.invite_user."""
    invalidate_tokens(session, user_id=user.id or 0, purpose=INVITE, now=utcnow())
    link = build_link(INVITE, issue_token(session, user=user, purpose=INVITE))
    who = (invited_by.name or invited_by.email) if invited_by is not None else ""
    send(
        session,
        to=user.email,
        template="invite",
        context={"user": user, "link": link, "invited_by": who},
    )


def accept_invitation(
    session: Session,
    *,
    token: str,
    password: str,
    name: str | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> UserView:
    """Set the password of an invited account from its link (single use); the account is
    confirmed. The UI then signs the user in with ``authenticate``."""
    now = now or utcnow()
    row, user = redeem_token(session, token=token, purpose=INVITE, now=now)
    set_password_from_link(user, password=password, now=now)
    row.used_at = now
    if name is not None and name.strip():
        user.name = name.strip()[:200]
    session.add_all([row, user])
    audit.record_own(session, user=user, action="auth.invitation_accepted", ip=ip)
    session.flush()
    return UserView.of(user)
