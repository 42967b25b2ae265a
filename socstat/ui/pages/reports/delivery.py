"""The «Рассылка» block: which scheduled reports to receive, their attachments, pausing,
and extra recipient addresses (confirmed by a link)."""

from __future__ import annotations

import reflex as rx

from socstat.ui.components.forms import form, form_error, form_info, section
from socstat.ui.pages.reports.model import FORMAT_LABELS
from socstat.ui.pages.reports.state import ReportsState


def _checkbox(name: str, label: str, checked: rx.Var) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, default_checked=checked, data_testid=f"set-{name}"),
        " " + label,
        style={"display": "flex", "gap": "6px", "alignItems": "center"},
    )


def delivery() -> rx.Component:
    s = ReportsState
    settings = s.settings
    return section(
        "Рассылка",
        rx.cond(
            s.loaded,
            form(
                rx.vstack(
                    _checkbox("daily", "Ежедневный отчёт (10:00)", settings["daily"].to(bool)),
                    _checkbox(
                        "weekly", "Еженедельный (понедельник, 10:00)", settings["weekly"].to(bool)
                    ),
                    _checkbox(
                        "monthly", "Ежемесячный (1-е число, 10:00)", settings["monthly"].to(bool)
                    ),
                    rx.flex(
                        rx.text("Вложения:", size="2"),
                        *[
                            _checkbox(
                                f"format_{fmt}",
                                label,
                                settings["formats"].to(list[str]).contains(fmt),
                            )
                            for fmt, label in FORMAT_LABELS.items()
                        ],
                        spacing="3",
                        wrap="wrap",
                    ),
                    _checkbox("paused", "Приостановить все рассылки", settings["paused"].to(bool)),
                    rx.button("Сохранить", type="submit", data_testid="settings-save"),
                    spacing="2",
                ),
                on_submit=s.save_settings,
                key=s.settings.to_string(),
            ),
        ),
        rx.text("Дополнительные адреса (получают отчёты после подтверждения по ссылке):", size="2"),
        rx.foreach(
            s.recipients,
            lambda r: rx.hstack(
                rx.text(r["email"], size="2"),
                rx.badge(r["state"]),
                rx.button(
                    "Убрать",
                    size="1",
                    variant="ghost",
                    type="button",
                    on_click=s.remove_recipient(r["email"]),
                ),
                align="center",
            ),
        ),
        form(
            rx.flex(
                rx.input(
                    name="email",
                    type="email",
                    placeholder="адрес@пример.рф",
                    data_testid="recipient-email",
                ),
                rx.button("Добавить", type="submit", data_testid="recipient-add"),
                spacing="2",
            ),
            on_submit=s.add_recipient,
            reset_on_submit=True,
        ),
        form_error(s.settings_error, testid="settings-error"),
        form_info(s.settings_info, testid="settings-info"),
    )
