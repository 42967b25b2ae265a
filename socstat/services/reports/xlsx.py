"""The report as one Excel workbook (openpyxl): five sheets, native charts on «Сводка»."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet as Sheet

from socstat.services.reports.data import (
    DAYS_COLUMNS,
    DEFINITIONS_COLUMNS,
    PUBLICATIONS_COLUMNS,
    ROLLUP_COLUMNS,
    ROLLUP_TITLE,
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
CHANGE = "+0.0%;-0.0%;0.0%"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_CHART_TITLE = "Динамика по дням"
_CHART_COLUMNS = ("Дата", "Публикаций", "Реакции", "Просмотры")


def write_xlsx(data: ReportData) -> bytes:
    """Write-only (streamed) workbook: rows go straight to the file, so memory stays flat
    for large reports; widths, freeze panes and filters are set before the rows."""
    book = Workbook(write_only=True)
    _summary_sheet(book.create_sheet(SHEET_SUMMARY), data)
    _sources_sheet(book.create_sheet(SHEET_SOURCES), data)
    _days_sheet(book.create_sheet(SHEET_DAYS), data)
    _publications_sheet(book.create_sheet(SHEET_PUBLICATIONS), data)
    _definitions_sheet(book.create_sheet(SHEET_DEFINITIONS), data)
    book.properties.title = data.title
    book.properties.creator = "socstat"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(sheet: Sheet, value: Any, number_format: str | None = None, **style: Any) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    if number_format and value is not None:
        cell.number_format = number_format
    for name, item in style.items():
        setattr(cell, name, item)
    return cell


def _header_row(sheet: Sheet, columns: Sequence[str]) -> list[Any]:
    return [
        _cell(
            sheet,
            name,
            font=_HEADER_FONT,
            fill=_HEADER_FILL,
            alignment=Alignment(vertical="center", wrap_text=True),
        )
        for name in columns
    ]


def _widths(sheet: Sheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _table(
    sheet: Sheet,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    formats: Sequence[str | None],
    widths: Sequence[int],
    wrap_last: bool = False,
) -> None:
    """Header on row 1 (frozen, auto-filter), then the rows with per-column number formats.
    Plain text cells go in as values; only formatted ones need a cell object, made here
    without the ``_cell`` helper: per cell of «По дням» its overhead was a sixth of the
    sheet's time."""
    _widths(sheet, widths)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    sheet.append(_header_row(sheet, columns))
    wrap = Alignment(wrap_text=True, vertical="top")
    formatted = [(index, fmt) for index, fmt in enumerate(formats) if fmt]
    for values in rows:
        if wrap_last:
            sheet.append([*values[:-1], _cell(sheet, values[-1], alignment=wrap)])
            continue
        row = list(values)
        for index, fmt in formatted:
            if row[index] is not None:
                cell = WriteOnlyCell(sheet, value=row[index])
                cell.number_format = fmt
                row[index] = cell
        sheet.append(row)


def _summary_sheet(sheet: Sheet, data: ReportData) -> None:
    _widths(sheet, (34, 18, 20, 14))
    header_row = 6
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.append([_cell(sheet, data.title, font=Font(bold=True, size=14))])
    sheet.append([f"Период: {data.period_label} (дни по часовому поясу {data.timezone})"])
    sheet.append([f"Охват: {data.scope_label}"])
    previous = f"{data.previous_start:%d.%m.%Y} — {data.previous_end:%d.%m.%Y}"
    sheet.append([f"Предыдущий период: {previous}"])
    sheet.append([])
    sheet.append(_header_row(sheet, SUMMARY_COLUMNS))
    for row in data.summary:
        number = PCT if row.is_ratio else INT
        sheet.append(
            [
                row.label,
                _cell(sheet, row.value, number),
                _cell(sheet, row.previous, number),
                _cell(sheet, row.change, CHANGE),
            ]
        )
    sheet.append([])
    sheet.append([_cell(sheet, _CHART_TITLE, font=Font(bold=True))])
    first_row = header_row + len(data.summary) + 3
    sheet.append(_header_row(sheet, _CHART_COLUMNS))
    for point in data.chart:
        sheet.append(
            [
                _cell(sheet, point.day, DATE),
                *(
                    _cell(sheet, value, INT)
                    for value in (point.publications, point.reactions, point.views)
                ),
            ]
        )
    if data.chart:
        _summary_charts(sheet, first_row, first_row + len(data.chart))
    if data.rollup:
        sheet.append([])
        sheet.append([_cell(sheet, ROLLUP_TITLE, font=Font(bold=True))])
        sheet.append(_header_row(sheet, ROLLUP_COLUMNS))
        formats = (None, INT, INT, INT, INT, INT, INT, PCT, PCT, INT, INT)
        for row in data.rollup:
            sheet.append(
                [_cell(sheet, v, f) if f else v for v, f in zip(row.values(), formats, strict=True)]
            )


def _summary_charts(sheet: Sheet, first_row: int, last: int) -> None:
    """Two native charts over the day table (its header on ``first_row``)."""
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


def _sources_sheet(sheet: Sheet, data: ReportData) -> None:
    rows = [s.values() for s in data.sources]
    formats = (None, None, None, None, *(INT,) * 7, PCT, PCT, INT, INT)
    widths = (34, 12, 28, 14, *(12,) * 7, 10, 10, 13, 14)
    _table(sheet, SOURCES_COLUMNS, rows, formats, widths)


def _days_sheet(sheet: Sheet, data: ReportData) -> None:
    rows = [d.cells() for d in data.days]
    formats = (DATE, None, None, None, *(INT,) * 6)
    widths = (12, 34, 12, 8, 12, 10, 10, 13, 12, 14)
    _table(sheet, DAYS_COLUMNS, rows, formats, widths)


def _publications_sheet(sheet: Sheet, data: ReportData) -> None:
    rows = [(p.published_at.replace(tzinfo=None), *p.cells()[1:]) for p in data.publications]
    formats = (DATETIME, None, None, None, None, *(INT,) * 4, PCT, PCT, None)
    widths = (17, 30, 12, 8, 50, 10, 10, 13, 12, 10, 10, 36)
    _table(sheet, PUBLICATIONS_COLUMNS, rows, formats, widths)


def _definitions_sheet(sheet: Sheet, data: ReportData) -> None:
    rows = [(d.section, d.name, d.value) for d in data.definitions]
    _table(sheet, DEFINITIONS_COLUMNS, rows, (None, None, None), (18, 34, 100), wrap_last=True)
