"""Telegram Bot API: the bot's settings (token encrypted), sending and chat linking.

A user links a chat by opening ``https://t.me/<bot>?start=<code>``; the bot receives
``/start <code>`` through ``getUpdates`` (a scheduler job) or a webhook. Sending respects
Telegram's limits (about 1 message/s per chat, 30/s overall) and its 429 ``retry_after``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlmodel import Session

from socstat.crypto import SecretDecryptionError, decrypt_secret, encrypt_secret, mask_secret
from socstat.models import SystemSetting, User, utcnow
from socstat.services import audit
from socstat.services.authz import require_admin
from socstat.services.delivery.channels import DeliveryError, OutgoingMessage

SETTING = "telegram_bot"
CHANNEL = "telegram"
DEFAULT_BASE_URL = "https://api.telegram.org"
TIMEOUT_SECONDS = 15
_TOKEN = re.compile(r"^\d{3,15}:[\w-]{20,100}$")


class TelegramError(RuntimeError):
    """Telegram refused or could not be reached. ``retry_after``: seconds Telegram asked
    to wait (429)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TelegramSettingsError(ValueError):
    """Bad bot settings (Russian message)."""


@dataclass(frozen=True)
class BotConfig:
    token: str
    base_url: str
    username: str


def bot_config(session: Session) -> BotConfig | None:
    row = session.get(SystemSetting, SETTING)
    value: dict[str, Any] = row.value if row is not None and isinstance(row.value, dict) else {}
    if not value.get("token_enc"):
        return None
    try:
        token = decrypt_secret(value["token_enc"])
    except SecretDecryptionError:
        return None
    return BotConfig(
        token=token,
        base_url=(value.get("base_url") or DEFAULT_BASE_URL).rstrip("/"),
        username=value.get("username") or "",
    )


def bot_view(session: Session, *, actor: User | None) -> dict[str, Any]:
    require_admin(actor)
    config = bot_config(session)
    if config is None:
        return {
            "configured": False,
            "base_url": DEFAULT_BASE_URL,
            "token_masked": "",
            "username": "",
        }
    return {
        "configured": True,
        "base_url": config.base_url,
        "token_masked": mask_secret(config.token),
        "username": config.username,
    }


def set_bot(
    session: Session,
    *,
    actor: User | None,
    token: str | None,
    username: str,
    base_url: str = DEFAULT_BASE_URL,
    ip: str = "",
) -> None:
    """Admin only: store the bot (``token=None`` keeps the stored token)."""
    require_admin(actor)
    base_url = (base_url or DEFAULT_BASE_URL).strip()
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise TelegramSettingsError("Адрес Bot API: http(s)://…")
    username = username.strip().lstrip("@")
    if not re.fullmatch(r"[A-Za-z][\w]{3,31}", username):
        raise TelegramSettingsError("Укажите имя бота (например socstat_bot).")
    row = session.get(SystemSetting, SETTING) or SystemSetting(key=SETTING)
    previous = row.value if isinstance(row.value, dict) else {}
    if token is not None and not _TOKEN.match(token.strip()):
        raise TelegramSettingsError("Токен бота выглядит как 123456:ABC… (его выдаёт @BotFather).")
    token_enc = previous.get("token_enc", "") if token is None else encrypt_secret(token.strip())
    if not token_enc:
        raise TelegramSettingsError("Укажите токен бота.")
    row.value = {"token_enc": token_enc, "base_url": base_url, "username": username}
    row.updated_at = utcnow()
    row.updated_by = actor.id if actor is not None else None
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="settings.changed",
        target_type="setting",
        target_id=SETTING,
        details={"base_url": base_url, "username": username, "token_changed": token is not None},
        ip=ip,
    )


def call(config: BotConfig, method: str, payload: dict[str, Any]) -> Any:
    """One Bot API call; its ``result``, or TelegramError (with ``retry_after`` on 429)."""
    url = f"{config.base_url}/bot{config.token}/{method}"
    try:
        response = httpx.post(url, json=payload, timeout=TIMEOUT_SECONDS)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise TelegramError(f"Bot API недоступен: {type(exc).__name__}") from exc
    if body.get("ok"):
        return body.get("result")
    retry_after = (body.get("parameters") or {}).get("retry_after")
    raise TelegramError(
        f"Bot API {body.get('error_code')}: {body.get('description')}",
        retry_after=float(retry_after) if retry_after is not None else None,
    )


def send_message(config: BotConfig, *, chat_id: str, text: str) -> None:
    call(config, "sendMessage", {"chat_id": chat_id, "text": text[:4096]})


# Telegram's limits: about one message a second to a chat, 30 a second overall. Kept per
# process (SQLite runs one deliverer; on PostgreSQL each worker keeps its own share).
_LIMITER = MovingWindowRateLimiter(MemoryStorage())
_PER_CHAT = RateLimitItemPerSecond(1)
_OVERALL = RateLimitItemPerSecond(30)


class TelegramChannel:
    """Outbox channel ``telegram``: the recipient is a chat id."""

    name = CHANNEL

    def send(self, session: Session, message: OutgoingMessage) -> str:
        config = bot_config(session)
        if config is None:
            raise DeliveryError("Telegram-бот не настроен")
        if not _LIMITER.hit(_OVERALL, "telegram") or not _LIMITER.hit(
            _PER_CHAT, "telegram", message.recipient
        ):
            raise DeliveryError("лимит Telegram: сообщение отложено", retry_after=1.0)
        try:
            send_message(config, chat_id=message.recipient, text=message.body)
        except TelegramError as exc:
            raise DeliveryError(str(exc), retry_after=exc.retry_after) from exc
        return ""

    def mask(self, recipient: str) -> str:
        return "чат ••••" + recipient[-3:]
