"""Small form widgets shared by the account pages: labelled fields, inline errors."""

from __future__ import annotations

from typing import Any

import reflex as rx

from socstat.services.passwords import MIN_LENGTH, password_problem

PASSWORD_HINT = f"Не короче {MIN_LENGTH} символов; не используйте распространённые пароли."


def field(
    label: str,
    name: str,
    *,
    error: rx.Var | str = "",
    type_: str = "text",
    placeholder: str = "",
    autocomplete: str = "",
    hint: str = "",
    **props: Any,
) -> rx.Component:
    """A labelled input with an inline error under it (``error`` is a str Var)."""
    input_props: dict[str, Any] = {
        "name": name,
        "id": name,
        "type": type_,
        "placeholder": placeholder,
        "width": "100%",
        "size": "3",
        "data_testid": f"input-{name}",
    }
    if autocomplete:
        input_props["auto_complete"] = autocomplete
    input_props.update(props)
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=name),
        rx.input(**input_props),
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        rx.cond(
            error != "",
            rx.text(error, size="1", color_scheme="red", data_testid=f"error-{name}"),
        )
        if isinstance(error, rx.Var)
        else rx.fragment(),
        spacing="1",
        width="100%",
    )


def new_password_errors(password: str, confirm: str, email: str = "") -> dict[str, str]:
    """Inline errors of a new password and its confirmation (keys "password", "confirm")."""
    errors: dict[str, str] = {}
    problem = password_problem(password, email=email)
    if problem:
        errors["password"] = problem
    if password != confirm:
        errors["confirm"] = "Пароли не совпадают."
    return errors


def new_password_fields(
    errors: rx.Var,
    *,
    label: str = "Пароль",
    name: str = "password",
    confirm_name: str = "confirm",
    error_key: str = "password",
) -> rx.Component:
    """A new password (with the rules as a hint) and its confirmation; ``errors`` is the
    state's dict of inline errors (``error_key`` and "confirm")."""
    return rx.fragment(
        field(
            label,
            name,
            type_="password",
            autocomplete="new-password",
            hint=PASSWORD_HINT,
            error=errors.get(error_key, ""),
        ),
        field(
            f"{label} ещё раз",
            confirm_name,
            type_="password",
            autocomplete="new-password",
            error=errors.get("confirm", ""),
        ),
    )


def form_error(message: rx.Var, testid: str = "form-error") -> rx.Component:
    """A red callout shown when ``message`` is not empty."""
    return rx.cond(
        message != "",
        rx.callout(
            message, icon="circle-alert", color_scheme="red", width="100%", data_testid=testid
        ),
    )


def form_info(message: rx.Var, testid: str = "form-info") -> rx.Component:
    """A green callout shown when ``message`` is not empty."""
    return rx.cond(
        message != "",
        rx.callout(
            message, icon="circle-check", color_scheme="green", width="100%", data_testid=testid
        ),
    )


def form(*children: rx.Component, **props: Any) -> rx.Component:
    """``rx.form`` that never submits natively by GET: a form submitted before the page
    is live (hydrated) would otherwise put its fields — passwords too — into the URL."""
    return rx.form(*children, method="post", **props)


def submit_button(
    label: str, loading: rx.Var, testid: str = "submit", **props: Any
) -> rx.Component:
    """The main button of a sign-in style page: it stays disabled until the page is live
    (connected, its on_load done), so an early press is not lost or sent natively."""
    return rx.button(
        label,
        type="submit",
        loading=loading,
        disabled=~rx.State.is_hydrated,
        size="3",
        width="100%",
        data_testid=testid,
        **props,
    )


def section(title: str, *children: rx.Component, **props: Any) -> rx.Component:
    """A card with a heading, for the profile and admin pages."""
    return rx.card(
        rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%"),
        width="100%",
        **props,
    )


def text_of(form: dict[str, Any] | Any, key: str, limit: int = 1000) -> str:
    """A form value as a bounded string (the browser may send anything)."""
    if not isinstance(form, dict):
        return ""
    value = form.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    return value[:limit]
