"""Profile: personal data (name, time zone), email address and password."""

from __future__ import annotations

import reflex as rx

from socstat.ui.components.forms import field, form, new_password_fields, section
from socstat.ui.pages.profile.state import ProfileState
from socstat.ui.pages.profile.widgets import error_of, form_level_error, save_button


def timezone_picker() -> rx.Component:
    """A search box over the zones and a select of the matches («Москва (UTC+3)»)."""
    return rx.vstack(
        rx.el.label(rx.text("Часовой пояс", size="2", weight="medium"), html_for="timezone_query"),
        rx.input(
            id="timezone_query",
            placeholder="Найти: город или смещение, напр. «Москва» или «+5»",
            value=ProfileState.timezone_query,
            on_change=ProfileState.set_timezone_query.debounce(300),
            type="search",
            width="100%",
            data_testid="tz-search",
        ),
        rx.select.root(
            rx.select.trigger(width="100%", data_testid="tz-select", aria_label="Часовой пояс"),
            rx.select.content(
                rx.foreach(
                    ProfileState.timezone_options,
                    lambda o: rx.select.item(o["label"], value=o["id"]),
                )
            ),
            value=ProfileState.timezone_choice,
            on_change=ProfileState.set_timezone_choice,
        ),
        rx.text(
            "Время в журналах и сеансах показывается в этом поясе; дни в статистике — дни системы.",
            size="1",
            color_scheme="gray",
        ),
        rx.cond(
            error_of("timezone") != "",
            rx.text(error_of("timezone"), size="1", color_scheme="red"),
        ),
        spacing="1",
        width="100%",
    )


def profile_section() -> rx.Component:
    return section(
        "Личные данные",
        form(
            rx.vstack(
                field(
                    "Имя",
                    "name",
                    default_value=ProfileState.profile["name"],
                    key=ProfileState.profile["name"],
                ),
                timezone_picker(),
                form_level_error("profile"),
                save_button("Сохранить", "profile", "profile-save"),
                spacing="3",
                width="100%",
            ),
            on_submit=ProfileState.save_profile,
            width="100%",
        ),
    )


def _pending_email() -> rx.Component:
    return rx.cond(
        ProfileState.pending_email != "",
        rx.callout(
            rx.vstack(
                rx.text(
                    "Ожидает подтверждения: ",
                    rx.text.strong(ProfileState.pending_email),
                    ". Адрес изменится, когда вы откроете ссылку из письма на этот адрес.",
                ),
                rx.button(
                    "Отменить смену",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ProfileState.cancel_email_change,
                    data_testid="email-change-cancel",
                ),
                spacing="2",
            ),
            icon="mail",
            color_scheme="blue",
            width="100%",
            data_testid="email-pending",
        ),
    )


def email_section() -> rx.Component:
    return section(
        "Электронная почта",
        rx.vstack(
            rx.text("Текущий адрес", size="2", weight="medium"),
            rx.text(ProfileState.profile["email"], data_testid="profile-email"),
            spacing="1",
        ),
        _pending_email(),
        rx.cond(
            ProfileState.email_notice != "",
            rx.callout(
                ProfileState.email_notice,
                icon="circle-check",
                color_scheme="green",
                width="100%",
                data_testid="email-change-sent",
            ),
        ),
        form(
            rx.vstack(
                rx.text("Сменить почту", size="3", weight="medium"),
                field(
                    "Новый адрес",
                    "new_email",
                    type_="email",
                    autocomplete="email",
                    placeholder="name@example.com",
                    error=error_of("new_email"),
                ),
                field(
                    "Текущий пароль",
                    "email_password",
                    type_="password",
                    autocomplete="current-password",
                    error=error_of("email_password"),
                ),
                form_level_error("email"),
                rx.text(
                    "На новый адрес придёт письмо со ссылкой; адрес изменится, когда вы её "
                    "откроете. На текущий адрес придёт уведомление.",
                    size="1",
                    color_scheme="gray",
                ),
                save_button("Сменить почту", "email", "email-change-submit"),
                spacing="3",
                width="100%",
            ),
            id="email-form",
            on_submit=ProfileState.change_email,
            width="100%",
        ),
        data_testid="email-section",
    )


def password_section() -> rx.Component:
    return section(
        "Пароль",
        form(
            rx.vstack(
                field(
                    "Текущий пароль",
                    "current_password",
                    type_="password",
                    autocomplete="current-password",
                    error=error_of("current_password"),
                ),
                new_password_fields(
                    ProfileState.errors,
                    label="Новый пароль",
                    name="new_password",
                    confirm_name="confirm_password",
                    error_key="new_password",
                ),
                rx.text(
                    "После смены пароля все остальные сеансы будут завершены.",
                    size="1",
                    color_scheme="gray",
                ),
                form_level_error("password"),
                save_button("Сменить пароль", "password", "password-save"),
                spacing="3",
                width="100%",
            ),
            id="password-form",
            on_submit=ProfileState.change_password,
            width="100%",
        ),
    )
