"""Sources pages in a real browser against the demo VK sandbox served by the app."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

PASSWORD = "Qw7!sources-Browser"


def _email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


def _create_user(running_app, email: str, role: str = "analyst") -> None:
    result = running_app.socstat(
        "users",
        "create",
        "--email",
        email,
        "--role",
        role,
        "--name",
        email.split("@")[0],
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr


def _signed_in(new_page, email: str, width: int = 1280, height: int = 800) -> Page:
    page = new_page(width, height)
    page.goto("/login")
    expect(page.get_by_test_id("login-form")).to_be_visible()
    page.get_by_test_id("input-email").fill(email)
    page.get_by_test_id("input-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    return page


def _sandbox(running_app) -> str:
    return f"http://127.0.0.1:{running_app.env['SOCSTAT_SANDBOX_PORT']}"


def _truth_posts(running_app, community_id: int, first: date, last: date) -> dict[str, dict]:
    response = httpx.get(
        f"{_sandbox(running_app)}/_sandbox/truth",
        params={"community": community_id, "from": first.isoformat(), "to": last.isoformat()},
        timeout=30,
    )
    response.raise_for_status()
    days = response.json()["communities"][0]["days"]
    return {day["date"]: day["posts"] for day in days}


def _pick_community(running_app) -> dict:
    """An open community with posts on a settled day 8..25 days ago: (community, day)."""
    response = httpx.get(f"{_sandbox(running_app)}/_sandbox/communities", timeout=30)
    response.raise_for_status()
    today = date.today()
    first, last = today - timedelta(days=25), today - timedelta(days=8)
    for item in response.json()["items"]:
        if item["status"] != "open" or item["is_closed"] or not item["wall_accessible"]:
            continue
        if item["deactivated"] or not item["wall_enabled"]:
            continue
        truth = _truth_posts(running_app, item["id"], first, last)
        busy = [(d, v) for d, v in truth.items() if v["count"] >= 1]
        if busy:
            day, posts = max(busy, key=lambda dv: (dv[1]["count"], dv[0]))
            return {**item, "day": day, "posts": posts}
    pytest.fail("the demo sandbox has no open community with recent posts")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_add_refresh_detail_and_isolation(new_page, running_app):
    owner, other = _email("src-owner"), _email("src-other")
    _create_user(running_app, owner)
    _create_user(running_app, other)
    community = _pick_community(running_app)

    page = _signed_in(new_page, owner)
    page.get_by_test_id("nav-sources").click()
    expect(page.get_by_role("heading", name="Источники")).to_be_visible()
    expect(page.get_by_test_id("sources-empty")).to_be_visible()

    # Add by link, with a bad link in the same batch: per-link results.
    bad = "https://vk.com/no_such_community_zz9"
    page.get_by_test_id("links-input").fill(f"https://vk.com/{community['screen_name']}\n{bad}")
    page.get_by_test_id("add-submit").click()
    results = page.get_by_test_id("add-result")
    expect(results).to_have_count(2, timeout=60_000)
    expect(results.nth(0)).to_contain_text("добавлено")
    expect(results.nth(1)).to_contain_text("ошибка")
    expect(results.nth(1)).to_contain_text("no_such_community_zz9")
    card = page.get_by_test_id("source-card").filter(has_text=community["name"])
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("source-status")).to_have_text("активно")

    # Garbage is refused before anything is asked of VK.
    page.get_by_test_id("links-input").fill("\n".join(f"club{i}" for i in range(51)))
    page.get_by_test_id("add-submit").click()
    expect(page.get_by_test_id("add-error")).to_contain_text("не больше 50")

    # Refresh now: a summary, and the card shows the collection time.
    page.get_by_test_id("refresh-now").click()
    expect(page.get_by_test_id("refresh-result")).to_contain_text(
        "Обновление завершено", timeout=180_000
    )
    expect(page.get_by_test_id("refresh-result")).to_contain_text("успешно 1")
    expect(card.get_by_test_id("source-last-collected")).not_to_have_text("—")

    # The detail page: the chosen day's posts equal the sandbox's ground truth.
    card.get_by_test_id("source-name").click()
    expect(page).to_have_url(re.compile(r"/sources/\d+$"))
    detail_url = page.url
    expect(page.get_by_test_id("detail-name")).to_have_text(community["name"])
    page.get_by_test_id("kind").click()
    page.get_by_role("option", name="Посты").click()
    day = community["day"]
    truth = _truth_posts(
        running_app, community["id"], date.fromisoformat(day), date.fromisoformat(day)
    )[day]
    row = page.locator(f'[data-testid="day-row"][data-date="{day}"]')
    expect(row.get_by_test_id("day-count")).to_have_text(str(truth["count"]))
    for key in ("likes", "reposts", "comments"):
        assert _digits(row.get_by_test_id(f"day-{key}").inner_text()) == str(truth[key]), key
    views = row.get_by_test_id("day-views").inner_text()
    if truth["views_unknown"] == truth["count"]:
        assert views == "—"
    else:
        assert _digits(views) == str(truth["views"])
    if truth["views_unknown"]:
        expect(page.get_by_test_id("views-note")).to_contain_text("нет данных о просмотрах")
    expect(page.get_by_test_id("chart-engagement").locator(".js-plotly-plot")).to_be_visible()

    # An invalid period never reaches the database and says so.
    page.get_by_test_id("period").get_by_role("radio", name="Период…").click()
    page.get_by_test_id("date-from").fill("2026-03-10")
    page.get_by_test_id("date-to").fill("2026-03-01")
    page.get_by_test_id("custom-apply").click()
    expect(page.get_by_test_id("detail-error")).to_contain_text("позже его конца")

    # Another analyst sees nothing of it.
    stranger = _signed_in(new_page, other)
    stranger.goto("/sources")
    expect(stranger.get_by_test_id("sources-empty")).to_be_visible()
    expect(stranger.get_by_text(community["name"])).to_have_count(0)
    stranger.goto(detail_url)
    expect(stranger.get_by_test_id("no-access")).to_contain_text("Нет доступа")
    expect(stranger.get_by_text(community["name"])).to_have_count(0)
    stranger.goto("/sources/not-a-number")
    expect(stranger.get_by_test_id("no-access")).to_be_visible()

    # Mobile: the list renders in one column.
    phone = _signed_in(new_page, owner, 390, 844)
    phone.goto("/sources")
    mobile_card = phone.get_by_test_id("source-card").filter(has_text=community["name"])
    expect(mobile_card).to_be_visible()
    box = mobile_card.bounding_box()
    assert box is not None and box["width"] <= 390

    # Unsubscribing asks first, then the list is empty again.
    page.goto("/sources")
    page.get_by_test_id("source-card").filter(has_text=community["name"]).get_by_test_id(
        "source-remove"
    ).click()
    page.get_by_test_id("remove-confirm").click()
    expect(page.get_by_test_id("sources-empty")).to_be_visible()


def test_signed_out_visitor_is_sent_to_login(new_page, running_app):
    page = new_page(1280, 800)
    page.goto("/sources")
    expect(page).to_have_url(re.compile(r"/login\?next=/sources/?$"))
