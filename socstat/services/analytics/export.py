"""The per-source table as the dashboard shows it — sorted, the same columns — and as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import TypeVar

from socstat.services.analytics.dashboard import SourceLine
from socstat.services.analytics.filters import TABLE_SORTS, table_value

COLUMNS = tuple(TABLE_SORTS)
T = TypeVar("T")


def table_order(
    rows: Sequence[T],
    sort: str,
    descending: bool,
    *,
    value: Callable[[T, str], int | float | None],
    name: Callable[[T], str],
) -> list[T]:
    """The table's order of any row shape: by ``sort`` (a TABLE_SORTS column read with
    ``value``), unknown values last either way in their given order, then by name."""
    if sort == "name":
        return sorted(rows, key=lambda row: name(row).casefold(), reverse=descending)
    present = sorted(
        (row for row in rows if value(row, sort) is not None),
        key=lambda row: (value(row, sort), name(row).casefold()),
        reverse=descending,
    )
    return present + [row for row in rows if value(row, sort) is None]


def sorted_lines(lines: tuple[SourceLine, ...], sort: str, descending: bool) -> list[SourceLine]:
    """The table's order of the dashboard's lines (see ``table_order``)."""
    return table_order(
        lines,
        sort,
        descending,
        value=lambda line, column: table_value(column, line.current),
        name=lambda line: line.source.name,
    )


def source_table_csv(lines: list[SourceLine]) -> str:
    """CSV (comma, UTF-8 with BOM for Excel) of the table: one row per source; an empty
    cell is an unknown value."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", *(TABLE_SORTS[c] for c in COLUMNS), "Ссылка"])
    for line in lines:
        cells = [_cell(c, table_value(c, line.current)) for c in COLUMNS[1:]]
        writer.writerow([line.source.id, line.source.name, *cells, line.source.url])
    return out.getvalue()


def _cell(column: str, value: int | float | None) -> str:
    if value is None:
        return ""
    if column in ("er_post", "er_view"):  # shown in percent, as on the page
        return f"{value * 100:.4f}"
    return str(value)
