"""Passwords: changing one's own (with the current one, through the sign-in throttle)
and resetting a forgotten one by an emailed link."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from socstat.models.accounts import OneTimeToken, User
from socstat.models.base import utcnow
from socstat.services import audit, sessions
from socstat.services.accounts.base import (
    AccountError,
    check_new_password,
    get_user_by_email,
    normalize_email,
    rate_limit,
    require_current_password,
    send,
)
from socstat.services.accounts.tokens import (
    RESET,
    build_link,
    invalidate_tokens,
    issue_token,
    redeem_token,
)
from socstat.services.accounts.users import UserView, set_password_from_link
from socstat.services.passwords import hash_password, verify_password

MSG_RESET_SENT = (
    "Если этот адрес зарегистрирован, мы отправили на него письмо со ссылкой "
    "для восстановления пароля."
)


def change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    current_token: str | None = None,
    ip: str = "",
) -> int:
    """Change the password (needs the current one, checked in the sign-in throttle); every
    other session is revoked, the one of ``current_token`` is kept. Returns how many
    sessions were revoked."""
    require_current_password(session, user=user, password=current_password, ip=ip)
    check_new_password(new_password, email=user.email)
    if verify_password(new_password, user.password_hash):
        raise AccountError("Новый пароль совпадает с текущим.", field="new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    session.add(user)
    count = sessions.revoke_other_sessions(session, user=user, current_token=current_token)
    audit.record_own(session, user=user, action="auth.password_changed", ip=ip)
    return count


def request_password_reset(
    session: Session, *, email: str, ip: str = "", now: datetime | None = None
) -> str:
    """Email a reset link (1 h, single use) when the address has an active account.
    Returns the same message in every case. Known and unknown addresses take the same
    path — the same queries, the audit entry, no password hashing, the email only queued —
    so the answer's timing does not tell them apart."""
    now = now or utcnow()
    address = normalize_email(email)
    rate_limit("password_reset", ip=ip, recipient=address)
    found = get_user_by_email(session, email=address)
    user = found if found is not None and found.blocked_at is None else None
    user_id = user.id or 0 if user is not None else 0
    recent = session.exec(
        select(OneTimeToken).where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == RESET,
            OneTimeToken.created_at > now - timedelta(minutes=1),
        )
    ).first()
    sending = user is not None and recent is None  # at most one email a minute per account
    invalidate_tokens(session, user_id=user_id if sending else 0, purpose=RESET, now=now)
    if user is not None and sending:
        link = build_link(RESET, issue_token(session, user=user, purpose=RESET, now=now))
        send(session, to=user.email, template="reset", context={"user": user, "link": link})
    audit.record(
        session,
        actor=None,
        action="auth.password_reset_requested",
        target_type="user",
        target_id=user_id or "",
        details={"email": address},
        ip=ip,
    )
    session.flush()
    return MSG_RESET_SENT


def reset_password(
    session: Session, *, token: str, new_password: str, ip: str = "", now: datetime | None = None
) -> UserView:
    """Set a new password from a reset link; confirms the address and revokes every
    session. AccountError for a bad link or a password the policy refuses."""
    now = now or utcnow()
    row, user = redeem_token(session, token=token, purpose=RESET, now=now)
    set_password_from_link(user, password=new_password, now=now)
    row.used_at = now
    session.add_all([row, user])
    sessions.revoke_user_sessions(session, user_id=user.id or 0, now=now)
    audit.record_own(session, user=user, action="auth.password_reset", ip=ip)
    session.flush()
    return UserView.of(user)
