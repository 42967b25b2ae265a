"""The Telegram webhook: switched on and off through the Bot API (a loopback stand-in),
``/start <code>`` posted to the app's endpoint links the chat as polling would — only
with the bot's secret header; polling stands aside while the webhook is on."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from socstat.api.routes import build_api
from socstat.models import AuditEvent, TelegramLink
from socstat.services.alerts import contacts
from socstat.services.authz import PermissionDenied
from socstat.services.delivery import links, telegram
from tests.fake_gateways import TelegramApi
from tests.services.accounts_fixtures import make_user

BOT_TOKEN = "123456:" + "A" * 35
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
def bot_api():
    server = TelegramApi(BOT_TOKEN).start()
    yield server
    server.stop()


def _start(user_code: str, update_id: int, chat: int) -> dict:
    return {
        "update_id": update_id,
        "message": {"text": f"/start {user_code}", "chat": {"id": chat, "username": "ann"}},
    }


def test_webhook_links_a_chat_only_with_the_secret(db, session, bot_api) -> None:
    admin = make_user(session, "admin@example.com", "admin")
    user = make_user(session, "a@example.com")
    with pytest.raises(telegram.TelegramSettingsError):
        telegram.set_webhook(session, actor=admin, enabled=True)  # no bot yet
    telegram.set_bot(
        session, actor=admin, token=BOT_TOKEN, username="socstat_bot", base_url=bot_api.url
    )
    address = telegram.set_webhook(session, actor=admin, enabled=True)
    session.commit()
    assert address == links.url("/api/telegram/webhook")
    secret = bot_api.webhook["secret_token"]
    assert bot_api.webhook["url"] == address and len(secret) == 64
    assert BOT_TOKEN.split(":")[1] not in secret

    code = contacts.start_telegram_link(session, actor=user).rsplit("start=", 1)[1]
    session.commit()
    bot_api.updates.append(_start(code, 7, 5550001))
    assert contacts.poll_telegram_updates(session) == 0  # the webhook gets the updates now
    assert not any(r["path"].endswith("/getUpdates") for r in bot_api.requests)

    client = TestClient(build_api())
    url = "/api/telegram/webhook"
    assert client.post(url, json=_start(code, 7, 666)).status_code == 403
    assert (
        client.post(url, json=_start(code, 7, 666), headers={HEADER: "0" * 64}).status_code == 403
    )
    assert client.post(url, content=b"{oops", headers={HEADER: secret}).status_code == 200
    session.expire_all()
    assert session.get(TelegramLink, user.id).chat_id is None
    assert (
        client.post(url, json=_start(code, 7, 5550001), headers={HEADER: secret}).status_code == 200
    )
    session.expire_all()
    assert session.get(TelegramLink, user.id).chat_id == "5550001"

    # Saving the bot again keeps the webhook; switching it off goes back to polling.
    telegram.set_bot(session, actor=admin, token=None, username="socstat_bot", base_url=bot_api.url)
    session.commit()
    assert telegram.bot_config(session).webhook
    telegram.set_webhook(session, actor=admin, enabled=False)
    session.commit()
    assert bot_api.webhook is None
    assert client.post(url, json=_start(code, 8, 1), headers={HEADER: secret}).status_code == 403
    assert contacts.poll_telegram_updates(session) == 0  # polled: the used code links nothing
    assert any(r["path"].endswith("/getUpdates") for r in bot_api.requests)
    events = session.exec(
        select(AuditEvent.details).where(AuditEvent.target_id == telegram.SETTING)
    ).all()
    assert {"webhook": address} in events and {"webhook": ""} in events


def test_only_admins_switch_the_webhook(db, session, bot_api) -> None:
    admin = make_user(session, "admin@example.com", "admin")
    telegram.set_bot(
        session, actor=admin, token=BOT_TOKEN, username="socstat_bot", base_url=bot_api.url
    )
    analyst = make_user(session, "a@example.com")
    with pytest.raises(PermissionDenied):
        telegram.set_webhook(session, actor=analyst, enabled=True)
    assert bot_api.webhook is None
