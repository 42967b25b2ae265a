"""SMS through an HTTP gateway with an SMS.ru-compatible API.

Admins set the base URL, the API key (stored encrypted) and the sender name; a user's
phone is validated (E.164, Russian numbers normalised) and confirmed by a code before
first use; each user gets at most ``daily_cap`` alert SMS per installation day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from sqlmodel import Session

from socstat.crypto import SecretDecryptionError, decrypt_secret, encrypt_secret, mask_secret
from socstat.models import SystemSetting, User, utcnow
from socstat.services import audit
from socstat.services.authz import require_admin
from socstat.services.delivery.channels import DeliveryError, OutgoingMessage

SETTING = "sms_gateway"
CHANNEL = "sms"
DEFAULT_DAILY_CAP = 20
TIMEOUT_SECONDS = 15
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


class SmsError(RuntimeError):
    """The gateway refused or could not be reached (the reason)."""


class SmsSettingsError(ValueError):
    """Bad gateway settings or phone number (Russian message)."""


@dataclass(frozen=True)
class GatewayConfig:
    base_url: str
    api_key: str
    sender: str
    daily_cap: int


def normalize_phone(raw: str) -> str:
    """E.164 (+79991234567). Russian numbers written as 8 9xx…, 7 9xx… or 9xx… are
    normalised; anything else must already be +<country><number>."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if re.fullmatch(r"8\d{10}", digits):
        digits = "+7" + digits[1:]
    elif re.fullmatch(r"7\d{10}", digits):
        digits = "+" + digits
    elif re.fullmatch(r"9\d{9}", digits):
        digits = "+7" + digits
    if not _E164.match(digits) or (digits.startswith("+7") and len(digits) != 12):
        raise SmsSettingsError("Номер телефона в формате +7 999 123-45-67 (или международный).")
    return digits


def gateway_config(session: Session) -> GatewayConfig | None:
    """The configured gateway, or None (SMS not available)."""
    row = session.get(SystemSetting, SETTING)
    value: dict[str, Any] = row.value if row is not None and isinstance(row.value, dict) else {}
    if not value.get("base_url") or not value.get("api_key_enc"):
        return None
    try:
        api_key = decrypt_secret(value["api_key_enc"])
    except SecretDecryptionError:
        return None
    return GatewayConfig(
        base_url=value["base_url"].rstrip("/"),
        api_key=api_key,
        sender=value.get("sender") or "",
        daily_cap=int(value.get("daily_cap") or DEFAULT_DAILY_CAP),
    )


def gateway_view(session: Session, *, actor: User | None) -> dict[str, Any]:
    """Admin only: the settings for the form, the key masked."""
    require_admin(actor)
    config = gateway_config(session)
    if config is None:
        return {
            "configured": False,
            "base_url": "",
            "key_masked": "",
            "sender": "",
            "daily_cap": DEFAULT_DAILY_CAP,
        }
    return {
        "configured": True,
        "base_url": config.base_url,
        "key_masked": mask_secret(config.api_key),
        "sender": config.sender,
        "daily_cap": config.daily_cap,
    }


def set_gateway(
    session: Session,
    *,
    actor: User | None,
    base_url: str,
    api_key: str | None,
    sender: str = "",
    daily_cap: int = DEFAULT_DAILY_CAP,
    ip: str = "",
) -> None:
    """Admin only: store the gateway (``api_key=None`` keeps the stored key)."""
    require_admin(actor)
    base_url = base_url.strip()
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise SmsSettingsError("Адрес шлюза: http(s)://…")
    if not isinstance(daily_cap, int) or not 1 <= daily_cap <= 1000:
        raise SmsSettingsError("Лимит SMS в сутки на пользователя: от 1 до 1000.")
    row = session.get(SystemSetting, SETTING) or SystemSetting(key=SETTING)
    previous = row.value if isinstance(row.value, dict) else {}
    key_enc = (
        previous.get("api_key_enc", "") if api_key is None else encrypt_secret(api_key.strip())
    )
    if not key_enc:
        raise SmsSettingsError("Укажите API-ключ шлюза.")
    row.value = {
        "base_url": base_url,
        "api_key_enc": key_enc,
        "sender": sender.strip()[:11],
        "daily_cap": daily_cap,
    }
    row.updated_at = utcnow()
    row.updated_by = actor.id if actor is not None else None
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="settings.changed",
        target_type="setting",
        target_id=SETTING,
        details={"base_url": base_url, "sender": sender, "key_changed": api_key is not None},
        ip=ip,
    )


def send_sms(config: GatewayConfig, *, phone: str, text: str) -> str:
    """Send one SMS now; the gateway's message id, or SmsError with the reason."""
    params = {"api_id": config.api_key, "to": phone.lstrip("+"), "msg": text, "json": "1"}
    if config.sender:
        params["from"] = config.sender
    try:
        response = httpx.post(f"{config.base_url}/sms/send", data=params, timeout=TIMEOUT_SECONDS)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SmsError(f"шлюз недоступен: {type(exc).__name__}: {exc}") from exc
    if body.get("status") != "OK":
        raise SmsError(f"шлюз ответил: {body.get('status_text') or body.get('status_code')}")
    result = (body.get("sms") or {}).get(phone.lstrip("+")) or {}
    if result.get("status") != "OK":
        raise SmsError(f"SMS не принято: {result.get('status_text') or result.get('status_code')}")
    return str(result.get("sms_id") or "")


class SmsChannel:
    """Outbox channel ``sms``: the recipient is an E.164 phone number."""

    name = CHANNEL

    def send(self, session: Session, message: OutgoingMessage) -> str:
        config = gateway_config(session)
        if config is None:
            raise DeliveryError("SMS-шлюз не настроен")
        try:
            send_sms(config, phone=message.recipient, text=message.body)
        except SmsError as exc:
            raise DeliveryError(str(exc)) from exc
        return ""

    def mask(self, recipient: str) -> str:
        return recipient[:4] + "•••••" + recipient[-2:] if len(recipient) > 6 else "•••"
