"""Changing one's own email address: the request (current password, link to the new
address, notice to the old one), the pending state, cancelling, and confirming by link.
Nothing reveals whether the new address has an account."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from socstat.models.accounts import OneTimeToken, User
from socstat.models.base import utcnow
from socstat.services import audit, ratelimit, sessions
from socstat.services.accounts.base import (
    MAX_EMAIL_LENGTH,
    MSG_BAD_LINK,
    MSG_BLOCKED,
    AccountError,
    allowed,
    get_user_by_email,
    normalize_email,
    require_current_password,
    send,
    validate_email,
)
from socstat.services.accounts.tokens import (
    CONFIRM,
    EMAIL_CHANGE,
    INVITE,
    RESET,
    build_link,
    invalidate_tokens,
    issue_token,
    redeem_token,
)
from socstat.services.accounts.users import UserView

MSG_EMAIL_CHANGE_SENT = (
    "Мы отправили письмо со ссылкой на новый адрес. Адрес почты изменится, когда вы "
    "откроете ссылку (она действует 24 часа)."
)
MSG_EMAIL_TAKEN = "Этот адрес уже используется другой учётной записью. Адрес почты не изменён."


def new_email_problem(new_email: str, *, current_email: str) -> str | None:
    """Why ``new_email`` cannot be requested as the new address (format, length, same as
    the current one), or None. Says nothing about other accounts."""
    normalized = normalize_email(new_email)
    if not normalized:
        return "Введите новый адрес почты."
    if len(normalized) > MAX_EMAIL_LENGTH:
        return f"Адрес слишком длинный: не более {MAX_EMAIL_LENGTH} символов."
    try:
        validate_email(normalized)
    except AccountError as exc:
        return str(exc)
    if normalized == normalize_email(current_email):
        return "Это ваш текущий адрес почты."
    return None


def _pending_email_changes(session: Session, *, user_id: int, now: datetime) -> list[OneTimeToken]:
    return list(
        session.exec(
            select(OneTimeToken)
            .where(
                OneTimeToken.user_id == user_id,
                OneTimeToken.purpose == EMAIL_CHANGE,
                col(OneTimeToken.used_at).is_(None),
                OneTimeToken.expires_at > now,
            )
            .order_by(col(OneTimeToken.created_at).desc(), col(OneTimeToken.id).desc())
        ).all()
    )


def pending_email_change(
    session: Session, *, user: User, now: datetime | None = None
) -> str | None:
    """The address of the user's own pending (requested, not yet confirmed) change."""
    rows = _pending_email_changes(session, user_id=user.id or 0, now=now or utcnow())
    return rows[0].new_email if rows else None


def request_email_change(
    session: Session,
    *,
    user: User,
    new_email: str,
    current_password: str,
    ip: str = "",
    now: datetime | None = None,
) -> str:
    """Ask to move ``user``'s own account to ``new_email`` (needs the current password).

    The address does not change here: a link (24 h, single use) goes to the new address
    and a notice to the current one; ``confirm_email_change`` switches when the link is
    opened. A newer request supersedes older pending ones. When the new address belongs
    to another account the answer, the notice and the pending state are the same, but no
    link is sent — its owner gets an email instead (as with registration, nothing reveals
    whether an address has an account). Raises AccountError (with its ``field``) for bad
    input or a wrong password; returns the message to show.
    """
    now = now or utcnow()
    problem = new_email_problem(new_email, current_email=user.email)
    if problem:
        raise AccountError(problem, field="new_email")
    if user.blocked_at is not None:
        raise AccountError(MSG_BLOCKED)
    require_current_password(session, user=user, password=current_password, ip=ip)
    address = normalize_email(new_email)
    if not allowed("email_change", ip=ip, recipient=address):
        raise AccountError(ratelimit.MSG_LIMITED, field="new_email")
    owner = get_user_by_email(session, email=address)
    invalidate_tokens(session, user_id=user.id or 0, purpose=EMAIL_CHANGE, now=now)
    # Minted in both cases so the pending state looks the same; when the address is taken
    # the link is never sent (nobody knows it) and confirming would refuse anyway.
    token = issue_token(session, user=user, purpose=EMAIL_CHANGE, now=now, new_email=address)
    if owner is None:
        link = build_link(EMAIL_CHANGE, token)
        send(
            session,
            to=address,
            template="email_change_confirm",
            context={"user": user, "link": link},
        )
    else:
        send(session, to=owner.email, template="email_change_taken", context={"user": owner})
    send(
        session,
        to=user.email,
        template="email_change_notice",
        context={"user": user, "new_email": address},
    )
    audit.record_own(
        session,
        user=user,
        action="user.email_change_requested",
        details={"old_email": user.email, "new_email": address},
        ip=ip,
    )
    session.flush()
    return MSG_EMAIL_CHANGE_SENT


def cancel_email_change(
    session: Session, *, user: User, ip: str = "", now: datetime | None = None
) -> bool:
    """Withdraw the user's own pending email change (its link stops working); False when
    there was none."""
    now = now or utcnow()
    if not _pending_email_changes(session, user_id=user.id or 0, now=now):
        return False
    invalidate_tokens(session, user_id=user.id or 0, purpose=EMAIL_CHANGE, now=now)
    audit.record_own(session, user=user, action="user.email_change_cancelled", ip=ip)
    session.flush()
    return True


def confirm_email_change(
    session: Session,
    *,
    token: str,
    ip: str = "",
    current_token: str | None = None,
    now: datetime | None = None,
) -> UserView:
    """Switch the account of an email change link to its new address (single use).

    AccountError with MSG_BAD_LINK when the link is unknown, used, superseded or expired
    (or the account blocked), with MSG_EMAIL_TAKEN when another account took the address
    meanwhile. Every other link of the account (the older address's reset and
    confirmation links included) stops working, and so does every session of the account
    except the one of ``current_token`` (the browser that opened the link, when it is
    signed in to this account).
    """
    now = now or utcnow()
    row, user = redeem_token(session, token=token, purpose=EMAIL_CHANGE, now=now)
    if not row.new_email:
        raise AccountError(MSG_BAD_LINK)
    address = normalize_email(row.new_email)
    owner = get_user_by_email(session, email=address)
    if owner is not None and owner.id != user.id:
        raise AccountError(MSG_EMAIL_TAKEN)
    old = user.email
    for purpose in (EMAIL_CHANGE, RESET, CONFIRM, INVITE):
        invalidate_tokens(session, user_id=user.id or 0, purpose=purpose, now=now)
    row.used_at = now
    user.email = address
    user.confirmed_at = user.confirmed_at or now
    session.add_all([row, user])
    ended = sessions.revoke_other_sessions(session, user=user, current_token=current_token, now=now)
    audit.record_own(
        session,
        user=user,
        action="user.email_changed",
        details={"old_email": old, "new_email": address, "sessions_ended": ended},
        ip=ip,
    )
    session.flush()
    return UserView.of(user)
