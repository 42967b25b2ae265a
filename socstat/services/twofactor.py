"""Two-factor sign-in: TOTP (pyotp) with single-use recovery codes.

Flow for the profile page: ``begin_enrolment`` → show the QR code (SVG), the secret and
ask for a code → ``confirm_enrolment`` enables 2FA and returns 10 recovery codes to show
once. ``disable`` needs the password and a code. Admins reset 2FA via
``socstat.services.admin.reset_two_factor``. Secrets are stored encrypted; recovery codes
and used TOTP steps are stored so that no code works twice.
"""

from __future__ import annotations

import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from socstat.crypto import (
    SecretDecryptionError,
    decrypt_secret,
    encrypt_secret,
    hash_token,
    token_hash_candidates,
)
from socstat.db import KeepChanges
from socstat.models.accounts import RecoveryCode, Role, TotpUse, User
from socstat.models.base import utcnow
from socstat.services import audit, sessions, throttle
from socstat.services.errors import FieldError
from socstat.services.system_settings import require_2fa_for_admins

ISSUER = "socstat"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class TwoFactorError(FieldError):
    """A 2FA step failed; ``str(exc)`` is a Russian message for the UI, ``field`` the
    argument it concerns (``code``, ``password``; "" for the step as a whole)."""


class WrongCode(TwoFactorError, KeepChanges):
    """A wrong password or code: the failure stays counted (the unit of work commits)."""


MSG_SECRET_UNREADABLE = (
    "Не удаётся проверить код двухфакторной аутентификации: обратитесь к администратору, "
    "чтобы сбросить двухфакторную аутентификацию."
)


class TwoFactorSecretUnreadable(TwoFactorError):
    """The user's TOTP secret cannot be decrypted with any configured key (audited)."""

    def __init__(self) -> None:
        super().__init__(MSG_SECRET_UNREADABLE)


@dataclass(frozen=True)
class TotpEnrolment:
    """What the enrolment page shows: scan ``qr_svg`` or type ``secret``."""

    secret: str
    provisioning_uri: str
    qr_svg: str


def _totp(session: Session, user: User) -> pyotp.TOTP | None:
    """The user's TOTP; raises TwoFactorSecretUnreadable (and audits it) when no key
    decrypts the stored secret."""
    if not user.totp_secret_enc:
        return None
    try:
        return pyotp.TOTP(decrypt_secret(user.totp_secret_enc))
    except SecretDecryptionError:
        audit.record(
            session,
            actor=user,
            action="secret.unreadable",
            target_type="totp_secret",
            target_id=user.id or "",
            details={"during": "2fa"},
        )
        raise TwoFactorSecretUnreadable() from None


def qr_svg(data: str) -> str:
    """An SVG QR code (rendered on the server) as a string."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
    return buffer.getvalue().decode()


def begin_enrolment(session: Session, *, user: User) -> TotpEnrolment:
    """Generate a new secret (stored encrypted, not yet enabled) and its QR code.
    Refused when 2FA is already enabled (disable it first)."""
    if user.totp_enabled:
        raise TwoFactorError("Двухфакторная защита уже включена.")
    secret = pyotp.random_base32()
    user.totp_secret_enc = encrypt_secret(secret)
    session.add(user)
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return TotpEnrolment(secret=secret, provisioning_uri=uri, qr_svg=qr_svg(uri))


def confirm_enrolment(
    session: Session,
    *,
    user: User,
    code: str,
    now: datetime | None = None,
    ip: str = "",
    current_token: str | None = None,
) -> list[str]:
    """Enable 2FA when ``code`` matches the pending secret; returns the recovery codes
    (show them once; only hashes are kept). Every other session of the user ends (they
    were opened without the second factor); the one of ``current_token`` stays."""
    if user.totp_enabled:
        raise TwoFactorError("Двухфакторная защита уже включена.")
    if not user.totp_secret_enc:
        raise TwoFactorError("Сначала начните подключение двухфакторной защиты.")
    if not verify_totp(session, user=user, code=code, now=now):
        raise TwoFactorError(
            "Неверный код. Проверьте время на телефоне и попробуйте снова.", field="code"
        )
    user.totp_enabled = True
    session.add(user)
    codes = _replace_recovery_codes(session, user=user)
    ended = sessions.revoke_other_sessions(session, user=user, current_token=current_token, now=now)
    audit.record_own(
        session, user=user, action="auth.2fa_enabled", details={"sessions_ended": ended}, ip=ip
    )
    return codes


def _normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _replace_recovery_codes(session: Session, *, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(RecoveryCode(user_id=user.id or 0, code_hash=hash_token(_normalize_code(code))))
    session.flush()
    return codes


def regenerate_recovery_codes(
    session: Session, *, user: User, code: str, now: datetime | None = None, ip: str = ""
) -> list[str]:
    """New recovery codes (the old ones stop working); needs a current TOTP code."""
    if not user.totp_enabled:
        raise TwoFactorError("Двухфакторная защита не включена.")
    throttle.require_secret(
        session,
        user=user,
        ip=ip,
        reason="2fa",
        verify=lambda: verify_totp(session, user=user, code=code, now=now),
        wrong=WrongCode("Неверный код из приложения.", field="code"),
        now=now,
    )
    codes = _replace_recovery_codes(session, user=user)
    audit.record_own(session, user=user, action="auth.recovery_codes_regenerated", ip=ip)
    return codes


def recovery_codes_left(session: Session, *, user: User) -> int:
    """How many unused recovery codes the user has."""
    return int(
        session.exec(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None))
        ).one()
    )


def verify_totp(session: Session, *, user: User, code: str, now: datetime | None = None) -> bool:
    """True for a valid TOTP code (±1 time step) not used before; records its step so the
    same code (or an older one) is rejected afterwards."""
    totp = _totp(session, user)
    code = "".join(ch for ch in code if ch.isdigit())
    if totp is None or len(code) != totp.digits:
        return False
    now = now or utcnow()
    step = _matching_step(totp, code, now)
    if step is None:
        return False
    last = session.exec(select(func.max(TotpUse.step)).where(TotpUse.user_id == user.id)).one()
    if last is not None and step <= last:
        return False
    session.add(TotpUse(user_id=user.id or 0, step=step))
    session.flush()  # a concurrent use of the same step fails on the unique constraint
    session.execute(
        delete(TotpUse).where(col(TotpUse.user_id) == user.id, col(TotpUse.step) < step - 10)
    )
    return True


def _matching_step(totp: pyotp.TOTP, code: str, now: datetime) -> int | None:
    for offset in (0, -1, 1):
        moment = now.timestamp() + offset * totp.interval
        candidate = totp.at(int(moment))
        if hmac.compare_digest(candidate, code):
            return int(moment // totp.interval)
    return None


def use_recovery_code(
    session: Session, *, user: User, code: str, now: datetime | None = None
) -> bool:
    """True (and the code is spent) when ``code`` is one of the user's unused recovery codes."""
    normalized = _normalize_code(code)
    if len(normalized) != 10:
        return False
    row = session.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            col(RecoveryCode.code_hash).in_(token_hash_candidates(normalized)),
            col(RecoveryCode.used_at).is_(None),
        )
    ).first()
    if row is None:
        return False
    row.used_at = now or utcnow()
    session.add(row)
    session.flush()
    return True


def verify_second_factor(
    session: Session, *, user: User, code: str, now: datetime | None = None
) -> bool:
    """A TOTP code or, failing that, a recovery code (spent on success)."""
    if not user.totp_enabled:
        return False
    try:
        if verify_totp(session, user=user, code=code, now=now):
            return True
    except TwoFactorSecretUnreadable:
        # Recovery codes do not depend on the secret: they still let the user in.
        if use_recovery_code(session, user=user, code=code, now=now):
            return True
        raise
    return use_recovery_code(session, user=user, code=code, now=now)


def clear_two_factor(session: Session, *, user: User) -> None:
    """Remove the secret, recovery codes and used steps (no checks; see ``disable``)."""
    user.totp_enabled = False
    user.totp_secret_enc = None
    session.add(user)
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    session.execute(delete(TotpUse).where(col(TotpUse.user_id) == user.id))
    session.flush()


def disable(
    session: Session,
    *,
    user: User,
    password: str,
    code: str,
    now: datetime | None = None,
    ip: str = "",
) -> None:
    """Turn 2FA off: needs the current password and a TOTP or recovery code (each checked
    in the sign-in throttle)."""
    if not user.totp_enabled:
        raise TwoFactorError("Двухфакторная защита не включена.")
    wrong_password = WrongCode("Неверный пароль.", field="password")
    throttle.require_password(
        session, user=user, password=password, ip=ip, wrong=wrong_password, now=now
    )
    throttle.require_secret(
        session,
        user=user,
        ip=ip,
        reason="2fa",
        verify=lambda: verify_second_factor(session, user=user, code=code, now=now),
        wrong=WrongCode("Неверный код.", field="code"),
        now=now,
    )
    clear_two_factor(session, user=user)
    audit.record_own(session, user=user, action="auth.2fa_disabled", ip=ip)


def needs_2fa_enrolment(session: Session, user: User) -> bool:
    """True when the user is an admin without 2FA while "require_2fa_admins" is on: the UI
    must send them to the enrolment page before anything else."""
    return user.role == Role.ADMIN and not user.totp_enabled and require_2fa_for_admins(session)
