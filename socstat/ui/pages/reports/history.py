"""The «История» block: every report the user may see, with downloads (through the
authenticated route), regeneration and deletion."""

from __future__ import annotations

import reflex as rx

from socstat.ui.components.forms import form_error, section
from socstat.ui.pages.reports.state import ReportsState


def _history_row(r: rx.Var) -> rx.Component:
    s = ReportsState
    return rx.table.row(
        rx.table.cell(r["kind"]),
        rx.table.cell(r["period"], white_space="nowrap"),
        rx.table.cell(r["scope"]),
        rx.table.cell(r["author"]),
        rx.table.cell(
            rx.vstack(
                rx.badge(
                    r["status_label"], color_scheme=r["status_color"], data_testid="report-status"
                ),
                rx.cond(r["error"] != "", rx.text(r["error"], size="1", color_scheme="red")),
                spacing="1",
            )
        ),
        rx.table.cell(r["size"], white_space="nowrap"),
        rx.table.cell(r["time"], white_space="nowrap"),
        rx.table.cell(
            rx.flex(
                rx.foreach(
                    r["files"].to(list[dict[str, str]]),
                    lambda f: rx.button(
                        f["label"],
                        size="1",
                        variant="soft",
                        on_click=s.download(r["id"], f["format"]),
                        data_testid="report-download",
                    ),
                ),
                rx.button(
                    "Заново",
                    size="1",
                    variant="outline",
                    on_click=s.regenerate(r["id"]),
                    data_testid="report-regenerate",
                ),
                rx.button(
                    "Удалить",
                    size="1",
                    variant="outline",
                    color_scheme="red",
                    on_click=s.delete(r["id"]),
                    data_testid="report-delete",
                ),
                spacing="1",
                wrap="wrap",
            )
        ),
        data_testid="report-row",
        data_report_id=r["id"],
    )


def history() -> rx.Component:
    return section(
        "История",
        form_error(ReportsState.history_error, testid="history-error"),
        rx.cond(
            ReportsState.history.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(name)
                                for name in (
                                    "Отчёт",
                                    "Период",
                                    "Охват",
                                    "Автор",
                                    "Статус",
                                    "Размер",
                                    "Время",
                                    "",
                                )
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(ReportsState.history, _history_row)),
                    size="1",
                    variant="surface",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
            rx.text(
                "Отчётов пока нет.", size="2", color_scheme="gray", data_testid="history-empty"
            ),
        ),
    )
