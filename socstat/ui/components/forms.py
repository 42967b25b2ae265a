"""Forms: labelled fields, inline errors, and :func:`form_action`, the one way a form's
handler runs its service call (pending state, errors by field, success)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import reflex as rx
from sqlmodel import Session

from socstat.models.accounts import User
from socstat.services.authz import PermissionDenied
from socstat.services.errors import FieldError
from socstat.services.passwords import MIN_LENGTH, password_problem

if TYPE_CHECKING:
    from socstat.ui.auth import AuthState

T = TypeVar("T")

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


async def form_action(
    state: AuthState,
    form_name: str,
    work: Callable[[Session, User], T],
    *,
    invalid: Mapping[str, str] | None = None,
    fields: Mapping[str, str] | None = None,
    after: Callable[[T], Awaitable[None]] | None = None,
    success: str | Callable[[T], str] = "",
    reset: str = "",
    allow_unenrolled: bool = False,
) -> AsyncIterator[Any]:
    """Submit ``form_name``: the state's ``errors`` (dict of input name → message) and
    ``saving`` (the form being submitted) vars drive the view.

    ``invalid`` are the handler's own checks of the input: when any, they are shown and
    nothing runs. Otherwise ``work(session, user)`` runs as the current user; a
    :class:`FieldError` is shown under its input (``fields`` maps the service's field
    names to this form's input names; an untagged error goes to ``form_name``), a refusal
    redirects or toasts. On success ``after(result)`` updates the state, ``success``
    (text or a function of the result) is toasted and the form element with id ``reset``
    is cleared. Use as ``async for event in form_action(...): yield event``.
    """
    state.errors = dict(invalid or {})
    if state.errors:
        return
    state.saving = form_name
    yield
    try:
        result = await state._as_actor(work, allow_unenrolled=allow_unenrolled)
        if after is not None:
            await after(result)
    except FieldError as exc:
        state.errors = {(fields or {}).get(exc.field, exc.field) or form_name: str(exc)}
        return
    except PermissionDenied as exc:
        yield state._denied(exc)
        return
    finally:
        state.saving = ""
    message = success(result) if callable(success) else success
    if message:
        yield rx.toast.success(message)
    if reset:
        yield rx.call_script(f"document.getElementById({reset!r})?.reset()")
