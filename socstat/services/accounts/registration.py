"""Self-registration and email confirmation: the unconfirmed account, its confirmation
link, resending it, and confirming the address. Nothing reveals whether an address
already has an account."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from socstat.models.accounts import User
from socstat.models.base import utcnow
from socstat.services import audit
from socstat.services.accounts.base import (
    MSG_CHECK_EMAIL,
    AccountError,
    check_new_password,
    get_user_by_email,
    normalize_email,
    rate_limit,
    send,
    validate_email,
)
from socstat.services.accounts.tokens import CONFIRM, build_link, issue_token, redeem_token
from socstat.services.accounts.users import UserView, create_user_record
from socstat.services.passwords import dummy_verify
from socstat.services.system_settings import self_registration_enabled


def register(session: Session, *, email: str, password: str, name: str = "", ip: str = "") -> str:
    """Self-registration: creates an unconfirmed analyst and emails a confirmation link
    (24 h). Returns the message to show. For an address that already has an account the
    message is the same and the owner gets an email instead (no enumeration)."""
    if not self_registration_enabled(session):
        raise AccountError(
            "Самостоятельная регистрация отключена. Обратитесь к администратору за приглашением."
        )
    email = validate_email(email)
    check_new_password(password, email=email)
    rate_limit("register", ip=ip, recipient=email)
    existing = get_user_by_email(session, email=email)
    if existing is not None:
        dummy_verify(password)
        if existing.confirmed_at is None and existing.password_hash is not None:
            _send_confirmation(session, user=existing)
        else:
            send(
                session,
                to=existing.email,
                template="already_registered",
                context={"user": existing},
            )
        return MSG_CHECK_EMAIL
    user = create_user_record(
        session, email=email, name=name, password=password, confirmed=False, check_policy=False
    )
    audit.record_own(session, user=user, action="auth.registered", ip=ip)
    _send_confirmation(session, user=user)
    return MSG_CHECK_EMAIL


def _send_confirmation(session: Session, *, user: User) -> None:
    link = build_link(CONFIRM, issue_token(session, user=user, purpose=CONFIRM))
    send(session, to=user.email, template="confirm", context={"user": user, "link": link})


def resend_confirmation(session: Session, *, email: str, ip: str = "") -> str:
    """Send a new confirmation link when the address belongs to an unconfirmed account.
    Returns the same message in every case."""
    rate_limit("resend_confirmation", ip=ip, recipient=normalize_email(email))
    user = get_user_by_email(session, email=email)
    if user is None or user.confirmed_at is not None or user.password_hash is None:
        dummy_verify()
        return MSG_CHECK_EMAIL
    _send_confirmation(session, user=user)
    return MSG_CHECK_EMAIL


def confirm_email(session: Session, *, token: str, now: datetime | None = None) -> UserView:
    """Confirm the address of the link's account (single use); AccountError when the link
    is unknown, used or expired."""
    now = now or utcnow()
    row, user = redeem_token(session, token=token, purpose=CONFIRM, now=now, allow_blocked=True)
    row.used_at = now
    user.confirmed_at = user.confirmed_at or now
    session.add_all([row, user])
    audit.record_own(session, user=user, action="auth.confirmed")
    session.flush()
    return UserView.of(user)
