"""Account flows in a real browser: registration by email, 2FA, blocking, redirects."""

from __future__ import annotations

import re
import time
import uuid

import pyotp
from playwright.sync_api import Page, expect

PASSWORD = "Kx9#mQ2!vLp7-zR"


def _email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


def _create_user(running_app, email: str, role: str = "analyst", name: str = "") -> None:
    result = running_app.socstat(
        "users",
        "create",
        "--email",
        email,
        "--role",
        role,
        "--name",
        name or email.split("@")[0],
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr


def _sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    expect(page.get_by_test_id("login-form")).to_be_visible()
    page.get_by_test_id("input-email").fill(email)
    page.get_by_test_id("input-password").fill(password)
    page.get_by_test_id("login-submit").click()


def _signed_in_page(new_page, email: str, width: int = 1280, height: int = 800) -> Page:
    page = new_page(width, height)
    page.goto("/login")
    _sign_in(page, email)
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    return page


def _next_code(secret: str) -> str:
    """A TOTP code of the next time step (the current one may already be spent)."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30)


def test_register_confirm_sign_in_with_two_factor(new_page, running_app, smtp_server):
    email = _email("reg")
    page = new_page(1280, 800)
    page.goto("/login")
    page.get_by_test_id("register-link").click()
    expect(page).to_have_url(re.compile(r"/register$"))
    # the URL changes first; until the register form is there, "input-email" is the login one
    expect(page.get_by_test_id("register-form")).to_be_visible()
    page.get_by_test_id("input-email").fill(email)
    page.get_by_test_id("input-name").fill("Регина Тестова")
    page.get_by_test_id("input-password").fill(PASSWORD)
    page.get_by_test_id("input-confirm").fill(PASSWORD + "x")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("error-confirm")).to_have_text("Пароли не совпадают.")
    page.get_by_test_id("input-confirm").fill(PASSWORD)
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("form-info")).to_contain_text("Мы отправили письмо")

    # Signing in before confirming is refused with an offer to resend.
    page.goto("/login")
    _sign_in(page, email)
    expect(page.get_by_test_id("form-error")).to_contain_text("не подтверждён")

    link = smtp_server.link(email, "/confirm")
    page.goto(link)
    expect(page.get_by_test_id("confirm-ok")).to_be_visible()
    page.get_by_role("link", name="Войти").click()
    _sign_in(page, email)
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()

    # Enable 2FA with the secret shown on the profile page.
    page.goto("/profile")
    page.get_by_test_id("totp-begin").click()
    expect(page.get_by_test_id("totp-qr")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    page.get_by_test_id("input-totp_code").fill(pyotp.TOTP(secret).now())
    page.get_by_test_id("totp-confirm").click()
    expect(page.get_by_test_id("recovery-code")).to_have_count(10)
    expect(page.get_by_test_id("totp-on")).to_be_visible()
    page.get_by_test_id("recovery-done").click()
    expect(page.get_by_test_id("recovery-codes")).to_have_count(0)

    # Sign out from the user menu, then sign in with a code.
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("user-menu-sign-out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    _sign_in(page, email)
    expect(page.get_by_test_id("code-form")).to_be_visible()
    page.get_by_test_id("input-code").fill("000000")
    page.get_by_test_id("code-submit").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("Неверный код")
    page.get_by_test_id("input-code").fill(_next_code(secret))
    page.get_by_test_id("code-submit").click()
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    page.reload()  # the session cookie survives a reload
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()

    # New recovery codes need a valid code from the app.
    page.goto("/profile")
    page.get_by_test_id("input-regenerate_code").fill("000000")
    page.get_by_test_id("recovery-regenerate").click()
    expect(page.get_by_test_id("error-regenerate_code")).to_contain_text("Неверный код")
    expect(page.get_by_test_id("recovery-code")).to_have_count(0)


def test_blocked_user_is_signed_out_at_next_action(new_page, running_app):
    admin_email, user_email = _email("adm"), _email("victim")
    _create_user(running_app, admin_email, "admin", "Админ Тестов")
    _create_user(running_app, user_email, "analyst", "Жертва Блокировки")

    user_page = _signed_in_page(new_page, user_email)
    user_page.goto("/profile")
    expect(user_page.get_by_test_id("profile-email")).to_have_text(user_email)

    admin_page = _signed_in_page(new_page, admin_email)
    admin_page.get_by_test_id("sidebar").get_by_text("Администрирование").click()
    expect(admin_page.get_by_role("heading", name="Администрирование")).to_be_visible()
    # the list has loaded (the page is live): a search typed earlier could be lost to it
    expect(admin_page.get_by_test_id("user-row").first).to_be_visible()
    admin_page.get_by_test_id("user-search").fill(user_email)
    admin_page.get_by_test_id("user-search").press("Enter")
    row = admin_page.locator(f'[data-testid="user-row"][data-email="{user_email}"]')
    # only the match is left: the search has replaced the list (a menu opened on a row of
    # the old list would close when the row is re-rendered)
    expect(admin_page.get_by_test_id("user-row")).to_have_count(1)
    expect(row).to_have_count(1)
    row.get_by_test_id("user-actions").click()
    admin_page.get_by_test_id("action-block").click()
    expect(row.get_by_text("заблокирован")).to_be_visible()

    # The user's open page still shows the profile; the next action goes to sign-in.
    user_page.get_by_test_id("profile-save").click()
    expect(user_page).to_have_url(re.compile(r"/login"))
    _sign_in(user_page, user_email)
    expect(user_page.get_by_test_id("form-error")).to_contain_text("заблокирована")


def test_signed_out_visitor_returns_to_the_page_after_sign_in(new_page, running_app):
    email = _email("next")
    _create_user(running_app, email)
    page = new_page(1280, 800)
    page.goto("/profile")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)profile/?$"))
    _sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/profile/?$"))
    expect(page.get_by_test_id("profile-email")).to_have_text(email)


def test_open_redirect_is_ignored(new_page, running_app):
    email = _email("redir")
    _create_user(running_app, email)
    page = new_page(1280, 800)
    page.goto("/login?next=//evil.example/x")
    _sign_in(page, email)
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    assert page.url.startswith(running_app.url)


def test_analyst_gets_no_access_to_admin(new_page, running_app):
    email = _email("analyst")
    _create_user(running_app, email)
    page = _signed_in_page(new_page, email)
    expect(page.get_by_test_id("sidebar").get_by_text("Администрирование")).to_be_hidden()
    page.goto("/admin")
    expect(page.get_by_test_id("no-access")).to_be_visible()
    expect(page.get_by_test_id("user-row")).to_have_count(0)


def test_mobile_sign_in(new_page, running_app):
    email = _email("mobile")
    _create_user(running_app, email)
    page = new_page(390, 844)
    page.goto("/login")
    _sign_in(page, email)
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 392, overflow
    page.get_by_test_id("user-menu-mobile").click()
    page.get_by_test_id("user-menu-mobile-sign-out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))


def test_admin_teams_settings_and_audit_tabs(new_page, running_app):
    admin_email = _email("boss")
    _create_user(running_app, admin_email, "admin", "Главный Админ")
    page = _signed_in_page(new_page, admin_email)
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Администрирование")).to_be_visible()
    expect(page.get_by_test_id("user-row").first).to_be_visible()  # loaded: the page is live

    team = f"Команда {uuid.uuid4().hex[:6]}"
    page.get_by_role("tab", name="Команды").click()
    page.get_by_placeholder("Название").fill(team)
    page.get_by_role("button", name="Создать").click()
    card = page.get_by_test_id("team-card").filter(has=page.locator(f'input[value="{team}"]'))
    expect(card).to_have_count(1)

    page.get_by_role("tab", name="Настройки").click()
    switch = page.get_by_test_id("switch-registration")
    expect(switch).to_have_attribute("data-state", "checked")
    switch.click()
    expect(switch).to_have_attribute("data-state", "unchecked")
    try:
        visitor = new_page(390, 844)
        visitor.goto("/register")
        expect(visitor.get_by_test_id("registration-closed")).to_be_visible()
        visitor.goto("/login")
        expect(visitor.get_by_test_id("login-form")).to_be_visible()
        expect(visitor.get_by_test_id("register-link")).to_have_count(0)
    finally:
        switch.click()
        expect(switch).to_have_attribute("data-state", "checked")

    page.get_by_role("tab", name="Журнал аудита").click()
    page.get_by_test_id("audit-action").click()
    page.get_by_role("option", name="Команды — все (team.*)").click()
    page.get_by_role("button", name="Показать").click()
    expect(
        page.get_by_test_id("audit-row").filter(has_text="Команда создана").first
    ).to_be_visible()


def test_form_sent_before_the_page_is_live_keeps_the_password_out_of_the_url(browser, running_app):
    context = browser.new_context(base_url=running_app.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill('input[name="email"]', "early@example.org")
        page.fill('input[name="password"]', "Early-Secret-42")
        expect(page.get_by_test_id("login-submit")).to_be_disabled()  # not live yet
        page.press('input[name="password"]', "Enter")
        page.wait_for_load_state()
        assert "Early-Secret-42" not in page.url and "password" not in page.url
        # any other form posts when sent natively: nothing lands in the URL either
        assert page.locator("form").first.get_attribute("method") == "post"
    finally:
        context.close()


def test_session_cookie_is_httponly_and_never_readable_by_scripts(new_page, running_app):
    email = _email("cookie")
    _create_user(running_app, email)
    page = _signed_in_page(new_page, email)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "socstat_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and len(cookie["value"]) >= 40
    visible = page.evaluate(
        "document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"
    )
    assert cookie["value"] not in visible and "socstat_session" not in visible
    page.reload()  # a new websocket connection carries the cookie: still signed in
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()

    # Signing out revokes the session on the server and deletes the cookie.
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("user-menu-sign-out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    assert not [c for c in page.context.cookies() if c["name"] == "socstat_session"]
    replay = new_page(1280, 800)
    replay.context.add_cookies(
        [{"name": cookie["name"], "value": cookie["value"], "url": running_app.url}]
    )
    replay.goto("/profile")
    expect(replay).to_have_url(re.compile(r"/login\?next="))
