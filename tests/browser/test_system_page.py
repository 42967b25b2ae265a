"""The admin «Система» page on desktop and phone; non-admins are refused."""

from __future__ import annotations

from playwright.sync_api import expect


def test_system_page_for_an_admin_on_desktop(signed_in_page, running_app):
    backup = running_app.socstat("backup")
    assert backup.returncode == 0, backup.stderr
    page, _ = signed_in_page("admin", 1280, 800)
    page.get_by_test_id("nav-admin-system").click()
    expect(page.get_by_role("heading", name="Система")).to_be_visible()
    checks = page.get_by_test_id("system-checks")
    expect(checks.get_by_role("row").filter(has_text="База данных")).to_contain_text("в порядке")
    expect(checks.get_by_role("row").filter(has_text="SMTP")).to_contain_text("127.0.0.1")
    expect(page.get_by_test_id("system-upcoming")).to_contain_text("Резервная копия базы")
    expect(page.get_by_test_id("system-backup")).to_contain_text("всего копий: 1")
    expect(page.get_by_text("socstat restore ")).to_be_visible()
    page.get_by_test_id("collect-now").click()
    expect(page.get_by_test_id("collect-result")).to_contain_text("Сбор завершён", timeout=60_000)
    expect(page.get_by_test_id("system-quotas")).to_contain_text("Осталось")  # quota per token
    page.screenshot(path=str(running_app.log.parent / "system-desktop.png"), full_page=True)


def test_system_page_fits_a_phone(signed_in_page, running_app):
    page, _ = signed_in_page("admin", 390, 844)
    page.goto("/admin/system")
    expect(page.get_by_role("heading", name="Система")).to_be_visible()
    expect(page.get_by_test_id("system-checks")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(running_app.log.parent / "system-phone.png"), full_page=True)


def test_system_page_refuses_an_analyst(signed_in_page):
    page, _ = signed_in_page("analyst", 1280, 800)
    page.goto("/admin/system")
    expect(page.get_by_test_id("no-access")).to_be_visible()
    expect(page.get_by_test_id("collect-now")).to_have_count(0)
