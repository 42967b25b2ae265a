"""Reflex configuration. Only REFLEX_-prefixed variables override these values."""

import reflex as rx
from reflex.plugins import RadixThemesPlugin, SitemapPlugin

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
)
