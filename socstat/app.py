"""The Reflex application: pages, backend routes and background jobs."""

import reflex as rx

from socstat.api.auth_routes import router as auth_router
from socstat.api.routes import build_api
from socstat.demo import demo_sandbox_lifespan
from socstat.logging_setup import configure_logging
from socstat.scheduler import scheduler_lifespan
from socstat.ui.pages import (  # noqa: F401  (their pages register with add_pages)
    admin,
    alerts,
    confirm,
    dashboard,
    home,
    invite,
    login,
    not_found,
    notifications,
    profile,
    register,
    reports,
    reset,
    source_detail,
    sources,
    system,
)
from socstat.ui.routing import add_pages

configure_logging()

api = build_api()
api.include_router(auth_router)
app = rx.App(
    html_lang="ru",
    api_transformer=api,
    # assets/: /favicon.ico for every browser, the SVG logo as the sharper icon.
    head_components=[
        rx.el.link(rel="icon", href="/favicon.ico", sizes="any"),
        rx.el.link(rel="icon", href="/logo.svg", type="image/svg+xml"),
    ],
)
add_pages(app)
# The demo sandbox first: the scheduler's collections talk to it in demo mode.
app.register_lifespan_task(demo_sandbox_lifespan)
app.register_lifespan_task(scheduler_lifespan)
