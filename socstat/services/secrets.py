"""Re-encrypting every stored secret with the current key (``socstat secrets rotate``).

Stored secrets: VK tokens (ApiToken.token_enc), the SMTP password in the "smtp" system
setting, the SMS gateway's API key and the Telegram bot's token (their system settings)
and users' TOTP secrets. One that no configured key decrypts is left as it is,
counted and audited ("secret.unreadable") so an admin can re-enter or reset it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from socstat.crypto import SecretDecryptionError, reencrypt_secret
from socstat.models.accounts import User
from socstat.models.system import ApiToken, SystemSetting
from socstat.services import audit
from socstat.services.delivery import sms, telegram
from socstat.services.system_settings import SMTP

# (kind, system setting, field of the encrypted secret in its value)
_SETTING_SECRETS = (
    ("smtp_password", SMTP, "password_enc"),
    ("sms_api_key", sms.SETTING, sms.SECRET_FIELD),
    ("telegram_token", telegram.SETTING, telegram.SECRET_FIELD),
)


@dataclass
class KindCount:
    rotated: int = 0
    unreadable: int = 0


@dataclass
class RotationReport:
    """Per kind ("vk_token", "smtp_password", "sms_api_key", "telegram_token",
    "totp_secret"): re-encrypted and unreadable."""

    kinds: dict[str, KindCount] = field(
        default_factory=lambda: {
            k: KindCount()
            for k in ("vk_token", *(kind for kind, _, _ in _SETTING_SECRETS), "totp_secret")
        }
    )

    @property
    def unreadable(self) -> int:
        return sum(count.unreadable for count in self.kinds.values())


def _rotate(
    session: Session, report: RotationReport, *, kind: str, target_id: str | int, value: str
) -> str | None:
    """The re-encrypted value, or None (counted and audited) when no key reads it."""
    try:
        rotated = reencrypt_secret(value)
    except SecretDecryptionError:
        report.kinds[kind].unreadable += 1
        record_unreadable(session, kind=kind, target_id=target_id, during="rotate")
        return None
    report.kinds[kind].rotated += 1
    return rotated


def record_unreadable(
    session: Session, *, kind: str, target_id: str | int, during: str, actor: User | None = None
) -> None:
    """Audit a stored secret that no configured key decrypts."""
    audit.record(
        session,
        actor=actor,
        action="secret.unreadable",
        target_type=kind,
        target_id=target_id,
        details={"during": during},
    )


def rotate_secrets(session: Session) -> RotationReport:
    """Re-encrypt every stored secret with the current key (run by the operator: no actor).
    The caller commits; nothing is lost — unreadable secrets stay as they were."""
    report = RotationReport()
    for token in session.exec(select(ApiToken).order_by(col(ApiToken.id))).all():
        rotated = _rotate(
            session, report, kind="vk_token", target_id=token.id or "", value=token.token_enc
        )
        if rotated is not None:
            token.token_enc = rotated
            session.add(token)
    for kind, key, secret_field in _SETTING_SECRETS:
        row = session.get(SystemSetting, key)
        if row is None or not isinstance(row.value, dict) or not row.value.get(secret_field):
            continue
        rotated = _rotate(session, report, kind=kind, target_id=key, value=row.value[secret_field])
        if rotated is not None:
            row.value = {**row.value, secret_field: rotated}
            session.add(row)
    users = session.exec(
        select(User).where(col(User.totp_secret_enc).is_not(None)).order_by(col(User.id))
    ).all()
    for user in users:
        rotated = _rotate(
            session,
            report,
            kind="totp_secret",
            target_id=user.id or "",
            value=user.totp_secret_enc or "",
        )
        if rotated is not None:
            user.totp_secret_enc = rotated
            session.add(user)
    audit.record(
        session,
        actor=None,
        action="secrets.rotated",
        details={
            k: {"rotated": c.rotated, "unreadable": c.unreadable} for k, c in report.kinds.items()
        },
    )
    session.flush()
    return report
