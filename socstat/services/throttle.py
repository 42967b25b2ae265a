"""Brute-force throttling of everything a person proves with a secret: the sign-in password
and second factor, and the current password / TOTP code the profile forms ask for.

``ACCOUNT_THRESHOLD`` failures for one address within ``THROTTLE_WINDOW`` lock it for
``BASE_LOCK``, doubling with each further lockout (``IP_THRESHOLD`` per client address).
Counting is atomic: :func:`lock_account` locks the user's row (PostgreSQL ``FOR UPDATE``;
SQLite: a write takes the database's single write lock) until the caller's unit of work
ends, so concurrent attempts for one account are checked, verified and recorded one after
another — at most ``ACCOUNT_THRESHOLD`` secrets are verified per window however many
arrive at once, and the lockout notice is queued exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from socstat import formatting
from socstat.db import KeepChanges, lock_rows
from socstat.models.accounts import LoginAttempt, User
from socstat.models.base import utcnow
from socstat.services import audit, delivery
from socstat.services.errors import FieldError
from socstat.services.passwords import verify_password

ACCOUNT_THRESHOLD = 5
IP_THRESHOLD = 20
THROTTLE_WINDOW = timedelta(minutes=15)
BASE_LOCK = timedelta(minutes=15)
THROTTLE_LOOKBACK = timedelta(hours=24)


class Throttled(FieldError, KeepChanges):
    """Too many failed attempts: ``until`` is when the account (or address) opens again.
    The failure that caused it is committed although the step fails; ``field`` is the
    input whose secret was refused ("" at sign-in)."""

    def __init__(self, until: datetime, now: datetime, *, field: str = "") -> None:
        self.until = until
        self.retry_after = max(1, int(-(-(until - now).total_seconds() // 1)))
        minutes = max(1, -(-self.retry_after // 60))
        super().__init__(f"Слишком много попыток. Повторите через {minutes} мин.", field=field)


def lock_account(session: Session, *, email: str) -> User | None:
    """The user of ``email``, its row locked until the caller's unit of work ends (see the
    module docstring); None for an unknown address (nothing to guess there)."""
    return lock_rows(session, User, User.email, email).first()


def _lock_until(failures: list[datetime], *, threshold: int, now: datetime) -> datetime | None:
    """Replay failures: ``threshold`` within THROTTLE_WINDOW lock for BASE_LOCK * 2**n."""
    level = 0
    run: list[datetime] = []
    locked_until: datetime | None = None
    for moment in failures:
        run = [m for m in run if moment - m < THROTTLE_WINDOW] + [moment]
        if len(run) >= threshold:
            locked_until = moment + BASE_LOCK * (2**level)
            level += 1
            run = []
    return locked_until if locked_until is not None and locked_until > now else None


def _failures(
    session: Session, *, now: datetime, email: str | None = None, ip: str | None = None
) -> list[datetime]:
    since = now - THROTTLE_LOOKBACK
    query = select(LoginAttempt.created_at).where(LoginAttempt.created_at > since)
    if email is not None:
        last_ok = session.exec(
            select(func.max(LoginAttempt.created_at)).where(
                LoginAttempt.email == email, col(LoginAttempt.succeeded).is_(True)
            )
        ).one()
        if last_ok is not None and last_ok > since:
            since = last_ok
        query = select(LoginAttempt.created_at).where(
            LoginAttempt.email == email, LoginAttempt.created_at > since
        )
    else:
        query = query.where(LoginAttempt.ip == ip)
    query = query.where(col(LoginAttempt.succeeded).is_(False))
    return sorted(session.exec(query).all())


def _account_lock(session: Session, *, email: str, now: datetime) -> datetime | None:
    return _lock_until(
        _failures(session, now=now, email=email), threshold=ACCOUNT_THRESHOLD, now=now
    )


def throttle_until(
    session: Session, *, email: str, ip: str, now: datetime | None = None
) -> datetime | None:
    """When attempts for this email or from this address are allowed again (None = now)."""
    now = now or utcnow()
    locks = [_account_lock(session, email=email, now=now)]
    if ip:
        locks.append(
            _lock_until(_failures(session, now=now, ip=ip), threshold=IP_THRESHOLD, now=now)
        )
    present = [lock for lock in locks if lock is not None]
    return max(present) if present else None


def record_failure(
    session: Session, *, email: str, ip: str, user: User | None, now: datetime, reason: str
) -> datetime | None:
    """Store a failed attempt; returns the lock end when the email or address is now
    locked. The owner of a newly locked account gets one notice."""
    session.add(LoginAttempt(email=email, ip=ip[:64], succeeded=False, created_at=now))
    session.flush()
    audit.record(
        session,
        actor=None,
        action="auth.sign_in_failed",
        target_type="user",
        target_id=user.id if user else "",
        details={"email": email, "reason": reason},
        ip=ip,
    )
    account_lock = _account_lock(session, email=email, now=now)
    if account_lock is not None and user is not None:
        _notify_lockout(session, user=user, until=account_lock, ip=ip)
    return throttle_until(session, email=email, ip=ip, now=now)


def record_success(session: Session, *, email: str, ip: str, now: datetime) -> None:
    """A successful sign-in resets the account's failure count."""
    session.add(LoginAttempt(email=email, ip=ip[:64], succeeded=True, created_at=now))


def _notify_lockout(session: Session, *, user: User, until: datetime, ip: str) -> None:
    key = f"lockout:{user.id}:{int(until.timestamp())}"
    delivery.enqueue_email(
        session,
        to=user.email,
        template="lockout",
        context={"user": user, "ip": ip, "until": formatting.moment(until, user.timezone)},
        dedup_key=key,
    )
    audit.record(
        session,
        actor=None,
        action="auth.lockout",
        target_type="user",
        target_id=user.id or "",
        details={"until": until.isoformat()},
        ip=ip,
    )


def require_secret(
    session: Session,
    *,
    user: User,
    ip: str,
    reason: str,
    verify: Callable[[], bool],
    wrong: Exception,
    now: datetime | None = None,
) -> None:
    """Verify something the signed-in ``user`` typed (``verify()``), counted in the same
    throttle as sign-in. Raises :class:`Throttled` when locked (before verifying, or when
    this failure locks) and ``wrong`` for a wrong secret — a
    :class:`~socstat.db.KeepChanges` error, so that the failure is committed."""
    now = now or utcnow()
    ip = (ip or "")[:64]
    field = "code" if reason == "2fa" else reason
    lock_account(session, email=user.email)
    until = throttle_until(session, email=user.email, ip=ip, now=now)
    if until is not None:
        raise Throttled(until, now, field=field)
    if verify():
        return
    until = record_failure(session, email=user.email, ip=ip, user=user, now=now, reason=reason)
    if until is not None:
        raise Throttled(until, now, field=field)
    raise wrong


def require_password(
    session: Session,
    *,
    user: User,
    password: str,
    ip: str,
    wrong: Exception,
    now: datetime | None = None,
) -> None:
    """:func:`require_secret` for the user's current password."""
    require_secret(
        session,
        user=user,
        ip=ip,
        reason="current_password",
        verify=lambda: verify_password(password, user.password_hash),
        wrong=wrong,
        now=now,
    )
