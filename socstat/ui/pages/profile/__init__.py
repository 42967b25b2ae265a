"""Профиль: name, time zone, email address, password, two-factor sign-in, sessions.

``state`` holds the handlers (each form through ``form_action``), ``account`` and
``security`` the sections.
"""

from __future__ import annotations

import reflex as rx

from socstat.ui.auth import protected
from socstat.ui.components.contacts import contacts_section
from socstat.ui.components.layout import page_frame
from socstat.ui.pages.profile.account import email_section, password_section, profile_section
from socstat.ui.pages.profile.security import sessions_section, two_factor_section
from socstat.ui.pages.profile.state import ProfileState
from socstat.ui.routing import page

__all__ = ["ProfileState"]


@page(route="/profile", title="Профиль — socstat", on_load=protected(ProfileState.load))
def profile_page() -> rx.Component:
    return page_frame(
        "Профиль",
        rx.cond(
            ProfileState.loaded,
            rx.vstack(
                # an admin who must enrol sees 2FA first; everyone else sees their data first
                rx.cond(ProfileState.must_enrol, two_factor_section()),
                profile_section(),
                email_section(),
                password_section(),
                contacts_section(),
                rx.cond(~ProfileState.must_enrol, two_factor_section()),
                sessions_section(),
                spacing="4",
                width="100%",
                max_width="720px",
            ),
            rx.hstack(rx.spinner(), rx.text("Загрузка…")),
        ),
    )
