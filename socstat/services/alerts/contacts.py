"""A user's external channels: a phone confirmed by an SMS code, a Telegram chat linked
by a one-time ``/start <code>`` deep link (received by polling or a webhook)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from socstat.crypto import hash_token
from socstat.models import SystemSetting, TelegramLink, User, UserPhone, utcnow
from socstat.services import audit, delivery
from socstat.services.authz import require_active
from socstat.services.delivery import sms, telegram

CODE_TTL = timedelta(minutes=15)
LINK_TTL = timedelta(hours=1)
MAX_CODE_ATTEMPTS = 5
OFFSET_SETTING = "telegram_update_offset"


class ContactError(ValueError):
    """A phone or Telegram step that cannot be done (Russian message)."""


@dataclass(frozen=True)
class ContactsView:
    phone: str
    phone_confirmed: bool
    phone_pending: bool
    sms_available: bool
    telegram_linked: bool
    telegram_username: str
    telegram_available: bool


def contacts_view(session: Session, *, actor: User | None) -> ContactsView:
    user = require_active(actor)
    phone = session.get(UserPhone, user.id)
    link = session.get(TelegramLink, user.id)
    return ContactsView(
        phone=phone.phone if phone else "",
        phone_confirmed=bool(phone and phone.confirmed_at),
        phone_pending=bool(phone and not phone.confirmed_at and phone.code_hash),
        sms_available=sms.gateway_config(session) is not None,
        telegram_linked=bool(link and link.chat_id),
        telegram_username=link.username if link else "",
        telegram_available=telegram.bot_config(session) is not None,
    )


def _code_hash(user_id: int, code: str) -> str:
    return hash_token(f"phone:{user_id}:{code}")


def set_phone(session: Session, *, actor: User | None, phone: str, ip: str = "") -> str:
    """Store the (normalised) number unconfirmed and queue an SMS with a code; returns
    the number. SmsSettingsError for a bad number, ContactError without a gateway."""
    user = require_active(actor)
    number = sms.normalize_phone(phone)
    if sms.gateway_config(session) is None:
        raise ContactError("SMS-шлюз не настроен: обратитесь к администратору.")
    code = f"{secrets.randbelow(10**6):06d}"
    row = session.get(UserPhone, user.id) or UserPhone(user_id=user.id or 0, phone=number)
    row.phone = number
    row.confirmed_at = None
    row.code_hash = _code_hash(user.id or 0, code)
    row.code_expires_at = utcnow() + CODE_TTL
    row.code_attempts = 0
    row.updated_at = utcnow()
    session.add(row)
    delivery.enqueue(
        session,
        channel=sms.CHANNEL,
        to=number,
        subject="",
        body=f"socstat: код подтверждения {code}",
        dedup_key=f"phone-code:{row.code_hash}",
        max_attempts=3,
    )
    audit.record(
        session, actor=user, action="phone.set", target_type="user", target_id=user.id or "", ip=ip
    )
    return number


def confirm_phone(
    session: Session, *, actor: User | None, code: str, now: datetime | None = None
) -> None:
    user = require_active(actor)
    now = now or utcnow()
    row = session.get(UserPhone, user.id)
    if row is None or not row.code_hash or row.code_expires_at is None:
        raise ContactError("Сначала укажите номер телефона.")
    if row.code_expires_at < now or row.code_attempts >= MAX_CODE_ATTEMPTS:
        raise ContactError("Код устарел: запросите новый.")
    row.code_attempts += 1
    session.add(row)
    if not secrets.compare_digest(row.code_hash, _code_hash(user.id or 0, code.strip())):
        raise ContactError("Неверный код.")
    row.confirmed_at = now
    row.code_hash = ""
    row.code_expires_at = None


def remove_phone(session: Session, *, actor: User | None) -> None:
    user = require_active(actor)
    row = session.get(UserPhone, user.id)
    if row is not None:
        session.delete(row)


def start_telegram_link(
    session: Session, *, actor: User | None, now: datetime | None = None
) -> str:
    """A one-time deep link ``https://t.me/<bot>?start=<code>`` for the actor."""
    user = require_active(actor)
    config = telegram.bot_config(session)
    if config is None:
        raise ContactError("Telegram-бот не настроен: обратитесь к администратору.")
    code = secrets.token_urlsafe(16)
    row = session.get(TelegramLink, user.id) or TelegramLink(user_id=user.id or 0)
    row.code_hash = hash_token(f"telegram:{code}")
    row.code_expires_at = (now or utcnow()) + LINK_TTL
    session.add(row)
    return f"https://t.me/{config.username}?start={code}"


def unlink_telegram(session: Session, *, actor: User | None) -> None:
    user = require_active(actor)
    row = session.get(TelegramLink, user.id)
    if row is not None:
        session.delete(row)


def handle_update(session: Session, update: dict[str, Any], *, now: datetime | None = None) -> bool:
    """Link a chat from a ``/start <code>`` message; True when a chat was linked."""
    message = update.get("message") or {}
    text = str(message.get("text") or "")
    chat = message.get("chat") or {}
    if not text.startswith("/start ") or "id" not in chat:
        return False
    code = text.split(maxsplit=1)[1].strip()
    row = session.exec(
        select(TelegramLink).where(TelegramLink.code_hash == hash_token(f"telegram:{code}"))
    ).first()
    now = now or utcnow()
    if row is None or row.code_expires_at is None or row.code_expires_at < now:
        return False
    row.chat_id = str(chat["id"])
    row.username = str(chat.get("username") or "")[:64]
    row.linked_at = now
    row.code_hash = None
    row.code_expires_at = None
    session.add(row)
    delivery.enqueue(
        session,
        channel=telegram.CHANNEL,
        to=row.chat_id,
        subject="",
        body="socstat: чат привязан, оповещения будут приходить сюда.",
        dedup_key=f"telegram-linked:{row.user_id}:{update.get('update_id')}",
    )
    return True


def receive_webhook(
    session: Session, *, secret: str, update: Any, now: datetime | None = None
) -> bool:
    """One update Telegram posted to the webhook, handled as a polled one; False (nothing
    done) unless the webhook is on and ``secret`` (the ``X-Telegram-Bot-Api-Secret-Token``
    header) is the bot's."""
    config = telegram.bot_config(session)
    if config is None or not config.webhook:
        return False
    if not hmac.compare_digest(secret.encode(), telegram.webhook_secret(config).encode()):
        return False
    if isinstance(update, dict):
        handle_update(session, update, now=now)
    return True


def poll_telegram_updates(session: Session, *, now: datetime | None = None) -> int:
    """One ``getUpdates`` call (the scheduler job); returns how many chats were linked.
    Nothing to poll while the webhook is on (Telegram refuses ``getUpdates`` then)."""
    config = telegram.bot_config(session)
    if config is None or config.webhook:
        return 0
    stored = session.get(SystemSetting, OFFSET_SETTING) or SystemSetting(
        key=OFFSET_SETTING, value=0
    )
    updates = telegram.call(
        config,
        "getUpdates",
        {"offset": int(stored.value or 0), "timeout": 0, "allowed_updates": ["message"]},
    )
    linked = 0
    for update in updates or []:
        linked += handle_update(session, update, now=now)
        stored.value = max(int(stored.value or 0), int(update.get("update_id", 0)) + 1)
    stored.updated_at = utcnow()
    session.add(stored)
    return linked
