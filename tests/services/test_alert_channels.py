"""SMS and Telegram through the outbox against loopback stand-ins of the gateways."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from socstat.models import Outbox, OutboxStatus, SystemSetting, TelegramLink, UserPhone, utcnow
from socstat.services import alerts, delivery
from socstat.services.alerts import contacts
from socstat.services.delivery import sms, telegram
from tests.fake_gateways import SmsGateway, TelegramApi
from tests.services.accounts_fixtures import make_user

API_KEY = "sms-key-0123456789"
BOT_TOKEN = "123456:" + "A" * 35


@pytest.fixture
def gateway():
    server = SmsGateway(API_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def bot_api():
    server = TelegramApi(BOT_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def admin(session):
    return make_user(session, "admin@example.com", "admin")


def _configure_sms(session, admin, url: str) -> None:
    sms.set_gateway(
        session, actor=admin, base_url=url, api_key=API_KEY, sender="socstat", daily_cap=3
    )
    session.commit()


def _configure_bot(session, admin, url: str) -> None:
    telegram.set_bot(session, actor=admin, token=BOT_TOKEN, username="socstat_bot", base_url=url)
    session.commit()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8 (912) 345-67-89", "+79123456789"),
        ("+7 912 345 67 89", "+79123456789"),
        ("9123456789", "+79123456789"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_numbers_are_normalised(raw, expected) -> None:
    assert sms.normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "+7 912 345", "phone", "+0123456789"])
def test_bad_phone_numbers_are_refused(raw) -> None:
    with pytest.raises(sms.SmsSettingsError):
        sms.normalize_phone(raw)


def test_api_key_is_stored_encrypted(db, session, admin, gateway) -> None:
    _configure_sms(session, admin, gateway.url)
    stored = session.get(SystemSetting, sms.SETTING).value
    assert API_KEY not in str(stored)
    assert sms.gateway_config(session).api_key == API_KEY


def test_phone_confirmed_by_code_then_sms_rule_allowed(db, session, admin, gateway) -> None:
    user = make_user(session, "a@example.com")
    fields = {"name": "", "metric": "posts", "threshold": 1, "channels": ["sms"]}
    with pytest.raises(alerts.AlertRuleError) as refused:
        alerts.create_alert_rule(session, actor=user, **fields)
    _configure_sms(session, admin, gateway.url)
    with pytest.raises(alerts.AlertRuleError) as refused:
        alerts.create_alert_rule(session, actor=user, **fields)
    assert refused.value.link == "/profile#channels"
    contacts.set_phone(session, actor=user, phone="8 912 345-67-89")
    session.commit()
    report = delivery.deliver_due()
    assert len(report.sent) == 1
    [(to, text)] = gateway.texts()
    assert to == "79123456789" and gateway.requests[0]["from"] == "socstat"
    code = re.search(r"\d{6}", text).group(0)
    with pytest.raises(contacts.ContactError):
        contacts.confirm_phone(session, actor=user, code="000000" if code != "000000" else "111111")
    contacts.confirm_phone(session, actor=user, code=code)
    session.commit()
    assert session.get(UserPhone, user.id).confirmed_at is not None
    alerts.create_alert_rule(session, actor=user, **fields)


def test_sms_gateway_down_then_up_delivers_once(db, session, admin, gateway) -> None:
    _configure_sms(session, admin, gateway.url)
    port = int(gateway.url.rsplit(":", 1)[1])
    gateway.stop()
    delivery.enqueue(
        session, channel="sms", to="+79123456789", subject="", body="тест", dedup_key="t1"
    )
    delivery.enqueue(
        session, channel="sms", to="+79123456789", subject="", body="тест", dedup_key="t1"
    )
    session.commit()
    report = delivery.deliver_due()
    assert len(report.retrying) == 1 and not report.sent
    again = SmsGateway(API_KEY, port=port).start()
    try:
        later = utcnow() + timedelta(hours=1)
        for _ in range(2):
            delivery.deliver_due(now=later)
        assert again.texts() == [("79123456789", "тест")]
    finally:
        again.stop()
    [row] = session.exec(select(Outbox)).all()
    session.refresh(row)
    assert row.status == OutboxStatus.SENT and row.attempts == 2


def test_telegram_link_by_start_code_and_429_retry_after(db, session, admin, bot_api) -> None:
    user = make_user(session, "a@example.com")
    _configure_bot(session, admin, bot_api.url)
    link = contacts.start_telegram_link(session, actor=user)
    session.commit()
    code = link.rsplit("start=", 1)[1]
    assert link.startswith("https://t.me/socstat_bot?start=")
    bot_api.updates.append(
        {
            "update_id": 41,
            "message": {"text": f"/start {code}", "chat": {"id": 5550001, "username": "ann"}},
        }
    )
    bot_api.updates.append(
        {"update_id": 42, "message": {"text": "/start wrong", "chat": {"id": 9}}}
    )
    assert contacts.poll_telegram_updates(session) == 1
    session.commit()
    assert contacts.poll_telegram_updates(session) == 0  # offset moved past both updates
    session.commit()
    assert session.get(TelegramLink, user.id).chat_id == "5550001"
    bot_api.too_many = 1
    first = delivery.deliver_due()
    assert len(first.retrying) == 1 and bot_api.sent() == []
    [row] = session.exec(select(Outbox).where(Outbox.channel == "telegram")).all()
    session.refresh(row)
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert delivery.deliver_due().sent == []  # retry_after not over yet
    time.sleep(1.1)  # the per-chat limit (one message a second) runs on the real clock
    delivery.deliver_due(now=utcnow() + timedelta(seconds=2))
    assert bot_api.sent() == [
        ("5550001", "socstat: чат привязан, оповещения будут приходить сюда.")
    ]
    assert bot_api.attempts() == 2
    contacts.unlink_telegram(session, actor=user)
    session.commit()
    assert session.get(TelegramLink, user.id) is None


def test_system_alerts_reach_the_channels_each_admin_has_set_up(
    db, session, admin, bot_api
) -> None:
    from socstat.services.alerts.system import BACKUP_FAILED_TITLE, backup_failed

    other = make_user(session, "admin2@example.com", "admin")
    _configure_bot(session, admin, bot_api.url)
    session.add(TelegramLink(user_id=admin.id, chat_id="5550002", linked_at=utcnow()))
    session.commit()
    for _ in range(2):  # the second failure the same day adds nothing
        backup_failed(session, reason="диск заполнен", now=utcnow())
        session.commit()
    rows = session.exec(select(Outbox)).all()
    assert sorted((m.channel, m.recipient) for m in rows) == sorted(
        [("email", admin.email), ("email", other.email), ("telegram", "5550002")]
    )
    delivery.deliver_due()
    [(chat, text)] = bot_api.sent()
    assert chat == "5550002" and text.startswith(BACKUP_FAILED_TITLE)
