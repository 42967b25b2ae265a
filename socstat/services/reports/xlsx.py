"""The report as one Excel workbook (openpyxl): five sheets, native charts on «Сводка»."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from socstat.services.reports.data import (
    DAYS_COLUMNS,
    DEFINITIONS_COLUMNS,
    KIND_LABELS,
    PUBLICATIONS_COLUMNS,
    SHEET_DAYS,
    SHEET_DEFINITIONS,
    SHEET_PUBLICATIONS,
    SHEET_SOURCES,
    SHEET_SUMMARY,
    SOURCES_COLUMNS,
    SUMMARY_COLUMNS,
    ReportData,
)

INT = "#,##0"
PCT = "0.00%"
DATE = "DD.MM.YYYY"
DATETIME = "DD.MM.YYYY HH:MM"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_CHART_TITLE = "Динамика по дням"
_CHART_COLUMNS = ("Дата", "Публикаций", "Реакции", "Просмотры")


def write_xlsx(data: ReportData) -> bytes:
    book = Workbook()
    summary = book.active
    summary.title = SHEET_SUMMARY
    _summary_sheet(summary, data)
    _sources_sheet(book.create_sheet(SHEET_SOURCES), data)
    _days_sheet(book.create_sheet(SHEET_DAYS), data)
    _publications_sheet(book.create_sheet(SHEET_PUBLICATIONS), data)
    _definitions_sheet(book.create_sheet(SHEET_DEFINITIONS), data)
    book.properties.title = data.title
    book.properties.creator = "socstat"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _header(sheet: Worksheet, columns: Sequence[str], row: int = 1) -> None:
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(row=row, column=index, value=name)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)


def _table(
    sheet: Worksheet,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    formats: Sequence[str | None],
    widths: Sequence[int],
) -> None:
    """Header on row 1 (frozen, auto-filter), then the rows with per-column number formats."""
    _header(sheet, columns)
    count = 1
    for count, values in enumerate(rows, start=2):
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=count, column=index, value=value)
            number_format = formats[index - 1]
            if number_format and value is not None:
                cell.number_format = number_format
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(count, 1)}"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _summary_sheet(sheet: Worksheet, data: ReportData) -> None:
    sheet["A1"] = data.title
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = f"Период: {data.period_label} (дни по часовому поясу {data.timezone})"
    sheet["A3"] = f"Охват: {data.scope_label}"
    sheet["A4"] = (
        f"Предыдущий период: {data.previous_start:%d.%m.%Y} — {data.previous_end:%d.%m.%Y}"
    )
    start = 6
    _header(sheet, SUMMARY_COLUMNS, row=start)
    for offset, row in enumerate(data.summary, start=1):
        number = PCT if row.is_ratio else INT
        values = (row.label, row.value, row.previous, row.change)
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=start + offset, column=index, value=value)
            if index in (2, 3) and value is not None:
                cell.number_format = number
            if index == 4 and value is not None:
                cell.number_format = "+0.0%;-0.0%;0.0%"
    sheet.freeze_panes = f"A{start + 1}"
    for letter, width in zip("ABCD", (34, 18, 20, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    _summary_charts(sheet, data, first_row=start + len(data.summary) + 3)


def _summary_charts(sheet: Worksheet, data: ReportData, *, first_row: int) -> None:
    """The day series as a small table (the charts' data) and two native charts beside it."""
    sheet.cell(row=first_row - 1, column=1, value=_CHART_TITLE).font = Font(bold=True)
    _header(sheet, _CHART_COLUMNS, row=first_row)
    for offset, point in enumerate(data.chart, start=1):
        row = first_row + offset
        sheet.cell(row=row, column=1, value=point.day).number_format = DATE
        for column, value in enumerate((point.publications, point.reactions, point.views), 2):
            cell = sheet.cell(row=row, column=column, value=value)
            if value is not None:
                cell.number_format = INT
    last = first_row + len(data.chart)
    if not data.chart:
        return
    dates = Reference(sheet, min_col=1, min_row=first_row + 1, max_row=last)
    bars = BarChart()
    bars.title = "Публикации по дням"
    bars.y_axis.title = "Публикаций"
    bars.add_data(
        Reference(sheet, min_col=2, min_row=first_row, max_row=last), titles_from_data=True
    )
    bars.set_categories(dates)
    bars.width, bars.height = 18, 7
    sheet.add_chart(bars, "F6")
    lines = LineChart()
    lines.title = "Реакции и просмотры по дням"
    lines.add_data(
        Reference(sheet, min_col=3, max_col=4, min_row=first_row, max_row=last),
        titles_from_data=True,
    )
    lines.set_categories(dates)
    lines.width, lines.height = 18, 7
    sheet.add_chart(lines, "F22")


def _sources_sheet(sheet: Worksheet, data: ReportData) -> None:
    rows = (
        (
            s.name,
            s.vk_id,
            s.url,
            s.status,
            s.posts,
            s.videos,
            s.clips,
            s.likes,
            s.reposts,
            s.comments,
            s.views,
            s.er_post,
            s.er_view,
            s.members,
            s.members_delta,
        )
        for s in data.sources
    )
    formats = (None, None, None, None, *(INT,) * 7, PCT, PCT, INT, INT)
    widths = (34, 12, 28, 14, *(12,) * 7, 10, 10, 13, 14)
    _table(sheet, SOURCES_COLUMNS, rows, formats, widths)


def _days_sheet(sheet: Worksheet, data: ReportData) -> None:
    rows = (
        (d.day, d.source, d.vk_id, KIND_LABELS.get(d.kind, d.kind), *d.values(), d.views_unknown)
        for d in data.days
    )
    formats = (DATE, None, None, None, *(INT,) * 6)
    widths = (12, 34, 12, 8, 12, 10, 10, 13, 12, 14)
    _table(sheet, DAYS_COLUMNS, rows, formats, widths)


def _publications_sheet(sheet: Worksheet, data: ReportData) -> None:
    rows = (
        (
            p.published_at.replace(tzinfo=None),
            p.source,
            p.vk_id,
            KIND_LABELS.get(p.kind, p.kind),
            p.text,
            p.likes,
            p.reposts,
            p.comments,
            p.views,
            p.er_post,
            p.er_view,
            p.url,
        )
        for p in data.publications
    )
    formats = (DATETIME, None, None, None, None, *(INT,) * 4, PCT, PCT, None)
    widths = (17, 30, 12, 8, 50, 10, 10, 13, 12, 10, 10, 36)
    _table(sheet, PUBLICATIONS_COLUMNS, rows, formats, widths)


def _definitions_sheet(sheet: Worksheet, data: ReportData) -> None:
    rows = [(d.section, d.name, d.value) for d in data.definitions]
    _table(sheet, DEFINITIONS_COLUMNS, rows, (None, None, None), (18, 34, 100))
    for row in sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
