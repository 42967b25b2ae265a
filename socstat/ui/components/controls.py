"""Selects and a pager shared by the list pages."""

from __future__ import annotations

from typing import Any

import reflex as rx

# ``display`` of a table cell shown from 768 px up: the less needed columns on a phone.
WIDE_ONLY = rx.breakpoints(initial="none", sm="table-cell")


def option_select(
    options: rx.Var, value: rx.Var, on_change: Any, testid: str, **props: Any
) -> rx.Component:
    """A select over [{id, label}] options held in a state var."""
    return rx.select.root(
        rx.select.trigger(data_testid=testid, **props),
        rx.select.content(rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["id"]))),
        value=value,
        on_change=on_change,
    )


def static_select(
    items: list[tuple[str, str]], value: rx.Var, on_change: Any, testid: str, **props: Any
) -> rx.Component:
    """A select over fixed (value, label) pairs."""
    return rx.select.root(
        rx.select.trigger(data_testid=testid, **props),
        rx.select.content(*[rx.select.item(label, value=key) for key, label in items]),
        value=value,
        on_change=on_change,
    )


def pager(
    label: rx.Var, has_prev: rx.Var, has_next: rx.Var, on_prev: Any, on_next: Any
) -> rx.Component:
    """The buttons "Назад" and "Вперёд" around the page label."""
    return rx.hstack(
        rx.button("Назад", variant="soft", disabled=~has_prev, on_click=on_prev),
        rx.text(label, size="2"),
        rx.button("Вперёд", variant="soft", disabled=~has_next, on_click=on_next),
        align="center",
    )
