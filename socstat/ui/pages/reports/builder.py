"""The «Сформировать отчёт» block: kind and period, sources or tags, formats, the preview
of the key numbers and the progress of a report being generated."""

from __future__ import annotations

from typing import Any

import reflex as rx

from socstat.models import ReportKind
from socstat.services.reports.data import REPORT_KIND_LABELS
from socstat.ui.components.forms import form_error, form_info, section
from socstat.ui.pages.reports.model import FORMAT_LABELS
from socstat.ui.pages.reports.state import ReportsState


def _chip(label: rx.Var, active: rx.Var, on_click: Any, testid: str) -> rx.Component:
    return rx.button(
        label,
        variant=rx.cond(active, "solid", "outline"),
        size="1",
        type="button",
        on_click=on_click,
        data_testid=testid,
    )


def builder() -> rx.Component:
    s = ReportsState
    return section(
        "Сформировать отчёт",
        rx.box(
            rx.vstack(
                rx.select.root(
                    rx.select.trigger(aria_label="Вид отчёта", data_testid="report-kind"),
                    rx.select.content(
                        *[rx.select.item(label, value=k) for k, label in REPORT_KIND_LABELS.items()]
                    ),
                    value=s.kind,
                    on_change=s.set_kind,
                ),
                rx.cond(
                    s.kind == ReportKind.CUSTOM,
                    rx.flex(
                        rx.el.label("С", html_for="date_from"),
                        rx.input(
                            type="date",
                            id="date_from",
                            value=s.date_from,
                            on_change=s.set_date_from,
                            data_testid="report-from",
                        ),
                        rx.el.label("по", html_for="date_to"),
                        rx.input(
                            type="date",
                            id="date_to",
                            value=s.date_to,
                            on_change=s.set_date_to,
                            data_testid="report-to",
                        ),
                        spacing="2",
                        align="center",
                        wrap="wrap",
                    ),
                    rx.text(
                        "Период: последний завершённый день, неделя или месяц.",
                        size="1",
                        color_scheme="gray",
                    ),
                ),
                rx.text("Источники (без выбора — все ваши):", size="2"),
                rx.flex(
                    rx.foreach(
                        s.source_options,
                        lambda o: _chip(
                            o["name"],
                            s.chosen_sources.contains(o["id"]),
                            s.toggle_source(o["id"]),
                            "report-source",
                        ),
                    ),
                    wrap="wrap",
                    spacing="2",
                ),
                rx.cond(
                    s.tag_options.length() > 0,
                    rx.flex(
                        rx.text("Теги:", size="2"),
                        rx.foreach(
                            s.tag_options,
                            lambda t: _chip(
                                t, s.chosen_tags.contains(t), s.toggle_tag(t), "report-tag"
                            ),
                        ),
                        wrap="wrap",
                        spacing="2",
                    ),
                ),
                rx.flex(
                    rx.text("Форматы:", size="2"),
                    *[
                        _chip(label, s.formats.contains(fmt), s.toggle_format(fmt), f"format-{fmt}")
                        for fmt, label in FORMAT_LABELS.items()
                    ],
                    spacing="2",
                    wrap="wrap",
                    align="center",
                ),
                rx.flex(
                    rx.button(
                        "Предпросмотр",
                        type="button",
                        variant="soft",
                        on_click=s.show_preview,
                        data_testid="report-preview",
                    ),
                    rx.button(
                        "Сформировать",
                        type="button",
                        loading=s.generating,
                        on_click=s.build,
                        data_testid="report-build",
                    ),
                    spacing="2",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        rx.cond(
            s.generating,
            rx.vstack(
                rx.text("Отчёт формируется…", size="2"),
                rx.progress(value=s.progress, max=100, width="100%", data_testid="report-progress"),
                width="100%",
            ),
        ),
        form_error(s.build_error, testid="report-error"),
        form_info(s.build_info, testid="report-info"),
        rx.cond(s.preview.length() > 0, _preview()),
    )


def _preview() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.body(
                rx.foreach(
                    ReportsState.preview,
                    lambda r: rx.table.row(
                        rx.table.cell(r["label"]),
                        rx.table.cell(r["value"], text_align="right", data_testid="preview-value"),
                        rx.table.cell(r["change"], text_align="right", color=r["color"]),
                    ),
                )
            ),
            size="1",
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        data_testid="report-preview-table",
    )
