"""Reflex configuration. Only REFLEX_-prefixed variables override these values."""

import os

import reflex as rx
from reflex.constants import StateManagerMode
from reflex.plugins import RadixThemesPlugin, SitemapPlugin

# Without Redis the tabs' states live in the one backend process's memory. Reflex's default
# there, the disk manager, also pickles every changed state to .states/ and lists that
# folder every two seconds (a stat per tab and page state): half of the backend's CPU at
# 100 dashboard sessions (docs/benchmarks.md), for nothing socstat uses — `reflex run`
# empties the folder as it starts, and every page reads its data when it loads. Named
# explicitly, the mode must name Redis too when REFLEX_REDIS_URL is set.
STATE_MANAGER_MODE = (
    StateManagerMode.REDIS if os.environ.get("REFLEX_REDIS_URL") else StateManagerMode.MEMORY
)

config = rx.Config(
    app_name="socstat",
    app_module_import="socstat.app",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium")
        )
    ],
    disable_plugins=[SitemapPlugin],
    state_manager_mode=STATE_MANAGER_MODE,
)
