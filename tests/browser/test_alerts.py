"""Alerts in a real browser: a rule created on /alerts fires on sandbox data after a
collection, the bell shows it, the notification leads to the source."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

PASSWORD = "Qw7!alerts-Browser"
# the first browser test of a session also waits for the app to build
pytestmark = pytest.mark.timeout(900)


def _sandbox(running_app) -> str:
    return f"http://127.0.0.1:{running_app.env['SOCSTAT_SANDBOX_PORT']}"


def _community_with_posts_yesterday(running_app) -> dict:
    """An open community with at least one post yesterday (installation day) and fewer
    posts so far today, so that «posts a day ≥ yesterday's count» holds for yesterday's
    window alone (the hook also looks at today's open window)."""
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    yesterday = today - timedelta(days=1)
    communities = httpx.get(f"{_sandbox(running_app)}/_sandbox/communities", timeout=30).json()
    for item in communities["items"]:
        if item["status"] != "open" or not item["wall_accessible"] or item["deactivated"]:
            continue
        truth = httpx.get(
            f"{_sandbox(running_app)}/_sandbox/truth",
            params={
                "community": item["id"],
                "from": yesterday.isoformat(),
                "to": today.isoformat(),
            },
            timeout=30,
        ).json()
        days = {day["date"]: day["posts"]["count"] for day in truth["communities"][0]["days"]}
        posts, so_far = days.get(yesterday.isoformat(), 0), days.get(today.isoformat(), 0)
        if posts >= 1 and so_far + 1 < posts:
            return {**item, "posts": posts}
    pytest.fail("no open sandbox community posted yesterday more than so far today")


def _choose(page, testid: str, option: str) -> None:
    page.get_by_test_id(testid).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_rule_fires_after_collection_and_the_bell_leads_to_the_source(new_page, running_app):
    email = f"alerts-{uuid.uuid4().hex[:10]}@example.org"
    created = running_app.socstat(
        "users", "create", "--email", email, "--role", "analyst", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    community = _community_with_posts_yesterday(running_app)

    page = new_page()
    page.goto("/login")
    page.get_by_test_id("input-email").fill(email)
    page.get_by_test_id("input-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    expect(page.get_by_test_id("bell")).to_be_visible()
    expect(page.get_by_test_id("bell-badge")).to_have_count(0)

    page.goto("/sources")
    # the page's own load first: typing before it is overwritten by the loaded state
    expect(page.get_by_test_id("sources-empty")).to_be_visible()
    page.get_by_test_id("links-input").fill(f"https://vk.com/{community['screen_name']}")
    page.get_by_test_id("add-submit").click()
    expect(page.get_by_test_id("add-result")).to_contain_text("добавлено", timeout=60_000)

    # The rule: posts per day ≥ yesterday's count, in-app; a bad threshold is refused first.
    page.get_by_test_id("nav-alerts").click()
    expect(page.get_by_role("heading", name="Оповещения")).to_be_visible()
    expect(page.get_by_test_id("rules-empty")).to_be_visible()
    page.get_by_test_id("rule-new").click()
    _choose(page, "rule-metric", "Посты")
    page.get_by_test_id("rule-threshold").fill("много")
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rule-error")).to_contain_text("числом")
    page.get_by_test_id("rule-threshold").fill(str(community["posts"]))
    page.get_by_test_id("rule-channel-sms").click()
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rule-error")).to_contain_text("SMS")
    page.get_by_test_id("rule-channel-sms").click()
    page.get_by_test_id("rule-preview-button").click()
    expect(page.get_by_test_id("rule-preview")).to_contain_text("За 30 дней")
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rule-card")).to_have_count(1)
    expect(page.get_by_test_id("rule-card")).to_contain_text("Посты за сутки ≥")

    # Collect (the user's "Обновить сейчас"): the post-run hook evaluates the rule; the
    # scheduler's pass afterwards finds nothing new (one firing per window).
    page.goto("/sources")
    page.get_by_test_id("refresh-now").click()
    expect(page.get_by_test_id("refresh-result")).to_contain_text(
        "Обновление завершено", timeout=180_000
    )
    evaluated = running_app.socstat("alerts", "evaluate")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "Сработало: 0," in evaluated.stdout, evaluated.stdout

    page.goto("/alerts")
    expect(page.get_by_test_id("bell-badge")).to_have_text("1")
    page.get_by_test_id("rule-history").click()
    expect(page.get_by_test_id("history-entry")).to_contain_text("сработало")
    page.get_by_test_id("bell").click()
    expect(page.get_by_role("heading", name="Уведомления")).to_be_visible()
    note = page.get_by_test_id("notification")
    expect(note).to_have_count(1)
    expect(note).to_contain_text(community["name"])
    note.get_by_test_id("notification-open").click()
    expect(page).to_have_url(re.compile(r"/sources/\d+$"))
    expect(page.get_by_test_id("detail-name")).to_have_text(community["name"])
    expect(page.get_by_test_id("bell-badge")).to_have_count(0)
