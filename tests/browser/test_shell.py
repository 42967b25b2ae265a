"""Smoke test of the application shell in a real browser."""

import re

import httpx
from playwright.sync_api import expect


def test_healthz_reports_ok(running_app):
    response = httpx.get(f"{running_app.url}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_metrics_in_prometheus_format(running_app):
    response = httpx.get(f"{running_app.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert "# TYPE socstat_users gauge" in response.text


def test_signed_out_visitor_is_sent_to_login(new_page):
    page = new_page(1280, 800)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_test_id("demo-banner")).to_be_visible()


def test_desktop_shell_navigation(signed_in_page):
    page, _ = signed_in_page("analyst", 1280, 800)
    sidebar = page.get_by_test_id("sidebar")
    expect(sidebar).to_be_visible()
    expect(page.get_by_test_id("demo-banner")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    sidebar.get_by_text("Источники").click()
    expect(page.get_by_role("heading", name="Источники")).to_be_visible()
    sidebar.get_by_text("Обзор").click()
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    expect(page.get_by_text("Built with Reflex")).to_have_count(0)


def test_mobile_shell_uses_drawer(signed_in_page):
    page, _ = signed_in_page("analyst", 390, 844)
    expect(page.get_by_test_id("sidebar")).to_be_hidden()
    # the top bar (its bottom border, the user menu at the right edge) spans the screen
    bar_width = page.get_by_test_id("menu-open").evaluate("e => e.parentElement.offsetWidth")
    assert bar_width == 390
    menu = page.get_by_test_id("user-menu-mobile").bounding_box()
    assert menu is not None and menu["x"] + menu["width"] >= 390 - 16
    page.get_by_test_id("menu-open").click()
    drawer = page.get_by_test_id("drawer")
    expect(drawer).to_be_visible()
    drawer.get_by_text("Источники").click()
    expect(drawer).to_be_hidden()
    expect(page.get_by_role("heading", name="Источники")).to_be_visible()


def test_favicon_and_logo_are_served_and_shown(running_app, new_page):
    icon = httpx.get(f"{running_app.url}/favicon.ico", timeout=10)
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"  # ICO header
    logo = httpx.get(f"{running_app.url}/logo.svg", timeout=10)
    assert logo.status_code == 200 and "<svg" in logo.text
    page = new_page(1280, 800)
    page.goto("/login")
    expect(page.get_by_test_id("logo").first).to_be_visible()
    assert page.locator('link[rel="icon"][href="/favicon.ico"]').count() == 1
