"""A dialog that edits a set of ids with checkboxes (user → teams, team → members)."""

from __future__ import annotations

from typing import Any

import reflex as rx


def toggled(selection: list[str], item_id: Any) -> list[str]:
    """``selection`` with ``item_id`` (as a string) added, or removed when present."""
    item = str(item_id)
    if item in selection:
        return [i for i in selection if i != item]
    return [*selection, item]


def id_list(record: Any, key: str) -> list[str]:
    """The ids under ``key`` of a row dict sent back by the browser, as strings."""
    ids = record.get(key, []) if isinstance(record, dict) else []
    return [str(i) for i in ids] if isinstance(ids, list) else []


def checklist_dialog(
    *,
    title: str,
    description: rx.Var,
    options: rx.Var,
    selected: rx.Var,
    on_toggle: Any,
    is_open: rx.Var,
    on_cancel: Any,
    on_save: Any,
    empty_text: str = "",
) -> rx.Component:
    """Checkboxes over ``options`` ([{id, label}]) ticked where ``selected`` holds the id.

    ``on_toggle`` takes the option id; closing the dialog in any way calls ``on_cancel``.
    """
    boxes = rx.vstack(
        rx.foreach(
            options,
            lambda option: rx.checkbox(
                option["label"],
                checked=selected.contains(option["id"]),
                on_change=lambda _checked: on_toggle(option["id"]),
            ),
        ),
        spacing="2",
    )
    if empty_text:
        boxes = rx.cond(options.length() > 0, boxes, rx.text(empty_text, color_scheme="gray"))
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(description),
            rx.scroll_area(boxes, max_height="50vh", margin_y="12px"),
            rx.hstack(
                rx.button("Отмена", variant="soft", color_scheme="gray", on_click=on_cancel),
                rx.button("Сохранить", on_click=on_save),
                justify="end",
                spacing="3",
            ),
        ),
        open=is_open,
        on_open_change=lambda _open: on_cancel(),
    )
