"""The dashboard in Chromium against the demo VK sandbox: numbers equal the ground truth,
filters round-trip through the URL, bad values are explained, another analyst's source
stays out, the CSV is the table, and the page fits 1280×800 and 390×844."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from socstat.services.analytics import installation_today

PASSWORD = "Qw7!dashboard-Browser"
FIGURES = ("likes", "reposts", "comments", "views")


def _create_user(running_app, prefix: str, role: str = "analyst") -> str:
    email = f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"
    result = running_app.socstat(
        "users", "create", "--email", email, "--role", role, "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return email


def _signed_in(new_page, email: str, width: int = 1280, height: int = 800) -> Page:
    page = new_page(width, height)
    page.goto("/login")
    expect(page.get_by_test_id("login-form")).to_be_visible()
    page.get_by_test_id("input-email").fill(email)
    page.get_by_test_id("input-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/dashboard"))
    return page


def _sandbox(running_app) -> str:
    return f"http://127.0.0.1:{running_app.env['SOCSTAT_SANDBOX_PORT']}"


def _truth(running_app, community_id: int, first: date, last: date) -> list[dict]:
    response = httpx.get(
        f"{_sandbox(running_app)}/_sandbox/truth",
        params={"community": community_id, "from": first.isoformat(), "to": last.isoformat()},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["communities"][0]["days"]


def _open_communities(running_app, first: date, last: date, count: int) -> list[dict]:
    """Open communities with posts and clips on settled days (8..25 days ago)."""
    response = httpx.get(f"{_sandbox(running_app)}/_sandbox/communities", timeout=30)
    response.raise_for_status()
    found = []
    for item in response.json()["items"]:
        if item["status"] != "open" or not item["wall_accessible"] or item["deactivated"]:
            continue
        days = _truth(running_app, item["id"], first, last)
        if sum(d["posts"]["count"] for d in days) and sum(d["clips"]["count"] for d in days):
            found.append(item)
        if len(found) == count:
            return found
    pytest.fail("the demo sandbox has too few open communities with recent posts and clips")


def _add_and_collect(running_app, email: str, communities: list[dict]) -> list[int]:
    links = [f"https://vk.com/{c['screen_name']}" for c in communities]
    added = running_app.socstat("sources", "add", "--user", email, *links)
    ids = [int(n) for n in re.findall(r"#(\d+)", added.stdout)]
    assert len(ids) == len(communities), added.stdout + added.stderr
    args = [a for i in ids for a in ("--source", str(i))]
    collected = running_app.socstat("collect", *args)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    return ids


def _kpis(page: Page) -> dict[str, str]:
    values = page.locator("[data-metric]")
    expect(values).to_have_count(10)
    return {
        values.nth(i).get_attribute("data-metric"): values.nth(i).get_attribute("data-value")
        for i in range(10)
    }


def _expected(days: list[dict], kinds: tuple[str, ...]) -> dict[str, str]:
    blocks = [day[kind] for day in days for kind in kinds]
    want = {k: str(sum(d[k]["count"] for d in days)) if k in kinds else "" for k in
            ("posts", "videos", "clips")}  # fmt: skip
    for figure in FIGURES:
        want[figure] = str(sum(b[figure] for b in blocks))
    return want


WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.getAttribute('data-testid'))"""


def _no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px: {page.evaluate(WIDEST)}"


@pytest.fixture(scope="module")
def world(running_app):
    today = installation_today()
    first, last = today - timedelta(days=25), today - timedelta(days=8)
    communities = _open_communities(running_app, first, last, 3)
    _create_user(running_app, "dash-admin", "admin")  # the CLI acts as an admin
    ann, bob = _create_user(running_app, "dash-ann"), _create_user(running_app, "dash-bob")
    anns = _add_and_collect(running_app, ann, communities[:2])
    bobs = _add_and_collect(running_app, bob, communities[2:])
    return {
        "first": first, "last": last, "communities": communities,
        "ann": ann, "bob": bob, "anns": anns, "bobs": bobs,
    }  # fmt: skip


def test_numbers_equal_ground_truth_and_filters_round_trip(new_page, running_app, world):
    first, last = world["first"], world["last"]
    source_id = world["anns"][0]
    page = _signed_in(new_page, world["ann"])
    query = f"from={first}&to={last}&types=post,clip&sources={source_id}"
    page.goto(f"/dashboard?{query}")
    expect(page.get_by_test_id("period-label")).to_have_text(f"{first:%d.%m.%Y} — {last:%d.%m.%Y}")
    days = _truth(running_app, world["communities"][0]["id"], first, last)
    got = _kpis(page)
    want = _expected(days, ("posts", "clips"))
    for metric, value in want.items():
        if metric == "views" and got["views"] == "":
            assert value == "0"  # every publication's views unknown
            continue
        assert got[metric] == value, (metric, got, want)
    expect(page.get_by_test_id("source-row")).to_have_count(1)
    expect(page.get_by_test_id("timezone-note")).to_contain_text("Europe/Moscow")
    assert page.url.endswith(f"/dashboard?{query}")

    # change the types in the page: the URL follows, and opening it shows the same
    page.get_by_test_id("filter-type-clip").click()
    expect(page).to_have_url(re.compile(r"types=post&"))
    expect(page.locator('[data-metric="clips"]')).to_have_attribute("data-value", "")
    posts_only = _kpis(page)
    assert posts_only["posts"] == want["posts"]
    assert posts_only["likes"] == str(sum(d["posts"]["likes"] for d in days))
    url = page.url
    page.goto(url)
    expect(page.locator('[data-metric="posts"]')).to_have_attribute("data-value", want["posts"])
    assert _kpis(page) == posts_only
    expect(page.get_by_test_id("filter-type-clip")).to_have_attribute("data-state", "unchecked")

    # both sources, all types: the sum of both communities' truth
    page.goto(f"/dashboard?from={first}&to={last}")
    both = [_truth(running_app, c["id"], first, last) for c in world["communities"][:2]]
    everything = _expected([d for days in both for d in days], ("posts", "videos", "clips"))
    expect(page.get_by_test_id("source-row")).to_have_count(2)
    got = _kpis(page)
    for metric in ("posts", "videos", "clips", "likes", "reposts", "comments"):
        assert got[metric] == everything[metric], (metric, got, everything)

    # the CSV is the table: the same sources, with the signed-in user's cookie only
    csv_url = page.get_by_test_id("csv-download").get_attribute("href")
    response = page.context.request.get(csv_url)
    assert response.status == 200
    lines = response.text().lstrip("\ufeff").strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("id,Источник,Посты")
    assert {line.split(",")[0] for line in lines[1:]} == {str(i) for i in world["anns"]}
    assert httpx.get(running_app.url + csv_url, timeout=30).status_code == 401


def _column(rows, column: str) -> list[int]:
    cells = rows.locator(f'[data-column="{column}"]').all_inner_texts()
    return [int(re.sub(r"\D", "", text)) for text in cells]


def test_table_sorts_in_place_and_top_pages(new_page, world):
    """A sort click re-sorts the rows the page has: the URL, the CSV link and opening the
    URL agree; the top publications page forward and back."""
    page = _signed_in(new_page, world["ann"])
    page.goto(f"/dashboard?from={world['first']}&to={world['last']}")
    rows = page.get_by_test_id("source-row")
    expect(rows).to_have_count(2)
    page.get_by_test_id("sort-likes").click()
    expect(page).to_have_url(re.compile(r"sort=likes&desc=1$"))
    expect(page.get_by_test_id("csv-download")).to_have_attribute("href", re.compile("desc=1$"))
    likes = _column(rows, "likes")
    assert likes == sorted(likes, reverse=True) and likes[0] > likes[1], likes
    page.get_by_test_id("sort-likes").click()
    expect(page).to_have_url(re.compile(r"sort=likes$"))
    expect(rows.first.locator('[data-column="likes"]')).to_have_text(
        re.compile(f"^{likes[1]:,}$".replace(",", "\u202f"))
    )
    order = [rows.nth(i).get_attribute("data-source-id") for i in range(2)]
    page.goto(page.url)
    expect(rows.first).to_have_attribute("data-source-id", order[0])
    assert _column(rows, "likes") == likes[::-1]

    pager = page.get_by_test_id("top-pager")
    expect(pager).to_contain_text("1 из ")
    pages = int(re.search(r"1 из (\d+)", pager.inner_text()).group(1))
    assert pages >= 2, pager.inner_text()
    first_page = page.get_by_test_id("top-row").all_inner_texts()
    pager.get_by_role("button", name="Вперёд").click()
    expect(pager).to_contain_text(f"2 из {pages}")
    assert page.get_by_test_id("top-row").all_inner_texts() != first_page
    pager.get_by_role("button", name="Назад").click()
    expect(pager).to_contain_text(f"1 из {pages}")
    assert page.get_by_test_id("top-row").all_inner_texts() == first_page


def test_bad_values_are_explained_and_fall_back(new_page, world):
    page = _signed_in(new_page, world["ann"])
    page.goto("/dashboard?period=zzz&types=story&sources=abc")
    messages = page.get_by_test_id("filter-message")
    expect(messages).to_have_count(3)
    expect(messages.nth(0)).to_contain_text("Неизвестный период")
    today = installation_today()
    expect(page.get_by_test_id("period-label")).to_have_text(
        f"{today - timedelta(days=29):%d.%m.%Y} — {today:%d.%m.%Y}"
    )
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/dashboard?from=2026-02-30&to=2026-01-01")
    expect(messages).to_have_count(1)  # the messages of the previous URL are gone
    expect(messages).to_contain_text("Неверная дата")


def test_another_analysts_source_is_refused_by_url(new_page, world):
    page = _signed_in(new_page, world["bob"])
    page.goto(f"/dashboard?sources={world['anns'][0]}")
    expect(page.get_by_test_id("filter-message")).to_contain_text("Нет доступа к источнику")
    rows = page.get_by_test_id("source-row")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-source-id", str(world["bobs"][0]))
    response = page.context.request.get(f"/api/dashboard/sources.csv?sources={world['anns'][0]}")
    assert [line.split(",")[0] for line in response.text().strip().splitlines()[1:]] == [
        str(world["bobs"][0])
    ]


SCROLLS_INSIDE = """box => ({overflow: getComputedStyle(box).overflowX,
  table: box.querySelector('table').getBoundingClientRect().width,
  box: box.getBoundingClientRect().width})"""
DASHBOARD_BLOCKS = (
    "kpis", "chart-publications", "chart-engagement", "sources", "chart-sources", "top",
    "chart-heatmap", "chart-members",
)  # fmt: skip
SOURCE_BLOCKS = (
    "kpis", "chart-publications", "chart-engagement", "days", "publications", "chart-members",
    "counters",
)  # fmt: skip
KINDS = {"Пост", "Видео", "Клип"}
HOVER = re.compile(r"^\d\d\.\d\d\.\d{4} · [\d\u202f]+ (пост|поста|постов|видео|клип|клипа|клипов)$")


def _wait_for_charts(page: Page) -> None:
    # plotly.js is loaded lazily (a large bundle): give it time on a busy machine
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=90_000)


def _shoot(page: Page, blocks: tuple[str, ...], folder: Path, prefix: str, width: int) -> None:
    page.screenshot(path=folder / f"{prefix}-{width}.png", full_page=True)
    for block in blocks:
        page.get_by_test_id(block).first.screenshot(path=folder / f"{prefix}-{block}-{width}.png")


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_layout_has_no_horizontal_scroll(new_page, world, tmp_path: Path, width, height):
    page = _signed_in(new_page, world["ann"], width, height)
    page.goto(f"/dashboard?from={world['first']}&to={world['last']}")
    expect(page.get_by_test_id("source-row")).to_have_count(2, timeout=60_000)
    _wait_for_charts(page)
    print(f"screenshots: {tmp_path}")
    _shoot(page, DASHBOARD_BLOCKS, tmp_path, "dashboard", width)
    _no_horizontal_scroll(page)
    table = page.get_by_test_id("source-table").evaluate(SCROLLS_INSIDE)
    assert table["overflow"] == "auto"
    if width < 600:  # the wide table scrolls inside its own box, not the page
        assert table["table"] > table["box"], table
    for chart in ("chart-publications", "chart-engagement", "chart-heatmap"):
        box = page.get_by_test_id(chart).locator(".main-svg").first.bounding_box()
        assert box is not None and box["width"] >= min(width - 60, 300), (chart, box)

    page.goto(f"/sources/{world['anns'][0]}?period=30")
    expect(page.get_by_test_id("day-row").first).to_be_visible(timeout=60_000)
    _wait_for_charts(page)
    _shoot(page, SOURCE_BLOCKS, tmp_path, "source", width)
    _no_horizontal_scroll(page)


def _ticks(chart) -> list[str]:
    return [t.replace("\u202f", "") for t in chart.locator(".ytick text").all_text_contents()]


def test_charts_speak_russian(new_page, world):
    page = _signed_in(new_page, world["ann"])
    page.goto(f"/dashboard?from={world['first']}&to={world['last']}")
    _wait_for_charts(page)
    chart = page.get_by_test_id("chart-publications").locator(".js-plotly-plot")
    context = chart.evaluate(
        "gd => ({locale: gd._context.locale, months: gd._context.locales.ru.format.months,"
        " modebar: document.querySelectorAll('.modebar-container .modebar-btn').length})"
    )
    assert context["locale"] == "ru" and context["months"][0].lower() == "январь", context
    assert context["modebar"] == 0  # no English toolbar anywhere on the page
    ticks = _ticks(chart)
    assert ticks and all(t.isdigit() for t in ticks), ticks  # no 0,5 publications

    # a tooltip is a sentence: «29.11.2026 · 3 поста»
    bars = chart.locator(".barlayer .point path")
    for i in range(bars.count()):
        box = bars.nth(i).bounding_box()
        if box and box["height"] > 4:
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            break
    expect(chart.locator(".hoverlayer .hovertext")).to_have_text(HOVER)

    # one publication is «Пост», «Видео» or «Клип», not the plural of the filter
    kinds = page.get_by_test_id("top-row").get_by_test_id("publication-kind")
    expect(kinds.first).to_be_visible()
    assert set(kinds.all_inner_texts()) <= KINDS

    # no counter readings in the period (they start with the first collection): a reason,
    # not an empty plot with a −1…4 axis
    members = page.get_by_test_id("chart-members")
    expect(members.get_by_test_id("chart-members-note")).to_contain_text(
        re.compile(r"замеры есть с \d\d\.\d\d\.\d{4}")
    )
    expect(members.locator(".js-plotly-plot")).to_have_count(0)

    # a long period: months by their Russian names
    today = installation_today()
    page.goto(f"/dashboard?from={today - timedelta(days=89)}&to={today}")
    _wait_for_charts(page)
    months = page.get_by_test_id("chart-publications").locator(".xtick text")
    expect(months.first).to_have_text(re.compile(r"[а-яА-Я]{3}"))
    expect(page.get_by_test_id("chart-members").locator(".js-plotly-plot")).to_be_visible()
    assert all(t.isdigit() for t in _ticks(page.get_by_test_id("chart-members")))
