"""Settings edited by admins (stored in SystemSetting), the VK token pool and SMTP.

Readers without an actor (``get_setting``, ``collect_interval_hours``, ``smtp_config``,
``active_vk_tokens``) are for the services and the scheduler. Everything that shows or
changes settings takes the acting user, is admin-only and audited; audit details never
contain secrets.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from socstat.crypto import SecretDecryptionError, decrypt_secret, encrypt_secret, mask_secret
from socstat.models.accounts import User
from socstat.models.base import utcnow
from socstat.models.system import ApiToken, SystemSetting
from socstat.services import audit
from socstat.services.authz import require_admin
from socstat.services.errors import FieldError
from socstat.settings import get_settings

log = logging.getLogger(__name__)

COLLECT_INTERVAL = "collect_interval_hours"
SELF_REGISTRATION = "self_registration"
REQUIRE_2FA_ADMINS = "require_2fa_admins"
SMTP = "smtp"
TOKEN_KINDS = ("user", "community", "video", "service")


class SettingsValidationError(FieldError, ValueError):
    """A bad setting value; ``str(exc)`` is a Russian message for the UI, ``field`` the
    argument it concerns."""


@dataclass(frozen=True)
class SmtpConfig:
    """Effective SMTP parameters (password decrypted): from the database or the environment."""

    host: str
    port: int
    user: str
    password: str
    from_addr: str
    starttls: bool
    ssl: bool
    source: str  # "database" | "environment"
    password_unreadable: bool = False  # stored but no configured key decrypts it


@dataclass(frozen=True)
class VkTokenSecret:
    """A decrypted VK token for the collector (never shown in the UI)."""

    id: int
    kind: str
    token: str


@dataclass(frozen=True)
class SmtpView:
    """SMTP settings for the form: the password only as set/unreadable and masked."""

    configured: bool
    source: str  # "database" | "environment" | "" (not configured)
    host: str
    port: int
    user: str
    password_set: bool
    password_unreadable: bool
    password_masked: str
    from_addr: str
    starttls: bool
    ssl: bool


@dataclass(frozen=True)
class SettingsView:
    """Every setting of the settings page (secrets masked)."""

    collect_interval_hours: float
    self_registration: bool
    require_2fa_admins: bool
    smtp: SmtpView


@dataclass(frozen=True)
class VkTokenView:
    """A VK token as the admin sees it: masked (last four characters). ``unreadable``: no
    configured key decrypts it (SOCSTAT_SECRET_KEY changed) — re-enter the token."""

    id: int
    kind: str
    label: str
    masked: str
    created_at: datetime
    invalid: bool
    invalid_reason: str | None
    unreadable: bool


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on", "да"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", "нет"}:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise SettingsValidationError("Ожидается значение «да» или «нет».")


def _as_interval(value: Any) -> float:
    try:
        number = float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise SettingsValidationError("Интервал сбора должен быть числом часов.") from None
    if not math.isfinite(number) or not 1 <= number <= 744:
        raise SettingsValidationError("Интервал сбора должен быть от 1 до 744 часов.")
    return number


_SIMPLE: dict[str, tuple[Callable[[Any], Any], Callable[[], Any]]] = {
    COLLECT_INTERVAL: (_as_interval, lambda: get_settings().collect_interval_hours),
    SELF_REGISTRATION: (_as_bool, lambda: True),
    REQUIRE_2FA_ADMINS: (_as_bool, lambda: False),
}


def _row(session: Session, key: str) -> SystemSetting | None:
    return session.get(SystemSetting, key)


def store(session: Session, *, key: str, value: Any, actor: User | None) -> None:
    """Write a setting row as given (no validation, no audit: the caller does both)."""
    row = _row(session, key) or SystemSetting(key=key)
    row.value = value
    row.updated_at = utcnow()
    row.updated_by = actor.id if actor is not None else None
    session.add(row)
    session.flush()


def get_setting(session: Session, *, key: str) -> Any:
    """The typed value of a simple setting (stored value, else its default). No authz."""
    if key not in _SIMPLE:
        raise KeyError(key)
    parse, default = _SIMPLE[key]
    row = _row(session, key)
    if row is None or row.value is None:
        return default()
    try:
        return parse(row.value)
    except SettingsValidationError:
        return default()


def collect_interval_hours(session: Session) -> float:
    """Hours between collection runs (setting, else SOCSTAT_COLLECT_INTERVAL_HOURS)."""
    return get_setting(session, key=COLLECT_INTERVAL)


def self_registration_enabled(session: Session) -> bool:
    """Whether visitors may create accounts themselves (default: yes)."""
    return get_setting(session, key=SELF_REGISTRATION)


def require_2fa_for_admins(session: Session) -> bool:
    """Whether admins must have two-factor sign-in enabled (default: no)."""
    return get_setting(session, key=REQUIRE_2FA_ADMINS)


def get_settings_view(session: Session, *, actor: User | None) -> SettingsView:
    """Admin only: every setting for the settings page (secrets masked)."""
    require_admin(actor)
    return SettingsView(
        collect_interval_hours=float(get_setting(session, key=COLLECT_INTERVAL)),
        self_registration=bool(get_setting(session, key=SELF_REGISTRATION)),
        require_2fa_admins=bool(get_setting(session, key=REQUIRE_2FA_ADMINS)),
        smtp=smtp_view(session, actor=actor),
    )


def audit_change(
    session: Session, *, actor: User | None, key: str, details: dict[str, Any], ip: str
) -> None:
    """Audit a change of the setting ``key`` (``details`` never hold a secret)."""
    audit.record(
        session,
        actor=actor,
        action="settings.changed",
        target_type="setting",
        target_id=key,
        details=details,
        ip=ip,
    )


def set_setting(session: Session, *, actor: User | None, key: str, value: Any, ip: str = "") -> Any:
    """Admin only: validate and store a simple setting; returns the stored typed value.
    Raises SettingsValidationError with a Russian message on a bad value."""
    require_admin(actor)
    if key not in _SIMPLE:
        raise SettingsValidationError("Неизвестная настройка.")
    parsed = _SIMPLE[key][0](value)
    old = get_setting(session, key=key)
    store(session, key=key, value=parsed, actor=actor)
    audit_change(
        session, actor=actor, key=key, details={"key": key, "old": old, "new": parsed}, ip=ip
    )
    return parsed


# --- SMTP -----------------------------------------------------------------------------


def smtp_config(session: Session) -> SmtpConfig | None:
    """Effective SMTP settings: the database ones when set, else the environment's;
    None when no server is configured (emails then go to the log)."""
    row = _row(session, SMTP)
    stored = row.value if row is not None and isinstance(row.value, dict) else None
    if stored and stored.get("host"):
        password, unreadable = "", False
        try:
            password = decrypt_secret(stored["password_enc"]) if stored.get("password_enc") else ""
        except SecretDecryptionError:
            log.error("the stored SMTP password cannot be decrypted with any configured key")
            unreadable = True
        return SmtpConfig(
            host=stored["host"],
            port=int(stored.get("port") or 25),
            user=stored.get("user") or "",
            password=password,
            from_addr=stored.get("from") or get_settings().smtp_from,
            starttls=bool(stored.get("starttls")),
            ssl=bool(stored.get("ssl")),
            source="database",
            password_unreadable=unreadable,
        )
    env = get_settings()
    if not env.smtp_configured:
        return None
    return SmtpConfig(
        host=env.smtp_host,
        port=env.smtp_port,
        user=env.smtp_user,
        password=env.smtp_password,
        from_addr=env.smtp_from,
        starttls=env.smtp_starttls,
        ssl=env.smtp_ssl,
        source="environment",
    )


def smtp_view(session: Session, *, actor: User | None) -> SmtpView:
    """Admin only: SMTP settings for the form; the password only as "set"/masked."""
    require_admin(actor)
    config = smtp_config(session)
    if config is None:
        return SmtpView(
            configured=False,
            source="",
            host="",
            port=25,
            user="",
            password_set=False,
            password_unreadable=False,
            password_masked="",
            from_addr=get_settings().smtp_from,
            starttls=False,
            ssl=False,
        )
    return SmtpView(
        configured=True,
        source=config.source,
        host=config.host,
        port=config.port,
        user=config.user,
        password_set=bool(config.password),
        password_unreadable=config.password_unreadable,
        password_masked=mask_secret(config.password) if config.password else "",
        from_addr=config.from_addr,
        starttls=config.starttls,
        ssl=config.ssl,
    )


def set_smtp(
    session: Session,
    *,
    actor: User | None,
    host: str,
    port: int,
    user: str = "",
    password: str | None = None,
    from_addr: str,
    starttls: bool = False,
    ssl: bool = False,
    ip: str = "",
) -> SmtpView:
    """Admin only: store SMTP settings overriding the environment. ``password=None`` keeps
    the stored password, "" clears it. The password is stored encrypted."""
    require_admin(actor)
    host = host.strip()
    if not host or any(ch.isspace() for ch in host):
        raise SettingsValidationError("Укажите адрес SMTP-сервера.", field="host")
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise SettingsValidationError(
            "Порт должен быть числом от 1 до 65535.", field="port"
        ) from None
    if not 1 <= port <= 65535:
        raise SettingsValidationError("Порт должен быть числом от 1 до 65535.", field="port")
    if "@" not in from_addr:
        raise SettingsValidationError("Укажите адрес отправителя.", field="from_addr")
    if starttls and ssl:
        raise SettingsValidationError("Выберите что-то одно: STARTTLS или SSL.", field="ssl")
    row = _row(session, SMTP)
    previous = row.value if row is not None and isinstance(row.value, dict) else {}
    if password is None:
        password_enc = previous.get("password_enc") or ""
    else:
        password_enc = encrypt_secret(password) if password else ""
    value = {
        "host": host,
        "port": port,
        "user": user.strip(),
        "password_enc": password_enc,
        "from": from_addr.strip(),
        "starttls": bool(starttls),
        "ssl": bool(ssl),
    }
    store(session, key=SMTP, value=value, actor=actor)
    details = {k: v for k, v in value.items() if k != "password_enc"}
    details["password_changed"] = password is not None
    audit_change(session, actor=actor, key=SMTP, details=details, ip=ip)
    return smtp_view(session, actor=actor)


def clear_smtp(session: Session, *, actor: User | None, ip: str = "") -> None:
    """Admin only: forget the database SMTP settings (the environment's apply again)."""
    require_admin(actor)
    row = _row(session, SMTP)
    if row is not None:
        session.delete(row)
        session.flush()
    audit_change(session, actor=actor, key=SMTP, details={"cleared": True}, ip=ip)


# --- VK tokens ------------------------------------------------------------------------


def _readable(token_enc: str) -> bool:
    try:
        decrypt_secret(token_enc)
    except SecretDecryptionError:
        return False
    return True


def _token_view(row: ApiToken) -> VkTokenView:
    return VkTokenView(
        id=row.id or 0,
        kind=row.kind,
        label=row.label,
        masked=row.token_hint or "••••",
        created_at=row.created_at,
        invalid=row.invalid_at is not None,
        invalid_reason=row.invalid_reason,
        unreadable=not _readable(row.token_enc),
    )


def list_vk_tokens(session: Session, *, actor: User | None) -> list[VkTokenView]:
    """Admin only: VK tokens, masked (last four characters)."""
    require_admin(actor)
    rows = session.exec(
        select(ApiToken).where(ApiToken.platform == "vk").order_by(col(ApiToken.id))
    ).all()
    return [_token_view(row) for row in rows]


def _audit_token(
    session: Session, *, actor: User | None, action: str, row: ApiToken, ip: str
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="api_token",
        target_id=row.id or "",
        details={"kind": row.kind, "label": row.label},
        ip=ip,
    )


def add_vk_token(
    session: Session,
    *,
    actor: User | None,
    token: str,
    kind: str = "user",
    label: str = "",
    ip: str = "",
) -> VkTokenView:
    """Admin only: add a VK token (kind user|community|video|service), stored encrypted."""
    require_admin(actor)
    token = token.strip()
    if len(token) < 16 or any(ch.isspace() for ch in token):
        raise SettingsValidationError("Токен выглядит неверно.", field="token")
    if kind not in TOKEN_KINDS:
        raise SettingsValidationError("Неизвестный тип токена.", field="kind")
    row = ApiToken(
        platform="vk",
        kind=kind,
        label=label.strip()[:200],
        token_enc=encrypt_secret(token),
        token_hint=mask_secret(token),
        created_by=actor.id if actor else None,
    )
    session.add(row)
    session.flush()
    _audit_token(session, actor=actor, action="token.added", row=row, ip=ip)
    return _token_view(row)


def remove_vk_token(session: Session, *, actor: User | None, token_id: int, ip: str = "") -> None:
    """Admin only: delete a VK token."""
    require_admin(actor)
    row = session.get(ApiToken, token_id)
    if row is None or row.platform != "vk":
        raise SettingsValidationError("Токен не найден.")
    session.delete(row)
    session.flush()
    _audit_token(session, actor=actor, action="token.removed", row=row, ip=ip)


def active_vk_tokens(session: Session) -> list[VkTokenSecret]:
    """Decrypted VK tokens not marked invalid (for the collector; never display them)."""
    rows = session.exec(
        select(ApiToken)
        .where(ApiToken.platform == "vk", col(ApiToken.invalid_at).is_(None))
        .order_by(col(ApiToken.id))
    ).all()
    tokens = []
    for row in rows:
        try:
            tokens.append(
                VkTokenSecret(id=row.id or 0, kind=row.kind, token=decrypt_secret(row.token_enc))
            )
        except SecretDecryptionError:
            log.error("VK token #%s cannot be decrypted with any configured key: skipped", row.id)
    return tokens
