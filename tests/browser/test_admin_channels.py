"""The «SMS и Telegram» section of the admin settings in a real browser: the rule form's
refusal leads an admin there, inline validation, the secret shown masked only; the
section fits a phone; fields side by side in the settings keep apart (SMTP, VK token)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

API_KEY = "sms-browser-key-0123456789"
BOT_TOKEN = "654321:" + "B" * 35
# the first browser test of a session also waits for the app to build
pytestmark = pytest.mark.timeout(900)
NEIGHBOURS = (("#smtp_host", "#smtp_port"), ("#smtp_user", "#smtp_password"))
NEIGHBOURS += (("#vk_token", "#vk_label"),)


def _fields_keep_apart(page) -> None:
    """Each pair of neighbouring fields: the second is below the first or at least 8 px
    to its right (the rows' spacing), never touching."""
    for first, second in NEIGHBOURS:
        a = page.locator(first).bounding_box()
        b = page.locator(second).bounding_box()
        assert a and b, (first, second)
        if b["y"] < a["y"] + a["height"]:
            assert b["x"] - (a["x"] + a["width"]) >= 8, (first, second, a, b)


def test_admin_sets_up_sms_and_telegram_from_the_rule_form(signed_in_page, running_app):
    page, _ = signed_in_page("admin", 1280, 800)
    page.get_by_test_id("nav-alerts").click()
    expect(page.get_by_role("heading", name="Оповещения")).to_be_visible()
    page.get_by_test_id("rule-new").click()
    page.get_by_test_id("rule-threshold").fill("1")
    page.get_by_test_id("rule-channel-telegram").click()
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rule-error")).to_contain_text("Telegram-бот не настроен")
    page.get_by_test_id("rule-error-link").click()

    expect(page).to_have_url(re.compile(r"/admin\?tab=settings$"))
    section = page.get_by_test_id("channels-settings")
    expect(section).to_be_visible()
    expect(page.get_by_test_id("sms-status")).to_contain_text("не настроен")

    page.get_by_test_id("input-sms_base_url").fill("sms.example.ru")
    page.get_by_test_id("input-sms_api_key").fill(API_KEY)
    page.get_by_test_id("input-sms_sender").fill("Сокстат")
    page.get_by_test_id("sms-save").click()
    expect(page.get_by_test_id("error-sms_base_url")).to_contain_text("https://")
    page.get_by_test_id("input-sms_base_url").fill("http://127.0.0.1:9")
    page.get_by_test_id("sms-save").click()
    expect(page.get_by_test_id("error-sms_sender")).to_contain_text("латинских")
    expect(page.get_by_test_id("error-sms_base_url")).to_have_count(0)
    page.get_by_test_id("input-sms_sender").fill("socstat")
    page.get_by_test_id("sms-save").click()
    expect(page.get_by_test_id("sms-status")).to_contain_text("Шлюз настроен")
    expect(section).to_contain_text("Задан (••••6789)")
    expect(page.get_by_test_id("input-sms_api_key")).to_have_value("")
    expect(page.get_by_test_id("input-sms_sender")).to_have_value("socstat")
    assert API_KEY not in page.content()

    expect(page.get_by_test_id("input-tg_base_url")).to_have_value("https://api.telegram.org")
    page.get_by_test_id("input-tg_username").fill("socstat_test_bot")
    page.get_by_test_id("input-tg_token").fill("not-a-token")
    page.get_by_test_id("bot-save").click()
    expect(page.get_by_test_id("error-tg_token")).to_contain_text("@BotFather")
    page.get_by_test_id("input-tg_token").fill(BOT_TOKEN)
    page.get_by_test_id("bot-save").click()
    expect(page.get_by_test_id("bot-status")).to_contain_text("Бот настроен")
    expect(section).to_contain_text("Задан (••••BBBB)")
    assert BOT_TOKEN not in page.content()
    _fields_keep_apart(page)
    page.screenshot(path=str(running_app.log.parent / "admin-channels-desktop.png"), full_page=True)

    # Set up now: the rule form sends the admin to the profile to link a chat.
    page.get_by_test_id("nav-alerts").click()
    page.get_by_test_id("rule-new").click()
    # The first visit's form (threshold 1) may show until the new one replaces it.
    expect(page.get_by_test_id("rule-threshold")).to_have_value("")
    page.get_by_test_id("rule-threshold").fill("1")
    page.get_by_test_id("rule-channel-telegram").click()
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rule-error")).to_contain_text("привяжите чат")
    expect(page.get_by_test_id("rule-error-link")).to_have_attribute("href", "/profile#channels")

    page.get_by_test_id("nav-admin").click()
    page.get_by_role("tab", name="Журнал аудита").click()
    expect(page.get_by_text("Настройка «Telegram-бот»").first).to_be_visible()


def test_channels_section_fits_a_phone(signed_in_page, running_app):
    page, _ = signed_in_page("admin", 390, 844)
    page.goto("/admin?tab=settings")
    section = page.get_by_test_id("channels-settings")
    expect(section).to_be_visible()
    section.scroll_into_view_if_needed()
    expect(page.get_by_test_id("input-tg_username")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _fields_keep_apart(page)
    page.screenshot(path=str(running_app.log.parent / "admin-channels-phone.png"), full_page=True)


def test_an_analyst_is_not_sent_to_the_admin_settings(signed_in_page):
    page, _ = signed_in_page("analyst", 1280, 800)
    page.get_by_test_id("nav-alerts").click()
    page.get_by_test_id("rule-new").click()
    page.get_by_test_id("rule-threshold").fill("1")
    page.get_by_test_id("rule-channel-sms").click()
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rule-error")).to_contain_text("SMS")
    expect(page.locator('a[href*="tab=settings"]')).to_have_count(0)
