"""The finished pages at desktop (1280×800) and phone (390×844) sizes: the 404 page, the
admin tabs and users table on a phone, the audit log in words, the time zone picker.

Screenshots go to the test's tmp_path (``--basetemp`` to keep them)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

SIZES = [pytest.param((1280, 800), id="desktop"), pytest.param((390, 844), id="phone")]


def _fits(page: Page, locator) -> bool:
    """Whether the element shows all its text (nothing cut) inside the viewport."""
    return locator.evaluate(
        "el => el.scrollWidth <= el.clientWidth + 1 && el.getBoundingClientRect().right"
        " <= window.innerWidth + 1 && el.getBoundingClientRect().left >= -1"
    )


@pytest.mark.parametrize("size", SIZES)
def test_unknown_address_shows_a_russian_page_with_a_way_home(signed_in_page, size, tmp_path):
    page, _ = signed_in_page("analyst", *size)
    page.goto("/no-such-page/here")
    expect(page.get_by_role("heading", name="Страница не найдена")).to_be_visible()
    expect(page.get_by_test_id("not-found")).to_contain_text("Такой страницы нет")
    expect(page.get_by_text("404: Page not found")).to_have_count(0)
    page.screenshot(path=tmp_path / f"404-{size[0]}.png", full_page=True)
    page.get_by_test_id("not-found-home").click()
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


@pytest.mark.parametrize("size", SIZES)
def test_admin_tabs_readable_and_user_actions_reachable(signed_in_page, size, tmp_path):
    page, email = signed_in_page("admin", *size)
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Администрирование")).to_be_visible()
    expect(page.get_by_test_id("user-row").first).to_be_visible()
    for name in ("Пользователи", "Команды", "Настройки", "Журнал аудита"):
        tab = page.get_by_role("tab", name=name)
        expect(tab).to_be_visible()
        assert _fits(page, tab), f"the tab «{name}» is cut"
    page.screenshot(path=tmp_path / f"admin-users-{size[0]}.png")

    row = page.locator(f'[data-testid="user-row"][data-email="{email}"]')
    actions = row.get_by_test_id("user-actions")
    # Other tests' users may push this row below the fold: bring it up vertically only
    # (inline "start" keeps the row's left edge in place, so a cut-off column still fails).
    row.evaluate("el => el.scrollIntoView({block: 'center', inline: 'start'})")
    expect(actions).to_be_in_viewport()
    actions.click()
    expect(page.get_by_role("menuitem", name="Завершить все сеансы")).to_be_visible()
    page.screenshot(path=tmp_path / f"admin-menu-{size[0]}.png")
    page.keyboard.press("Escape")

    page.get_by_role("tab", name="Настройки").click()
    for label in ("Интервал сбора, часов", "Токен", "Подпись", "Тип токена", "Сервер", "Порт",
                  "Адрес отправителя", "Шифрование"):  # fmt: skip
        expect(page.get_by_text(label, exact=True).first).to_be_visible()
    expect(page.get_by_test_id("token-kind")).to_contain_text("Пользовательский")
    expect(page.get_by_test_id("system-timezone")).to_contain_text("Москва (UTC+3)")
    page.screenshot(path=tmp_path / f"admin-settings-{size[0]}.png", full_page=True)


@pytest.mark.parametrize("size", SIZES)
def test_audit_log_in_words_with_the_codes_at_hand(signed_in_page, size, tmp_path):
    page, email = signed_in_page("admin", *size)
    page.goto("/admin")
    expect(page.get_by_test_id("user-row").first).to_be_visible()
    page.get_by_role("tab", name="Журнал аудита").click()
    page.get_by_test_id("audit-action").click()
    page.get_by_role("option", name="Вход в систему", exact=True).click()
    page.get_by_role("button", name="Показать").click()
    rows = page.get_by_test_id("audit-row").filter(has_text=email)
    expect(rows.first).to_be_visible()
    expect(rows.first).to_contain_text("Вход в систему")
    expect(rows.first).to_contain_text(f"Пользователь {email}")
    expect(page.get_by_test_id("audit-row").filter(has_text="auth.sign_in")).to_have_count(0)
    page.screenshot(path=tmp_path / f"audit-{size[0]}.png", full_page=True)
    rows.first.get_by_test_id("audit-action-label").hover()
    expect(page.get_by_role("tooltip")).to_contain_text("auth.sign_in")


@pytest.mark.parametrize("size", SIZES)
def test_time_zone_picker_searches_city_names(signed_in_page, size, tmp_path):
    page, _ = signed_in_page("analyst", *size)
    page.goto("/profile")
    search = page.get_by_test_id("tz-search")
    expect(search).to_be_visible()
    search.fill("владивосток")
    page.get_by_test_id("tz-select").click()
    options = page.get_by_role("option")
    expect(options.filter(has_text="Владивосток (UTC+10)")).to_have_count(1)
    expect(options.filter(has_text="Asia/")).to_have_count(0)
    page.screenshot(path=tmp_path / f"tz-open-{size[0]}.png")
    options.filter(has_text="Владивосток (UTC+10)").click()
    page.get_by_test_id("profile-save").click()
    expect(page.get_by_text("Профиль сохранён.")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("tz-select")).to_contain_text("Владивосток (UTC+10)")
    page.screenshot(path=tmp_path / f"profile-{size[0]}.png", full_page=True)
