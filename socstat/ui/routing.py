"""The pages of the app, registered once on the app object.

Why not ``@rx.page``: Reflex applies its decorated pages in every compile, and
``reflex run --env prod`` compiles in the CLI process and then again in each backend
worker forked from it, on the same ``App`` object — every page was "redefined with the
same component" (a warning per page at start). Pages collected here are added with
``App.add_page`` when the app module is imported, exactly once per process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

PageFn = Callable[[], rx.Component]

_PAGES: list[tuple[PageFn, dict[str, Any]]] = []


def page(*, route: str, title: str, on_load: Any = None) -> Callable[[PageFn], PageFn]:
    """Mark a page function for :func:`add_pages` (same arguments as ``rx.page``)."""

    def decorator(render: PageFn) -> PageFn:
        _PAGES.append((render, {"route": route, "title": title, "on_load": on_load}))
        return render

    return decorator


def add_pages(app: rx.App) -> None:
    """Add every page marked with :func:`page` (its module must be imported first)."""
    for render, kwargs in _PAGES:
        app.add_page(render, **kwargs)
