"""Sign-in and sign-out: the password step (throttled per account and client address),
the second factor, the session that results, purging old sign-in attempts, and ending
one's own sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete
from sqlmodel import Session, col

from socstat.models.accounts import LoginAttempt, User
from socstat.models.base import utcnow
from socstat.services import audit, sessions, throttle, twofactor
from socstat.services.accounts.base import MSG_BLOCKED, AccountError, normalize_email
from socstat.services.passwords import hash_password, needs_rehash, verify_password

MSG_BAD_CREDENTIALS = "Неверный адрес почты или пароль."
MSG_UNCONFIRMED = (
    "Адрес почты не подтверждён. Перейдите по ссылке из письма или отправьте письмо ещё раз."
)
MSG_BAD_CODE = "Неверный код. Попробуйте ещё раз."


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


def _throttled(until: datetime, now: datetime) -> SignInResult:
    refusal = throttle.Throttled(until, now)
    return SignInResult(status="error", message=str(refusal), retry_after=refusal.retry_after)


def _failed(
    session: Session,
    *,
    email: str,
    ip: str,
    user: User | None,
    now: datetime,
    refusal: SignInResult,
    reason: str = "password",
) -> SignInResult:
    """Count a failed sign-in step: ``refusal``, or the throttle's answer when this
    failure locks the account or the address."""
    until = throttle.record_failure(session, email=email, ip=ip, user=user, now=now, reason=reason)
    return _throttled(until, now) if until is not None else refusal


def purge_login_attempts(
    session: Session, *, now: datetime | None = None, keep: timedelta = timedelta(days=7)
) -> int:
    """Delete sign-in attempts older than ``keep`` (retention job; throttling looks back
    24 h at most). Returns how many rows were deleted."""
    cutoff = (now or utcnow()) - max(keep, throttle.THROTTLE_LOOKBACK)
    result = session.execute(delete(LoginAttempt).where(col(LoginAttempt.created_at) < cutoff))
    session.flush()
    return int(result.rowcount or 0)


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
        refusal = SignInResult(status="error", message=MSG_BAD_CREDENTIALS)
        return _failed(session, email=email, ip=ip, user=user, now=now, refusal=refusal)
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
    audit.record_own(session, user=user, action="auth.sign_in", details={"method": method}, ip=ip)
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
    refusal = _throttled(locked, now) if locked is not None else None
    if refusal is None:
        try:
            verified = twofactor.verify_second_factor(session, user=user, code=code, now=now)
        except twofactor.TwoFactorSecretUnreadable as exc:
            return SignInResult(status="error", message=str(exc), token=token)
        if not verified:
            wrong = SignInResult(status="error", message=MSG_BAD_CODE, token=token)
            refusal = _failed(
                session, email=user.email, ip=ip, user=user, now=now, refusal=wrong, reason="2fa"
            )
            if refusal is wrong:
                return wrong  # another try with the same pending session
    sessions.revoke(row, now=now)  # signed in or throttled: the pending session is over
    session.add(row)
    if refusal is not None:
        return refusal
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
    audit.record_own(
        session, user=user, action="auth.sign_out_all", details={"sessions": count}, ip=ip
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
