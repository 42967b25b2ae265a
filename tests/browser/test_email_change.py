"""Changing the email address in a real browser: the profile form, the emails, the link."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import TEST_PASSWORD


def test_change_email_with_the_link_from_the_new_address(signed_in_page, running_app, smtp_server):
    page, old_email = signed_in_page("analyst")
    new_email = f"moved-{uuid.uuid4().hex[:10]}@example.org"
    page.goto("/profile")
    expect(page.get_by_test_id("profile-email")).to_have_text(old_email)

    # Bad input is answered inline, next to the field.
    page.get_by_test_id("input-new_email").fill(old_email.upper())
    page.get_by_test_id("input-email_password").fill(TEST_PASSWORD)
    page.get_by_test_id("email-change-submit").click()
    expect(page.get_by_test_id("error-new_email")).to_have_text("Это ваш текущий адрес почты.")
    page.get_by_test_id("input-new_email").fill(new_email)
    page.get_by_test_id("input-email_password").fill("Wrong-Password-1")
    page.get_by_test_id("email-change-submit").click()
    expect(page.get_by_test_id("error-email_password")).to_have_text(
        "Текущий пароль указан неверно."
    )
    expect(page.get_by_test_id("error-new_email")).to_have_count(0)

    page.get_by_test_id("input-email_password").fill(TEST_PASSWORD)
    page.get_by_test_id("email-change-submit").click()
    expect(page.get_by_test_id("email-change-sent")).to_contain_text("Мы отправили письмо")
    expect(page.get_by_test_id("email-pending")).to_contain_text(new_email)
    expect(page.get_by_test_id("profile-email")).to_have_text(old_email)  # not yet

    notice = smtp_server.wait_for(old_email, subject_contains="адрес почты меняется")
    assert new_email in notice.body and "смените пароль" in notice.body
    assert "/confirm-email" not in notice.body
    link = smtp_server.link(new_email, "/confirm-email")

    page.goto(link)
    expect(page.get_by_test_id("confirm-email-ok")).to_contain_text(new_email)
    page.goto(link)  # single use
    expect(page.get_by_test_id("confirm-email-error")).to_contain_text("недействительна")

    page.goto("/profile")
    expect(page.get_by_test_id("profile-email")).to_have_text(new_email)
    expect(page.get_by_test_id("email-pending")).to_have_count(0)

    # The new address signs in, the old one no longer does.
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("user-menu-sign-out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    page.get_by_test_id("input-email").fill(old_email)
    page.get_by_test_id("input-password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("Неверный адрес")
    page.get_by_test_id("input-email").fill(new_email)
    page.get_by_test_id("input-password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
