"""Account flows: registration, email confirmation, sign-in (with 2FA and brute-force
throttling), sign-out, password change and reset, invitations, profile, email change.

Every function takes the caller's SQLModel session and leaves committing to the caller
(``session_scope``). Emails are queued in the outbox (``delivery``); the outbox job sends
them after the commit. Requests that send mail are rate-limited per IP and recipient.
User-facing messages are Russian; ``AccountError`` carries one. Messages never reveal
whether an email address has an account.
"""

from __future__ import annotations

import re
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete
from sqlmodel import Session, col, select

from socstat.crypto import hash_token
from socstat.db import KeepChanges
from socstat.models.accounts import LoginAttempt, OneTimeToken, Role, User
from socstat.models.base import utcnow
from socstat.services import audit, delivery, ratelimit, sessions, throttle, twofactor
from socstat.services.delivery import links
from socstat.services.errors import FieldError
from socstat.services.passwords import (
    dummy_verify,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from socstat.services.system_settings import self_registration_enabled

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
MAX_EMAIL_LENGTH = 320

MSG_BAD_CREDENTIALS = "Неверный адрес почты или пароль."
MSG_CHECK_EMAIL = (
    "Мы отправили письмо на указанный адрес. Перейдите по ссылке из письма, чтобы продолжить."
)
MSG_RESET_SENT = (
    "Если этот адрес зарегистрирован, мы отправили на него письмо со ссылкой "
    "для восстановления пароля."
)
MSG_BAD_LINK = "Ссылка недействительна или устарела. Запросите новую."
MSG_UNCONFIRMED = (
    "Адрес почты не подтверждён. Перейдите по ссылке из письма или отправьте письмо ещё раз."
)
MSG_BLOCKED = "Учётная запись заблокирована. Обратитесь к администратору."
MSG_BAD_CODE = "Неверный код. Попробуйте ещё раз."
MSG_EMAIL_CHANGE_SENT = (
    "Мы отправили письмо со ссылкой на новый адрес. Адрес почты изменится, когда вы "
    "откроете ссылку (она действует 24 часа)."
)
MSG_EMAIL_TAKEN = "Этот адрес уже используется другой учётной записью. Адрес почты не изменён."
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(FieldError):
    """A flow step failed; ``str(exc)`` is a Russian message for the UI, ``field`` the
    argument it concerns ("" for none in particular)."""


class WrongSecret(AccountError, KeepChanges):
    """A wrong current password: the failure stays counted (the unit of work commits)."""


@dataclass(frozen=True)
class SignInResult:
    """Outcome of a sign-in step.

    status "ok": ``token`` is a full session token — never hand it to the browser: the UI
      swaps it for a login ticket (``sessions.issue_login_ticket``) that a backend route
      exchanges for the HttpOnly cookie.
    status "needs_2fa": ``token`` is a pending session token — keep it server-side and ask
      for the code, then call ``complete_two_factor``.
    status "error": show ``message``; ``retry_after`` (seconds) is set when throttled;
      ``unconfirmed`` when the UI should offer to resend the confirmation email.
    ``needs_2fa_enrolment``: an admin who must set up 2FA before using the app.
    """

    status: Literal["ok", "needs_2fa", "error"]
    message: str = ""
    token: str | None = None
    user_id: int | None = None
    expires_at: datetime | None = None
    retry_after: int | None = None
    unconfirmed: bool = False
    needs_2fa_enrolment: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# --- helpers --------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    """Trimmed, lowercase email address."""
    return (email or "").strip().lower()


def validate_email(email: str) -> str:
    """The normalized address, or AccountError when it does not look like one."""
    normalized = normalize_email(email)
    if len(normalized) > MAX_EMAIL_LENGTH or not _EMAIL_RE.match(normalized):
        raise AccountError("Введите корректный адрес электронной почты.", field="email")
    return normalized


def get_user_by_email(session: Session, *, email: str) -> User | None:
    """The user with this email (case-insensitive), or None."""
    return session.exec(select(User).where(User.email == normalize_email(email))).first()


def check_new_password(password: str, *, email: str) -> None:
    """AccountError with the policy message when the password is not acceptable."""
    problem = password_problem(password, email=email)
    if problem:
        raise AccountError(problem, field="new_password")


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


def _find_token(
    session: Session, *, token: str, purpose: str, now: datetime
) -> OneTimeToken | None:
    if not token:
        return None
    row = session.exec(
        select(OneTimeToken).where(OneTimeToken.token_hash == hash_token(token.strip()))
    ).first()
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def _invalidate_tokens(session: Session, *, user_id: int, purpose: str, now: datetime) -> None:
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
    return _find_token(session, token=token, purpose=purpose, now=now or utcnow()) is not None


def _send(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, object],
    dedup_key: str | None = None,
) -> None:
    delivery.enqueue_email(session, to=to, template=template, context=context, dedup_key=dedup_key)


def _allowed(action: str, *, ip: str, recipient: str) -> bool:
    try:
        ratelimit.hit(action, ip=ip, recipient=recipient)
    except ratelimit.RateLimited:
        return False
    return True


def _rate_limit(action: str, *, ip: str, recipient: str) -> None:
    if not _allowed(action, ip=ip, recipient=recipient):
        raise AccountError(ratelimit.MSG_LIMITED)


# --- users ----------------------------------------------------------------------------


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


def user_to_dict(user: User) -> dict[str, object]:
    """A user as a plain dict for the UI (no secrets)."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "timezone": user.timezone,
        "totp_enabled": user.totp_enabled,
        "confirmed": user.confirmed_at is not None,
        "invited": user.password_hash is None and user.confirmed_at is None,
        "blocked": user.blocked_at is not None,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


# --- registration and confirmation ----------------------------------------------------


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
    _rate_limit("register", ip=ip, recipient=email)
    existing = get_user_by_email(session, email=email)
    if existing is not None:
        dummy_verify(password)
        if existing.confirmed_at is None and existing.password_hash is not None:
            _send_confirmation(session, user=existing)
        else:
            _send(
                session,
                to=existing.email,
                template="already_registered",
                context={"user": existing},
            )
        return MSG_CHECK_EMAIL
    user = create_user_record(
        session, email=email, name=name, password=password, confirmed=False, check_policy=False
    )
    audit.record(
        session,
        actor=user,
        action="auth.registered",
        target_type="user",
        target_id=user.id or "",
        ip=ip,
    )
    _send_confirmation(session, user=user)
    return MSG_CHECK_EMAIL


def _send_confirmation(session: Session, *, user: User) -> None:
    link = build_link(CONFIRM, issue_token(session, user=user, purpose=CONFIRM))
    _send(session, to=user.email, template="confirm", context={"user": user, "link": link})


def resend_confirmation(session: Session, *, email: str, ip: str = "") -> str:
    """Send a new confirmation link when the address belongs to an unconfirmed account.
    Returns the same message in every case."""
    _rate_limit("resend_confirmation", ip=ip, recipient=normalize_email(email))
    user = get_user_by_email(session, email=email)
    if user is None or user.confirmed_at is not None or user.password_hash is None:
        dummy_verify()
        return MSG_CHECK_EMAIL
    _send_confirmation(session, user=user)
    return MSG_CHECK_EMAIL


def confirm_email(session: Session, *, token: str, now: datetime | None = None) -> User:
    """Confirm the address of the link's account (single use); AccountError when the link
    is unknown, used or expired."""
    now = now or utcnow()
    row = _find_token(session, token=token, purpose=CONFIRM, now=now)
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None:
        raise AccountError(MSG_BAD_LINK)
    row.used_at = now
    user.confirmed_at = user.confirmed_at or now
    session.add_all([row, user])
    audit.record(
        session, actor=user, action="auth.confirmed", target_type="user", target_id=user.id or ""
    )
    session.flush()
    return user


# --- throttling (see services/throttle.py) ---------------------------------------------


def _throttled(until: datetime, now: datetime) -> SignInResult:
    refusal = throttle.Throttled(until, now)
    return SignInResult(status="error", message=str(refusal), retry_after=refusal.retry_after)


def purge_login_attempts(
    session: Session, *, now: datetime | None = None, keep: timedelta = timedelta(days=7)
) -> int:
    """Delete sign-in attempts older than ``keep`` (retention job; throttling looks back
    24 h at most). Returns how many rows were deleted."""
    cutoff = (now or utcnow()) - max(keep, throttle.THROTTLE_LOOKBACK)
    result = session.execute(delete(LoginAttempt).where(col(LoginAttempt.created_at) < cutoff))
    session.flush()
    return int(result.rowcount or 0)


# --- sign in / out --------------------------------------------------------------------


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> SignInResult:
    """First sign-in step. Throttled per account and per client address (atomically: the
    account's row stays locked until the caller commits, see services/throttle.py); the
    same message for unknown emails and wrong passwords."""
    now = now or utcnow()
    email = normalize_email(email)
    ip = (ip or "")[:64]
    user = throttle.lock_account(session, email=email) if email else None
    locked = throttle.throttle_until(session, email=email, ip=ip, now=now)
    if locked is not None:
        return _throttled(locked, now)
    if not verify_password(password, user.password_hash if user else None):
        until = throttle.record_failure(
            session, email=email, ip=ip, user=user, now=now, reason="password"
        )
        if until is not None:
            return _throttled(until, now)
        return SignInResult(status="error", message=MSG_BAD_CREDENTIALS)
    assert user is not None
    if user.blocked_at is not None:
        return SignInResult(status="error", message=MSG_BLOCKED)
    if user.confirmed_at is None:
        return SignInResult(status="error", message=MSG_UNCONFIRMED, unconfirmed=True)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    if user.totp_enabled:
        issued = sessions.create_session(
            session, user=user, ip=ip, user_agent=user_agent, mfa_pending=True, now=now
        )
        return SignInResult(
            status="needs_2fa",
            message="Введите код из приложения.",
            token=issued.token,
            user_id=user.id,
            expires_at=issued.expires_at,
        )
    return _complete_sign_in(session, user=user, ip=ip, user_agent=user_agent, now=now)


def _complete_sign_in(
    session: Session,
    *,
    user: User,
    ip: str,
    user_agent: str,
    now: datetime,
    method: str = "password",
) -> SignInResult:
    throttle.record_success(session, email=user.email, ip=ip, now=now)
    user.last_login_at = now
    session.add(user)
    issued = sessions.create_session(session, user=user, ip=ip, user_agent=user_agent, now=now)
    audit.record(
        session,
        actor=user,
        action="auth.sign_in",
        target_type="user",
        target_id=user.id or "",
        details={"method": method},
        ip=ip,
    )
    return SignInResult(
        status="ok",
        token=issued.token,
        user_id=user.id,
        expires_at=issued.expires_at,
        needs_2fa_enrolment=twofactor.needs_2fa_enrolment(session, user),
    )


def complete_two_factor(
    session: Session,
    *,
    token: str,
    code: str,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> SignInResult:
    """Second sign-in step: ``token`` is the pending token from ``authenticate``, ``code`` a
    TOTP or recovery code. On success the pending session is replaced by a full one (a NEW
    token: replace the cookie). Wrong codes count as failed sign-ins (throttled)."""
    now = now or utcnow()
    pending = sessions.resolve_pending_session(session, token=token, now=now)
    if pending is None:
        return SignInResult(status="error", message="Сеанс входа истёк. Войдите заново.")
    user, row = pending
    ip = (ip or row.ip)[:64]
    throttle.lock_account(session, email=user.email)
    locked = throttle.throttle_until(session, email=user.email, ip=ip, now=now)
    if locked is not None:
        sessions.revoke(row, now=now)
        session.add(row)
        return _throttled(locked, now)
    try:
        verified = twofactor.verify_second_factor(session, user=user, code=code, now=now)
    except twofactor.TwoFactorSecretUnreadable as exc:
        return SignInResult(status="error", message=str(exc), token=token)
    if not verified:
        until = throttle.record_failure(
            session, email=user.email, ip=ip, user=user, now=now, reason="2fa"
        )
        if until is not None:
            sessions.revoke(row, now=now)
            session.add(row)
            return _throttled(until, now)
        return SignInResult(status="error", message=MSG_BAD_CODE, token=token)
    sessions.revoke(row, now=now)
    session.add(row)
    return _complete_sign_in(
        session, user=user, ip=ip, user_agent=user_agent or row.user_agent, now=now, method="2fa"
    )


def sign_out(session: Session, *, token: str | None, ip: str = "") -> None:
    """Revoke the session of this token (no error when it is unknown)."""
    row = sessions.revoke_token(session, token=token)
    if row is not None:
        user = session.get(User, row.user_id)
        audit.record(
            session,
            actor=user,
            action="auth.sign_out",
            target_type="session",
            target_id=row.id or "",
            ip=ip,
        )


def sign_out_everywhere(session: Session, *, user: User, ip: str = "") -> int:
    """Revoke all of the user's sessions, the current one included; returns how many."""
    count = sessions.revoke_user_sessions(session, user_id=user.id or 0)
    audit.record(
        session,
        actor=user,
        action="auth.sign_out_all",
        target_type="user",
        target_id=user.id or "",
        details={"sessions": count},
        ip=ip,
    )
    return count


def revoke_my_session(session: Session, *, user: User, session_id: int, ip: str = "") -> None:
    """Profile page: end one of the user's own sessions."""
    if not sessions.revoke_own_session(session, user=user, session_id=session_id):
        raise AccountError("Сеанс не найден.")
    audit.record(
        session,
        actor=user,
        action="auth.session_revoked",
        target_type="session",
        target_id=session_id,
        ip=ip,
    )


# --- passwords ------------------------------------------------------------------------


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
    if not throttle.check_secret(
        session,
        user=user,
        ip=ip,
        reason="current_password",
        verify=lambda: verify_password(current_password, user.password_hash),
    ):
        raise WrongSecret("Текущий пароль указан неверно.", field="current_password")
    check_new_password(new_password, email=user.email)
    if verify_password(new_password, user.password_hash):
        raise AccountError("Новый пароль совпадает с текущим.", field="new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    session.add(user)
    current = sessions.find_session(session, token=current_token)
    keep = current.id if current is not None and current.user_id == user.id else None
    count = sessions.revoke_user_sessions(session, user_id=user.id or 0, except_session_id=keep)
    audit.record(
        session,
        actor=user,
        action="auth.password_changed",
        target_type="user",
        target_id=user.id or "",
        ip=ip,
    )
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
    _rate_limit("password_reset", ip=ip, recipient=address)
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
    _invalidate_tokens(session, user_id=user_id if sending else 0, purpose=RESET, now=now)
    if user is not None and sending:
        link = build_link(RESET, issue_token(session, user=user, purpose=RESET, now=now))
        _send(session, to=user.email, template="reset", context={"user": user, "link": link})
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
) -> User:
    """Set a new password from a reset link; confirms the address and revokes every
    session. AccountError for a bad link or a password the policy refuses."""
    now = now or utcnow()
    row = _find_token(session, token=token, purpose=RESET, now=now)
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or user.blocked_at is not None:
        raise AccountError(MSG_BAD_LINK)
    check_new_password(new_password, email=user.email)
    row.used_at = now
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    user.confirmed_at = user.confirmed_at or now
    session.add_all([row, user])
    sessions.revoke_user_sessions(session, user_id=user.id or 0, now=now)
    audit.record(
        session,
        actor=user,
        action="auth.password_reset",
        target_type="user",
        target_id=user.id or "",
        ip=ip,
    )
    session.flush()
    return user


# --- invitations ----------------------------------------------------------------------


def send_invitation(session: Session, *, user: User, invited_by: User | None = None) -> None:
    """Email an invitation link (72 h) to set a password; used by admin.invite_user."""
    _invalidate_tokens(session, user_id=user.id or 0, purpose=INVITE, now=utcnow())
    link = build_link(INVITE, issue_token(session, user=user, purpose=INVITE))
    who = (invited_by.name or invited_by.email) if invited_by is not None else ""
    _send(
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
) -> User:
    """Set the password of an invited account from its link (single use); the account is
    confirmed. The UI then signs the user in with ``authenticate``."""
    now = now or utcnow()
    row = _find_token(session, token=token, purpose=INVITE, now=now)
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or user.blocked_at is not None:
        raise AccountError(MSG_BAD_LINK)
    check_new_password(password, email=user.email)
    row.used_at = now
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.confirmed_at = user.confirmed_at or now
    if name is not None and name.strip():
        user.name = name.strip()[:200]
    session.add_all([row, user])
    audit.record(
        session,
        actor=user,
        action="auth.invitation_accepted",
        target_type="user",
        target_id=user.id or "",
        ip=ip,
    )
    session.flush()
    return user


# --- profile --------------------------------------------------------------------------


def update_profile(session: Session, *, user: User, name: str, timezone: str | None = None) -> User:
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
    return user


# --- email change ---------------------------------------------------------------------


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
    if not throttle.check_secret(
        session,
        user=user,
        ip=ip,
        reason="current_password",
        verify=lambda: verify_password(current_password, user.password_hash),
    ):
        raise WrongSecret("Текущий пароль указан неверно.", field="current_password")
    address = normalize_email(new_email)
    if not _allowed("email_change", ip=ip, recipient=address):
        raise AccountError(ratelimit.MSG_LIMITED, field="new_email")
    owner = get_user_by_email(session, email=address)
    _invalidate_tokens(session, user_id=user.id or 0, purpose=EMAIL_CHANGE, now=now)
    # Minted in both cases so the pending state looks the same; when the address is taken
    # the link is never sent (nobody knows it) and confirming would refuse anyway.
    token = issue_token(session, user=user, purpose=EMAIL_CHANGE, now=now, new_email=address)
    if owner is None:
        link = build_link(EMAIL_CHANGE, token)
        _send(
            session,
            to=address,
            template="email_change_confirm",
            context={"user": user, "link": link},
        )
    else:
        _send(session, to=owner.email, template="email_change_taken", context={"user": owner})
    _send(
        session,
        to=user.email,
        template="email_change_notice",
        context={"user": user, "new_email": address},
    )
    audit.record(
        session,
        actor=user,
        action="user.email_change_requested",
        target_type="user",
        target_id=user.id or "",
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
    _invalidate_tokens(session, user_id=user.id or 0, purpose=EMAIL_CHANGE, now=now)
    audit.record(
        session,
        actor=user,
        action="user.email_change_cancelled",
        target_type="user",
        target_id=user.id or "",
        ip=ip,
    )
    session.flush()
    return True


def confirm_email_change(
    session: Session,
    *,
    token: str,
    ip: str = "",
    current_token: str | None = None,
    now: datetime | None = None,
) -> User:
    """Switch the account of an email change link to its new address (single use).

    AccountError with MSG_BAD_LINK when the link is unknown, used, superseded or expired
    (or the account blocked), with MSG_EMAIL_TAKEN when another account took the address
    meanwhile. Every other link of the account (the older address's reset and
    confirmation links included) stops working, and so does every session of the account
    except the one of ``current_token`` (the browser that opened the link, when it is
    signed in to this account).
    """
    now = now or utcnow()
    row = _find_token(session, token=token, purpose=EMAIL_CHANGE, now=now)
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or user.blocked_at is not None or not row.new_email:
        raise AccountError(MSG_BAD_LINK)
    address = normalize_email(row.new_email)
    owner = get_user_by_email(session, email=address)
    if owner is not None and owner.id != user.id:
        raise AccountError(MSG_EMAIL_TAKEN)
    old = user.email
    for purpose in (EMAIL_CHANGE, RESET, CONFIRM, INVITE):
        _invalidate_tokens(session, user_id=user.id or 0, purpose=purpose, now=now)
    row.used_at = now
    user.email = address
    user.confirmed_at = user.confirmed_at or now
    session.add_all([row, user])
    current = sessions.find_session(session, token=current_token, now=now)
    keep = current.id if current is not None and current.user_id == user.id else None
    ended = sessions.revoke_user_sessions(
        session, user_id=user.id or 0, except_session_id=keep, now=now
    )
    audit.record(
        session,
        actor=user,
        action="user.email_changed",
        target_type="user",
        target_id=user.id or "",
        details={"old_email": old, "new_email": address, "sessions_ended": ended},
        ip=ip,
    )
    session.flush()
    return user
