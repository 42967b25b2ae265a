"""What the SMS gateway and the Telegram bot settings share: one system-settings row each
holding a base URL and one secret (encrypted at rest, never shown whole), the URL check,
and saving with an audit entry. The CLI and the admin page call the same ``set_*``
functions in ``sms`` and ``telegram``, which build on these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from socstat.crypto import SecretDecryptionError, decrypt_secret, encrypt_secret
from socstat.models import SystemSetting, User
from socstat.services import system_settings
from socstat.services.errors import FieldError


@dataclass(frozen=True)
class Stored:
    """A setting row's value; ``secret`` decrypted ("" when absent or unreadable)."""

    value: dict[str, Any] = field(default_factory=dict)
    secret: str = ""
    unreadable: bool = False


def read(session: Session, key: str, secret_field: str) -> Stored:
    row = session.get(SystemSetting, key)
    value = dict(row.value) if row is not None and isinstance(row.value, dict) else {}
    encrypted = value.get(secret_field) or ""
    if not encrypted:
        return Stored(value)
    try:
        return Stored(value, decrypt_secret(encrypted))
    except SecretDecryptionError:
        return Stored(value, unreadable=True)


def check_url(raw: str, *, error: type[FieldError], what: str) -> str:
    """``http(s)://host[:port][/path]`` without spaces, query or fragment; no trailing /."""
    url = (raw or "").strip().rstrip("/")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
        parts = urlsplit("")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in url)
        or len(url) > 300
    ):
        raise error(
            f"{what}: адрес вида https://example.ru (без пробелов и параметров).",
            field="base_url",
        )
    return url


def secret_to_store(
    stored: Stored,
    secret_field: str,
    new: str | None,
    *,
    error: type[FieldError],
    field_name: str,
    what: str,
) -> str:
    """The encrypted secret to keep: ``new`` encrypted, or (``new`` None/empty) the stored
    one — refused when there is none or no key decrypts it."""
    if new is not None and new.strip():
        return encrypt_secret(new.strip())
    if stored.unreadable:
        raise error(
            f"Сохранённый {what} не расшифровывается (сменился ключ шифрования): введите заново.",
            field=field_name,
        )
    encrypted = stored.value.get(secret_field) or ""
    if not encrypted:
        raise error(f"Укажите {what}.", field=field_name)
    return encrypted


def save(
    session: Session,
    *,
    actor: User | None,
    key: str,
    value: dict[str, Any],
    details: dict[str, Any],
    ip: str,
) -> None:
    """Store the row and audit the change (``details`` never hold the secret)."""
    system_settings.store(session, key=key, value=value, actor=actor)
    system_settings.audit_change(session, actor=actor, key=key, details=details, ip=ip)
