"""Telegram Bot API: the bot's settings (token encrypted), sending and chat linking.

A user links a chat by opening ``https://t.me/<bot>?start=<code>``; the bot receives
``/start <code>`` through ``getUpdates`` (a scheduler job) or a webhook. Sending respects
Telegram's limits (about 1 message/s per chat, 30/s overall) and its 429 ``retry_after``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import httpx
from sqlmodel import Session

from socstat.crypto import mask_secret
from socstat.models import User
from socstat.services.authz import require_admin
from socstat.services.delivery import gateway_settings, links, telegram_pacing
from socstat.services.delivery.channels import DeliveryError, OutgoingMessage
from socstat.services.errors import FieldError

SETTING = "telegram_bot"
CHANNEL = "telegram"
DEFAULT_BASE_URL = "https://api.telegram.org"
TIMEOUT_SECONDS = 15
_TOKEN = re.compile(r"^\d{3,15}:[\w-]{20,100}$")
SECRET_FIELD = "token_enc"
WEBHOOK_PATH = "/api/telegram/webhook"
PERMANENT_CODES = (400, 403)


class TelegramError(RuntimeError):
    """Telegram refused or could not be reached. ``retry_after``: seconds Telegram asked
    to wait (429); ``code``: Telegram's error code (None when it was not reached)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, code: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.code = code


class TelegramSettingsError(FieldError, ValueError):
    """Bad bot settings (Russian message; ``field`` the argument)."""


@dataclass(frozen=True)
class BotConfig:
    token: str
    base_url: str
    username: str
    webhook: bool = False  # updates arrive at WEBHOOK_PATH instead of through getUpdates


def bot_config(session: Session) -> BotConfig | None:
    stored = gateway_settings.read(session, SETTING, SECRET_FIELD)
    if not stored.secret:
        return None
    return BotConfig(
        token=stored.secret,
        base_url=(stored.value.get("base_url") or DEFAULT_BASE_URL).rstrip("/"),
        username=stored.value.get("username") or "",
        webhook=bool(stored.value.get("webhook")),
    )


def bot_view(session: Session, *, actor: User | None) -> dict[str, Any]:
    """Admin only: the settings for the form, the token masked (or flagged unreadable)."""
    require_admin(actor)
    stored = gateway_settings.read(session, SETTING, SECRET_FIELD)
    return {
        "configured": bool(stored.secret),
        "base_url": stored.value.get("base_url") or DEFAULT_BASE_URL,
        "token_masked": mask_secret(stored.secret) if stored.secret else "",
        "token_unreadable": stored.unreadable,
        "username": stored.value.get("username") or "",
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
    """Admin only: store the bot (``token`` None or empty keeps the stored token)."""
    require_admin(actor)
    base_url = gateway_settings.check_url(
        base_url or DEFAULT_BASE_URL, error=TelegramSettingsError, what="Адрес Bot API"
    )
    username = (username or "").strip().lstrip("@")
    if not re.fullmatch(r"[A-Za-z][\w]{3,31}", username):
        raise TelegramSettingsError(
            "Имя бота: латинские буквы, цифры и _, от 4 до 32 символов (например socstat_bot).",
            field="username",
        )
    if token is not None and token.strip() and not _TOKEN.match(token.strip()):
        raise TelegramSettingsError(
            "Токен бота выглядит как 123456:ABC… (его выдаёт @BotFather).", field="token"
        )
    stored = gateway_settings.read(session, SETTING, SECRET_FIELD)
    token_enc = gateway_settings.secret_to_store(
        stored,
        SECRET_FIELD,
        token,
        error=TelegramSettingsError,
        field_name="token",
        what="токен бота",
    )
    gateway_settings.save(
        session,
        actor=actor,
        key=SETTING,
        value={
            SECRET_FIELD: token_enc,
            "base_url": base_url,
            "username": username,
            "webhook": bool(stored.value.get("webhook")),
        },
        details={
            "base_url": base_url,
            "username": username,
            "new_credential": bool(token and token.strip()),
        },
        ip=ip,
    )


def webhook_secret(config: BotConfig) -> str:
    """The ``X-Telegram-Bot-Api-Secret-Token`` Telegram sends with every webhook call:
    derived from the bot token (so it changes with the token), hex as Telegram allows."""
    return hashlib.sha256(f"socstat-webhook:{config.token}".encode()).hexdigest()


def set_webhook(session: Session, *, actor: User | None, enabled: bool, ip: str = "") -> str:
    """Admin only: have Telegram deliver updates to ``<SOCSTAT_BASE_URL>/api/telegram/
    webhook`` (``setWebhook`` with the secret token) or go back to polling
    (``deleteWebhook``); stored and audited. Returns the webhook URL."""
    require_admin(actor)
    config = bot_config(session)
    if config is None:
        raise TelegramSettingsError("Сначала настройте бота (токен и имя).", field="token")
    address = links.url(WEBHOOK_PATH)
    try:
        if enabled:
            payload = {
                "url": address,
                "secret_token": webhook_secret(config),
                "allowed_updates": ["message"],
            }
            call(config, "setWebhook", payload)
        else:
            call(config, "deleteWebhook", {})
    except TelegramError as exc:
        raise TelegramSettingsError(f"Telegram не принял запрос: {exc}", field="webhook") from exc
    stored = gateway_settings.read(session, SETTING, SECRET_FIELD)
    gateway_settings.save(
        session,
        actor=actor,
        key=SETTING,
        value={**stored.value, "webhook": enabled},
        details={"webhook": address if enabled else ""},
        ip=ip,
    )
    return address


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
    code = body.get("error_code")
    raise TelegramError(
        f"Bot API {code}: {body.get('description')}",
        retry_after=float(retry_after) if retry_after is not None else None,
        code=code if isinstance(code, int) else None,
    )


def send_message(config: BotConfig, *, chat_id: str, text: str) -> None:
    call(config, "sendMessage", {"chat_id": chat_id, "text": text[:4096]})


class TelegramChannel:
    """Outbox channel ``telegram``: the recipient is a chat id."""

    name = CHANNEL

    def send(self, session: Session, message: OutgoingMessage) -> str:
        config = bot_config(session)
        if config is None:
            raise DeliveryError("Telegram-бот не настроен")
        if not telegram_pacing.acquire(message.recipient):
            raise DeliveryError("лимит Telegram: сообщение отложено", retry_after=1.0)
        try:
            send_message(config, chat_id=message.recipient, text=message.body)
        except TelegramError as exc:
            # 400 (chat not found…) and 403 (the user blocked the bot) do not pass on retry
            permanent = exc.code in PERMANENT_CODES
            raise DeliveryError(str(exc), permanent=permanent, retry_after=exc.retry_after) from exc
        return ""

    def mask(self, recipient: str) -> str:
        return "чат ••••" + recipient[-3:]
