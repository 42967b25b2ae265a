"""The root state of the shell: what every page needs (flat; pages add one substate each)."""

import reflex as rx

from socstat.settings import get_settings


class AppState(rx.State):
    """Shell-level facts. Read from the backend's settings when the backend starts."""

    demo_mode: bool = get_settings().demo_mode
