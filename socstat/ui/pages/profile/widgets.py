"""Pieces every profile section uses: errors and the submit button."""

from __future__ import annotations

from typing import Any

import reflex as rx

from socstat.ui.components.forms import form_error
from socstat.ui.pages.profile.state import ProfileState


def form_level_error(key: str) -> rx.Component:
    """A form's error that concerns no single field."""
    return form_error(ProfileState.errors.get(key, ""), testid=f"profile-error-{key}")


def error_of(name: str) -> rx.Var:
    """The inline error of the input ``name``."""
    return ProfileState.errors.get(name, "")


def save_button(label: str, key: str, testid: str, **props: Any) -> rx.Component:
    """A profile form's submit button; it spins while ``key`` is being saved."""
    return rx.button(
        label, type="submit", loading=ProfileState.saving == key, data_testid=testid, **props
    )
