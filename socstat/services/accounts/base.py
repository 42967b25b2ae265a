"""What every account flow shares: the error types, the messages more than one flow shows,
email address rules, the password policy check, queueing an email and the mail rate limit."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from socstat.db import KeepChanges
from socstat.models.accounts import User
from socstat.services import delivery, ratelimit, throttle
from socstat.services.errors import FieldError
from socstat.services.passwords import password_problem

MAX_EMAIL_LENGTH = 320

MSG_CHECK_EMAIL = (
    "Мы отправили письмо на указанный адрес. Перейдите по ссылке из письма, чтобы продолжить."
)
MSG_BAD_LINK = "Ссылка недействительна или устарела. Запросите новую."
MSG_BLOCKED = "Учётная запись заблокирована. Обратитесь к администратору."
MSG_WRONG_CURRENT_PASSWORD = "Текущий пароль указан неверно."
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(FieldError):
    """A flow step failed; ``str(exc)`` is a Russian message for the UI, ``field`` the
    argument it concerns ("" for none in particular)."""


class WrongSecret(AccountError, KeepChanges):
    """A wrong current password: the failure stays counted (the unit of work commits)."""


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


def require_current_password(session: Session, *, user: User, password: str, ip: str) -> None:
    """WrongSecret unless ``password`` is the user's current one (checked in the sign-in
    throttle, which may raise ``Throttled`` instead)."""
    wrong = WrongSecret(MSG_WRONG_CURRENT_PASSWORD, field="current_password")
    throttle.require_password(session, user=user, password=password, ip=ip, wrong=wrong)


def send(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, object],
    dedup_key: str | None = None,
) -> None:
    """Queue an account email in the outbox (sent after the caller's commit)."""
    delivery.enqueue_email(session, to=to, template=template, context=context, dedup_key=dedup_key)


def allowed(action: str, *, ip: str, recipient: str) -> bool:
    """Count one mail-sending request; False once the per-IP/recipient limit is reached."""
    try:
        ratelimit.hit(action, ip=ip, recipient=recipient)
    except ratelimit.RateLimited:
        return False
    return True


def rate_limit(action: str, *, ip: str, recipient: str) -> None:
    """AccountError when the mail rate limit for this request is reached."""
    if not allowed(action, ip=ip, recipient=recipient):
        raise AccountError(ratelimit.MSG_LIMITED)
