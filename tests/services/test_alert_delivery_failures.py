"""A rule's messages that fail for good in the outbox show up in the rule's history
(channel, reason, time) for its owner — not for other users; loopback gateways refuse."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from sqlmodel import select

from socstat.models import (
    AlertFiring,
    AlertRule,
    FiringState,
    Outbox,
    OutboxStatus,
    TelegramLink,
    User,
    UserPhone,
    utcnow,
)
from socstat.services import alerts, delivery
from socstat.services.alerts.notices import announce
from socstat.services.delivery import sms, telegram
from socstat.ui.pages.alerts.state import _history
from tests.fake_gateways import SmsGateway, TelegramApi
from tests.services.accounts_fixtures import make_user

API_KEY = "sms-key-0123456789"
BOT_TOKEN = "123456:" + "A" * 35
CHAT = "5550001"


@pytest.fixture
def gateways():
    refusing_sms = SmsGateway("another-key").start()  # answers «Неверный api_id»
    bot_api = TelegramApi(BOT_TOKEN).start()
    bot_api.blocked.add(CHAT)
    yield refusing_sms, bot_api
    refusing_sms.stop()
    bot_api.stop()


def _owner_with_channels(session, gateways):
    refusing_sms, bot_api = gateways
    admin = make_user(session, "admin@example.com", "admin")
    sms.set_gateway(session, actor=admin, base_url=refusing_sms.url, api_key=API_KEY)
    telegram.set_bot(
        session, actor=admin, token=BOT_TOKEN, username="socstat_bot", base_url=bot_api.url
    )
    owner = make_user(session, "owner@example.com")
    now = utcnow()
    session.add(UserPhone(user_id=owner.id, phone="+79123456789", confirmed_at=now))
    session.add(TelegramLink(user_id=owner.id, chat_id=CHAT, linked_at=now))
    session.commit()
    return owner


def _fire(session, rule_id: int) -> AlertFiring:
    rule = session.get(AlertRule, rule_id)
    firing = AlertFiring(
        rule_id=rule_id,
        key="2026-03-10:0",
        state=FiringState.FIRED,
        window_start=date(2026, 3, 10),
        window_end=date(2026, 3, 10),
        value=5,
    )
    session.add(firing)
    session.flush()
    announce(session, rule, firing, utcnow())
    session.commit()
    return firing


def test_permanent_failures_show_in_the_owners_rule_history(db, session, gateways) -> None:
    owner = _owner_with_channels(session, gateways)
    rule = alerts.create_alert_rule(
        session,
        actor=owner,
        name="Посты",
        metric="posts",
        threshold=1,
        channels=["inapp", "sms", "telegram"],
    )
    session.commit()
    _fire(session, rule.id)
    queued = session.exec(select(Outbox).order_by(Outbox.id)).all()
    assert [(m.channel, m.payload["alert_rule_id"]) for m in queued] == [
        ("sms", rule.id),
        ("telegram", rule.id),
    ]

    first = delivery.deliver_due()
    assert len(first.failed) == 1 and len(first.retrying) == 1  # 403: Telegram gives up at once
    moment = utcnow()
    for attempt in range(1, sms_attempts := queued[0].max_attempts):
        moment += timedelta(hours=7)
        report = delivery.deliver_due(now=moment)
        assert report.failed == ([queued[0].id] if attempt == sms_attempts - 1 else [])
    session.expire_all()
    assert {m.status for m in session.exec(select(Outbox)).all()} == {OutboxStatus.FAILED}

    history = alerts.rule_history(session, actor=owner, rule_id=rule.id)
    undelivered = [e for e in history if e.state == "undelivered"]
    assert [(e.channel, e.created_at) for e in undelivered] == [
        ("sms", moment),
        ("telegram", undelivered[1].created_at),
    ]
    assert undelivered[1].created_at <= moment - timedelta(hours=7)
    assert "Неверный api_id" in undelivered[0].reason and undelivered[0].reason.startswith("SMS")
    assert "blocked by the user" in undelivered[1].reason
    assert history[0] == undelivered[0]  # newest first, the firing last
    assert [e.state for e in history] == ["undelivered", "undelivered", "fired"]

    rows = _history(session, owner, rule.id)  # what the /alerts page shows
    assert [(r["state"], r["reason"][:4]) for r in rows[:2]] == [
        ("не доставлено", "SMS:"),
        ("не доставлено", "Tele"),
    ]

    stranger = make_user(session, "stranger@example.com")
    with pytest.raises(LookupError):
        alerts.rule_history(session, actor=stranger, rule_id=rule.id)
    other = alerts.create_alert_rule(
        session, actor=stranger, name="", metric="posts", threshold=1, channels=["inapp"]
    )
    session.commit()
    assert alerts.rule_history(session, actor=stranger, rule_id=other.id) == []


def test_a_message_retried_by_an_admin_and_sent_leaves_the_history(db, session, gateways) -> None:
    owner = _owner_with_channels(session, gateways)
    rule = alerts.create_alert_rule(
        session, actor=owner, name="", metric="posts", threshold=1, channels=["telegram"]
    )
    session.commit()
    _fire(session, rule.id)
    delivery.deliver_due()
    [entry] = [
        e
        for e in alerts.rule_history(session, actor=owner, rule_id=rule.id)
        if e.state == "undelivered"
    ]
    _, bot_api = gateways
    bot_api.blocked.clear()  # the user unblocked the bot
    admin = session.exec(select(User).where(User.role == "admin")).one()
    assert delivery.retry_message(session, actor=admin, outbox_id=entry.id)
    session.commit()
    time.sleep(1.1)  # Telegram's one message a second to a chat counts the refused attempt
    assert delivery.deliver_due().sent == [entry.id]
    history = alerts.rule_history(session, actor=owner, rule_id=rule.id)
    assert [e.state for e in history] == ["fired"]
