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

from socstat.crypto import mask_secret
from socstat.models import User
from socstat.services.authz import require_admin
from socstat.services.delivery import gateway_settings
from socstat.services.delivery.channels import DeliveryError, OutgoingMessage
from socstat.services.errors import FieldError

SETTING = "sms_gateway"
CHANNEL = "sms"
DEFAULT_DAILY_CAP = 20
DAILY_CAP_PROBLEM = "Лимит SMS в сутки на пользователя: целое число от 1 до 1000."
TIMEOUT_SECONDS = 15
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9 ._-]{0,10}")
_API_KEY = re.compile(r"\S{1,200}")
SECRET_FIELD = "api_key_enc"


class SmsError(RuntimeError):
    """The gateway refused or could not be reached (the reason)."""


class SmsSettingsError(FieldError, ValueError):
    """Bad gateway settings or phone number (Russian message; ``field`` the argument)."""


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
        raise SmsSettingsError(
            "Номер телефона в формате +7 999 123-45-67 (или международный).", field="phone"
        )
    return digits


def gateway_config(session: Session) -> GatewayConfig | None:
    """The configured gateway, or None (SMS not available)."""
    stored = gateway_settings.read(session, SETTING, SECRET_FIELD)
    if not stored.value.get("base_url") or not stored.secret:
        return None
    return GatewayConfig(
        base_url=stored.value["base_url"].rstrip("/"),
        api_key=stored.secret,
        sender=stored.value.get("sender") or "",
        daily_cap=int(stored.value.get("daily_cap") or DEFAULT_DAILY_CAP),
    )


def gateway_view(session: Session, *, actor: User | None) -> dict[str, Any]:
    """Admin only: the settings for the form, the key masked (or flagged unreadable)."""
    require_admin(actor)
    stored = gateway_settings.read(session, SETTING, SECRET_FIELD)
    return {
        "configured": gateway_config(session) is not None,
        "base_url": stored.value.get("base_url") or "",
        "key_masked": mask_secret(stored.secret) if stored.secret else "",
        "key_unreadable": stored.unreadable,
        "sender": stored.value.get("sender") or "",
        "daily_cap": int(stored.value.get("daily_cap") or DEFAULT_DAILY_CAP),
    }


def check_sender(raw: str) -> str:
    """The sender name as SMS.ru accepts it: up to 11 Latin letters, digits, ``.``, ``-``,
    ``_`` or spaces with at least one letter; "" lets the gateway use its default."""
    sender = (raw or "").strip()
    if sender and not _SENDER.fullmatch(sender):
        raise SmsSettingsError(
            "Имя отправителя: до 11 латинских букв, цифр, точек, дефисов или пробелов, "
            "хотя бы одна буква (например socstat).",
            field="sender",
        )
    return sender


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
    """Admin only: store the gateway (``api_key`` None or empty keeps the stored key)."""
    require_admin(actor)
    base_url = gateway_settings.check_url(base_url, error=SmsSettingsError, what="Адрес шлюза")
    if api_key is not None and api_key.strip() and not _API_KEY.fullmatch(api_key.strip()):
        raise SmsSettingsError(
            "API-ключ — строка без пробелов, как её выдал шлюз (до 200 символов).",
            field="api_key",
        )
    sender = check_sender(sender)
    if isinstance(daily_cap, bool) or not isinstance(daily_cap, int) or not 1 <= daily_cap <= 1000:
        raise SmsSettingsError(DAILY_CAP_PROBLEM, field="daily_cap")
    stored = gateway_settings.read(session, SETTING, SECRET_FIELD)
    key_enc = gateway_settings.secret_to_store(
        stored,
        SECRET_FIELD,
        api_key,
        error=SmsSettingsError,
        field_name="api_key",
        what="API-ключ шлюза",
    )
    gateway_settings.save(
        session,
        actor=actor,
        key=SETTING,
        value={
            "base_url": base_url,
            SECRET_FIELD: key_enc,
            "sender": sender,
            "daily_cap": daily_cap,
        },
        details={
            "base_url": base_url,
            "sender": sender,
            "daily_cap": daily_cap,
            "new_credential": bool(api_key and api_key.strip()),
        },
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
