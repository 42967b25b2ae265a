"""SMS gateway and Telegram bot settings: validated by field, the secret encrypted, kept
when left empty and only shown masked, every change audited; the CLI stores through the
same functions; the rule form's refusal links to where the channel is set up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import select

from socstat.models import AuditEvent, SystemSetting
from socstat.services import alerts, audit
from socstat.services.authz import PermissionDenied
from socstat.services.delivery import sms, telegram
from socstat.settings import PROJECT_ROOT
from tests.services.accounts_fixtures import make_user

API_KEY = "sms-key-0123456789"
BOT_TOKEN = "123456:" + "A" * 35


@pytest.fixture
def admin(session):
    return make_user(session, "admin@example.com", "admin")


def _gateway(session, admin, **changes) -> None:
    values = {
        "base_url": "https://sms.example.ru/",
        "api_key": API_KEY,
        "sender": "socstat",
        "daily_cap": 5,
    }
    values.update(changes)
    sms.set_gateway(session, actor=admin, **values)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"base_url": "sms.example.ru"}, "base_url"),
        ({"base_url": "ftp://sms.example.ru"}, "base_url"),
        ({"base_url": "https://sms example.ru"}, "base_url"),
        ({"base_url": "https://sms.example.ru/?key=1"}, "base_url"),
        ({"base_url": "https://sms.example.ru:99999"}, "base_url"),
        ({"api_key": None}, "api_key"),
        ({"api_key": "   "}, "api_key"),
        ({"api_key": "two words"}, "api_key"),
        ({"sender": "очень-длинное-имя"}, "sender"),
        ({"sender": "Сокстат"}, "sender"),
        ({"sender": "123456"}, "sender"),
        ({"daily_cap": 0}, "daily_cap"),
        ({"daily_cap": 1001}, "daily_cap"),
    ],
)
def test_bad_gateway_settings_are_refused_by_field(db, session, admin, changes, field) -> None:
    with pytest.raises(sms.SmsSettingsError) as refused:
        _gateway(session, admin, **changes)
    assert refused.value.field == field
    assert session.get(SystemSetting, sms.SETTING) is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"token": "not-a-token"}, "token"),
        ({"token": None}, "token"),
        ({"username": "@x"}, "username"),
        ({"base_url": "api.telegram.org"}, "base_url"),
    ],
)
def test_bad_bot_settings_are_refused_by_field(db, session, admin, changes, field) -> None:
    values = {"token": BOT_TOKEN, "username": "socstat_bot", "base_url": "https://api.telegram.org"}
    values.update(changes)
    with pytest.raises(telegram.TelegramSettingsError) as refused:
        telegram.set_bot(session, actor=admin, **values)
    assert refused.value.field == field


def test_secrets_encrypted_masked_kept_when_empty_and_audited(db, session, admin) -> None:
    _gateway(session, admin)
    telegram.set_bot(session, actor=admin, token=BOT_TOKEN, username="@socstat_bot", base_url="")
    session.commit()
    stored = session.get(SystemSetting, sms.SETTING).value
    assert API_KEY not in str(stored) and stored["base_url"] == "https://sms.example.ru"
    assert BOT_TOKEN not in str(session.get(SystemSetting, telegram.SETTING).value)
    view = sms.gateway_view(session, actor=admin)
    assert view["key_masked"] == "••••6789" and API_KEY not in str(view)
    bot = telegram.bot_view(session, actor=admin)
    assert bot["token_masked"] == "••••AAAA" and bot["base_url"] == telegram.DEFAULT_BASE_URL
    assert bot["username"] == "socstat_bot"

    _gateway(session, admin, api_key="", sender="", daily_cap=7)  # empty key: keep the stored
    telegram.set_bot(session, actor=admin, token=None, username="other_bot")
    session.commit()
    config = sms.gateway_config(session)
    assert (config.api_key, config.sender, config.daily_cap) == (API_KEY, "", 7)
    assert telegram.bot_config(session).token == BOT_TOKEN

    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "settings.changed").order_by(AuditEvent.id)
    ).all()
    assert [(e.target_id, e.details["new_credential"]) for e in events] == [
        (sms.SETTING, True),
        (telegram.SETTING, True),
        (sms.SETTING, False),
        (telegram.SETTING, False),
    ]
    assert not any(API_KEY in str(e.details) or BOT_TOKEN in str(e.details) for e in events)
    rows = audit.list_events(session, actor=admin).items
    labels = {r.target_label for r in rows}
    assert {"Настройка «SMS-шлюз»", "Настройка «Telegram-бот»"} <= labels


def test_only_admins_read_or_change_the_settings(db, session, admin) -> None:
    analyst = make_user(session, "a@example.com")
    with pytest.raises(PermissionDenied):
        _gateway(session, analyst)
    with pytest.raises(PermissionDenied):
        telegram.set_bot(session, actor=analyst, token=BOT_TOKEN, username="socstat_bot")
    with pytest.raises(PermissionDenied):
        sms.gateway_view(session, actor=analyst)
    with pytest.raises(PermissionDenied):
        telegram.bot_view(session, actor=analyst)


def _socstat(*args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "socstat", *args],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_stores_through_the_same_functions(db, session, admin) -> None:
    done = _socstat(
        "alerts", "sms-gateway", "--url", "https://sms.example.ru", "--sender", "socstat",
        "--key-stdin", stdin=API_KEY + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    bad = _socstat("alerts", "sms-gateway", "--url", "https://sms.example.ru",
                   "--sender", "Сокстат", stdin="")  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.startswith("Ошибка: Имя отправителя")
    done = _socstat(
        "alerts", "telegram-bot", "--username", "socstat_bot", "--token-stdin",
        stdin=BOT_TOKEN + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    session.expire_all()
    assert sms.gateway_config(session).api_key == API_KEY
    assert sms.gateway_view(session, actor=admin)["sender"] == "socstat"
    assert telegram.bot_config(session).base_url == telegram.DEFAULT_BASE_URL
    actors = session.exec(
        select(AuditEvent.user_id).where(AuditEvent.action == "settings.changed")
    ).all()
    assert actors == [admin.id, admin.id]


def test_rule_refusal_links_to_where_the_channel_is_set_up(db, session, admin) -> None:
    analyst = make_user(session, "a@example.com")
    fields = {"name": "", "metric": "posts", "threshold": 1}
    for channel in ("sms", "telegram"):
        with pytest.raises(alerts.AlertRuleError) as for_admin:
            alerts.create_alert_rule(session, actor=admin, channels=[channel], **fields)
        assert for_admin.value.link == "/admin?tab=settings"
        with pytest.raises(alerts.AlertRuleError) as for_analyst:
            alerts.create_alert_rule(session, actor=analyst, channels=[channel], **fields)
        assert for_analyst.value.link == "" and "администратору" in str(for_analyst.value)
    _gateway(session, admin)
    telegram.set_bot(session, actor=admin, token=BOT_TOKEN, username="socstat_bot")
    session.commit()
    for channel in ("sms", "telegram"):
        with pytest.raises(alerts.AlertRuleError) as refused:
            alerts.create_alert_rule(session, actor=analyst, channels=[channel], **fields)
        assert refused.value.link == "/profile#channels"
