"""Отчёты (/reports): build a report (with a preview of its key numbers), the history,
delivery settings. The state and its handlers are in ``state`` (the browser's input and
the rows shown in ``model``); ``builder``, ``history`` and ``delivery`` are the blocks."""

from __future__ import annotations

import reflex as rx

from socstat.ui.auth import protected
from socstat.ui.components.layout import page_frame
from socstat.ui.pages.reports.builder import builder
from socstat.ui.pages.reports.delivery import delivery
from socstat.ui.pages.reports.history import history
from socstat.ui.pages.reports.state import ReportsState
from socstat.ui.routing import page

__all__ = ["ReportsState"]


@page(route="/reports", title="Отчёты — socstat", on_load=protected(ReportsState.load))
def reports_page() -> rx.Component:
    return page_frame(
        "Отчёты",
        rx.cond(
            ReportsState.loaded,
            rx.vstack(builder(), history(), delivery(), spacing="4", width="100%"),
            rx.spinner(),
        ),
    )
