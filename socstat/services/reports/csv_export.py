"""The report as CSV: UTF-8 with BOM, «;» separators, one file per table (same columns as the
workbook's sheets), zipped when there is more than one."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from socstat.services.reports.data import (
    DAYS_COLUMNS,
    DEFINITIONS_COLUMNS,
    PUBLICATIONS_COLUMNS,
    ROLLUP_COLUMNS,
    SHEET_DAYS,
    SHEET_DEFINITIONS,
    SHEET_PUBLICATIONS,
    SHEET_SOURCES,
    SHEET_SUMMARY,
    SOURCES_COLUMNS,
    SUMMARY_COLUMNS,
    ReportData,
)

# file names inside the zip: a stable interface (docs/reports.md)
ROLLUP_FILE = "po_analitikam.csv"  # team reports only
CSV_FILES = {
    SHEET_SUMMARY: "svodka.csv",
    SHEET_SOURCES: "istochniki.csv",
    SHEET_DAYS: "po_dnyam.csv",
    SHEET_PUBLICATIONS: "publikatsii.csv",
    SHEET_DEFINITIONS: "opredeleniya.csv",
}


def _cell(value: Any) -> str:
    """Numbers as plain numbers (decimal comma for fractions, as Excel in ru-RU reads them),
    dates as dd.mm.yyyy, unknown as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%d.%m.%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    if isinstance(value, float):
        return repr(round(value, 6)).replace(".", ",")
    return str(value)


def table_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_tables(data: ReportData) -> dict[str, bytes]:
    """File name → CSV bytes, one per workbook sheet."""
    summary = ((r.label, r.value, r.previous, r.change) for r in data.summary)
    sources = (s.values() for s in data.sources)
    days = (d.cells() for d in data.days)
    publications = (p.cells() for p in data.publications)
    definitions = ((d.section, d.name, d.value) for d in data.definitions)
    tables = {
        CSV_FILES[SHEET_SUMMARY]: table_csv(SUMMARY_COLUMNS, summary),
        CSV_FILES[SHEET_SOURCES]: table_csv(SOURCES_COLUMNS, sources),
        CSV_FILES[SHEET_DAYS]: table_csv(DAYS_COLUMNS, days),
        CSV_FILES[SHEET_PUBLICATIONS]: table_csv(PUBLICATIONS_COLUMNS, publications),
        CSV_FILES[SHEET_DEFINITIONS]: table_csv(DEFINITIONS_COLUMNS, definitions),
    }
    if data.rollup:
        tables[ROLLUP_FILE] = table_csv(ROLLUP_COLUMNS, (r.values() for r in data.rollup))
    return tables


def write_csv_zip(data: ReportData) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in csv_tables(data).items():
            archive.writestr(name, content)
    return out.getvalue()
