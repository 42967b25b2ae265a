"""Sources pages in a real browser against the demo VK sandbox served by the app."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from socstat.services.analytics import installation_today

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


def _tracked_ids(running_app) -> set[str]:
    """External ids of the communities the app already knows (other tests add some)."""
    engine = create_engine(running_app.env["SOCSTAT_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT external_id FROM source")).scalars())
    finally:
        engine.dispose()


def _pick_communities(running_app, count: int = 2) -> list[dict]:
    """Open communities nobody tracks yet (so their first collection is still to come) with
    posts on a settled day 8..25 days ago (each with its busiest such day and its posts)."""
    response = httpx.get(f"{_sandbox(running_app)}/_sandbox/communities", timeout=30)
    response.raise_for_status()
    tracked = _tracked_ids(running_app)
    today = installation_today()
    first, last = today - timedelta(days=25), today - timedelta(days=8)
    found = []
    for item in response.json()["items"]:
        if item["status"] != "open" or item["is_closed"] or not item["wall_accessible"]:
            continue
        if item["deactivated"] or not item["wall_enabled"] or str(item["id"]) in tracked:
            continue
        truth = _truth_posts(running_app, item["id"], first, last)
        busy = [(d, v) for d, v in truth.items() if v["count"] >= 1]
        if busy:
            day, posts = max(busy, key=lambda dv: (dv[1]["count"], dv[0]))
            found.append({**item, "day": day, "posts": posts})
        if len(found) == count:
            return found
    pytest.fail("the demo sandbox has too few open communities with recent posts")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.getAttribute('data-testid'))"""


def _no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px: {page.evaluate(WIDEST)}"


def _sandbox_slow(running_app, seconds: float) -> None:
    """Make every VK call of the app's sandbox take ``seconds`` (0: back to normal)."""
    response = httpx.post(
        f"{_sandbox(running_app)}/_sandbox/faults",
        json={"faults": {"slow": 1.0 if seconds else 0.0}, "slow_seconds": seconds},
        timeout=30,
    )
    response.raise_for_status()


def _card(page: Page, community: dict):
    return page.get_by_test_id("source-card").filter(has_text=community["name"])


def _kind(card, label: str):
    return card.get_by_test_id("source-kinds").get_by_role("checkbox", name=label)


def _toggle_kind(card, label: str, checked: bool) -> int:
    """Click a kind on the card; once saved (the box shows it), the card's publications."""
    _kind(card, label).click()
    expect(_kind(card, label)).to_have_attribute("aria-checked", str(checked).lower())
    expect(card.get_by_test_id("kinds-saving")).to_have_count(0)
    value = card.get_by_test_id("source-posts").get_attribute("data-value")
    assert value is not None and value.isdigit(), value
    return int(value)


def _names(page: Page) -> list[str]:
    return page.get_by_test_id("source-name").all_inner_texts()


def test_add_from_the_empty_dashboard(new_page, running_app):
    """A new user adds a community right on the empty dashboard; once its first collection
    is done, the dashboard shows its numbers — nobody pressed «Обновить сейчас». A line
    that failed stays on screen until the user has read it and asks for the numbers."""
    email = _email("dash-new")
    _create_user(running_app, email)
    (community,) = _pick_communities(running_app, 1)
    page = _signed_in(new_page, email)
    empty = page.get_by_test_id("dashboard-empty")
    expect(empty).to_be_visible()
    expect(empty.get_by_test_id("add-hint")).to_be_visible()
    _no_horizontal_scroll(page)
    empty.get_by_test_id("links-input").fill(f"https://vk.com/{community['screen_name']}\nzz9_nope")
    empty.get_by_test_id("add-submit").click()
    results = page.get_by_test_id("add-result")
    expect(results).to_have_count(2, timeout=60_000)
    expect(results.nth(0)).to_contain_text("добавлено")
    expect(results.nth(1)).to_contain_text("ошибка")
    page.get_by_test_id("add-show-numbers").click(timeout=180_000)
    expect(page.get_by_test_id("kpis")).to_be_visible()
    expect(page.get_by_test_id("dashboard-empty")).to_have_count(0)
    posts = page.locator('[data-metric="posts"]').get_attribute("data-value")
    assert posts is not None and posts.isdigit()


def test_add_collect_tag_search_sort_and_isolation(new_page, running_app, tmp_path):
    owner, other = _email("src-owner"), _email("src-other")
    _create_user(running_app, owner)
    _create_user(running_app, other)
    community, second, _ = _pick_communities(running_app, 3)

    page = _signed_in(new_page, owner)
    page.get_by_test_id("nav-sources").click()
    expect(page.get_by_role("heading", name="Источники")).to_be_visible()
    expect(page.get_by_test_id("sources-empty")).to_be_visible()

    # Add by link and by id, with a bad link in the same batch: per-link results. VK answers
    # slowly for a while, so the card's «collecting» state lasts long enough to be seen.
    _sandbox_slow(running_app, 2.0)
    bad = "https://vk.com/no_such_community_zz9"
    page.get_by_test_id("links-input").fill(
        f"https://vk.com/{community['screen_name']}\nclub{second['id']}\n{bad}"
    )
    page.get_by_test_id("add-submit").click()
    results = page.get_by_test_id("add-result")
    expect(results).to_have_count(3, timeout=60_000)
    expect(results.nth(0)).to_contain_text("добавлено")
    expect(results.nth(1)).to_contain_text("добавлено")
    expect(results.nth(2)).to_contain_text("ошибка")
    expect(results.nth(2)).to_contain_text("no_such_community_zz9")

    # The first collection starts by itself: the card says so, then shows the numbers.
    card = _card(page, community)
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("source-collecting")).to_be_visible()
    page.screenshot(path=str(tmp_path / "sources-collecting.png"), full_page=True)
    _sandbox_slow(running_app, 0.0)
    expect(card.get_by_test_id("source-status")).to_have_text("активно", timeout=180_000)
    expect(_card(page, second).get_by_test_id("source-status")).to_have_text(
        "активно", timeout=180_000
    )
    expect(card.get_by_test_id("source-last-collected")).not_to_have_text("—")
    expect(card.get_by_test_id("source-posts")).to_have_attribute(
        "data-value", re.compile(r"^\d+$")
    )
    expect(card.get_by_test_id("source-tracked-by")).to_have_text(
        "Отслеживают в socstat: 1 пользователь"
    )
    page.screenshot(path=str(tmp_path / "sources-collected.png"), full_page=True)

    # Content kinds: saved on each click, the card's numbers follow (all kinds = without
    # posts + posts only); the last kind cannot be taken away.
    every = int(card.get_by_test_id("source-posts").get_attribute("data-value") or "")
    for label in ("Посты", "Видео", "Клипы"):
        expect(_kind(card, label)).to_have_attribute("aria-checked", "true")
    without_posts = _toggle_kind(card, "Посты", False)
    _toggle_kind(card, "Посты", True)
    _toggle_kind(card, "Видео", False)
    posts_only = _toggle_kind(card, "Клипы", False)
    assert posts_only + without_posts == every, (posts_only, without_posts, every)
    _kind(card, "Посты").click()
    expect(card.get_by_test_id("kinds-error")).to_contain_text("хотя бы один")
    expect(_kind(card, "Посты")).to_have_attribute("aria-checked", "true")
    _toggle_kind(card, "Видео", True)
    assert _toggle_kind(card, "Клипы", True) == every
    expect(card.get_by_test_id("kinds-error")).to_have_count(0)
    _no_horizontal_scroll(page)

    # Tags: add, refuse a case-insensitive duplicate, filter by it (in the URL), remove.
    card.get_by_test_id("tag-input").fill("Конкуренты")
    card.get_by_test_id("tag-add").click()
    expect(card.get_by_test_id("source-tag")).to_have_text(["Конкуренты"])
    card.get_by_test_id("tag-input").fill("конкуренты")
    card.get_by_test_id("tag-add").click()
    expect(card.get_by_test_id("tag-error")).to_contain_text("уже есть")
    expect(card.get_by_test_id("source-tag")).to_have_count(1)
    page.get_by_test_id("sources-tag").click()
    page.get_by_role("option", name="Конкуренты").click()
    expect(page.get_by_test_id("source-card")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"tag=%D0%9A"))
    page.reload()
    expect(page.get_by_test_id("source-card")).to_have_count(1)
    expect(page.get_by_test_id("source-name")).to_have_text(community["name"])
    page.goto("/sources")
    expect(page.get_by_test_id("source-card")).to_have_count(2)
    _card(page, community).get_by_test_id("tag-remove").click()
    expect(_card(page, community).get_by_test_id("source-tag")).to_have_count(0)

    # Search by name, then sort by members (largest first), both in the URL.
    page.get_by_test_id("sources-search").fill(second["name"][:6])
    expect(page.get_by_test_id("source-card")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"[?&]q="))
    page.get_by_test_id("sources-search").fill("")
    expect(page.get_by_test_id("source-card")).to_have_count(2)
    page.get_by_test_id("sources-sort").click()
    page.get_by_role("option", name="По участникам").click()
    expect(page).to_have_url(re.compile(r"sort=members&desc=1"))
    members = [int(_digits(t)) for t in page.get_by_test_id("source-members").all_inner_texts()]
    assert members == sorted(members, reverse=True)
    page.get_by_test_id("sources-direction").click()
    expect(page).not_to_have_url(re.compile(r"desc=1"))
    members = [int(_digits(t)) for t in page.get_by_test_id("source-members").all_inner_texts()]
    assert members == sorted(members)
    _no_horizontal_scroll(page)

    # Garbage is refused before anything is asked of VK.
    page.get_by_test_id("links-input").fill("\n".join(f"club{i}" for i in range(51)))
    page.get_by_test_id("add-submit").click()
    expect(page.get_by_test_id("add-error")).to_contain_text("не больше 50")

    # Refresh now still works: a summary.
    page.get_by_test_id("refresh-now").click()
    expect(page.get_by_test_id("refresh-result")).to_contain_text(
        "Обновление завершено", timeout=180_000
    )
    expect(page.get_by_test_id("refresh-result")).to_contain_text("успешно 2")

    # The detail page: the chosen day's posts equal the sandbox's ground truth.
    _card(page, community).get_by_test_id("source-name").click()
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

    # Mobile: one column, the tag field reachable, no sideways scroll.
    phone = _signed_in(new_page, owner, 390, 844)
    phone.goto("/sources")
    mobile_card = _card(phone, community)
    expect(mobile_card).to_be_visible()
    expect(mobile_card.get_by_test_id("tag-input")).to_be_visible()
    every = int(mobile_card.get_by_test_id("source-posts").get_attribute("data-value") or "")
    assert _toggle_kind(mobile_card, "Посты", False) + posts_only == every
    _no_horizontal_scroll(phone)
    assert _toggle_kind(mobile_card, "Посты", True) == every
    box = mobile_card.bounding_box()
    assert box is not None and box["width"] <= 390
    _no_horizontal_scroll(phone)
    phone.screenshot(path=str(tmp_path / "sources-phone.png"), full_page=True)

    # Unsubscribing asks first, then the list is empty again. (The list of the previous
    # visit shows until the page's own load has applied the URL's default sort.)
    page.goto("/sources")
    expect(page.get_by_test_id("sources-sort")).to_contain_text("По названию")
    for item in (community, second):
        _card(page, item).get_by_test_id("source-remove").click()
        expect(page.get_by_role("alertdialog")).to_contain_text(item["name"])
        page.get_by_test_id("remove-confirm").click()
        expect(page.get_by_role("alertdialog")).to_have_count(0)
        expect(_card(page, item)).to_have_count(0)
    expect(page.get_by_test_id("sources-empty")).to_be_visible()


def test_signed_out_visitor_is_sent_to_login(new_page, running_app):
    page = new_page(1280, 800)
    page.goto("/sources")
    expect(page).to_have_url(re.compile(r"/login\?next=/sources/?$"))
