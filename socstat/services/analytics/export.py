"""The per-source table as the dashboard shows it — sorted, the same columns — and as CSV."""

from __future__ import annotations

import csv
import io

from socstat.services.analytics.dashboard import SourceLine
from socstat.services.analytics.filters import TABLE_SORTS, table_value

COLUMNS = tuple(TABLE_SORTS)


def sorted_lines(lines: tuple[SourceLine, ...], sort: str, descending: bool) -> list[SourceLine]:
    """The table's order: by ``sort``, unknown values last either way, then by name."""
    if sort == "name":
        return sorted(lines, key=lambda line: line.source.name.casefold(), reverse=descending)

    def known(line: SourceLine) -> bool:
        return table_value(sort, line.current) is not None

    present = sorted(
        (line for line in lines if known(line)),
        key=lambda line: (table_value(sort, line.current), line.source.name.casefold()),
        reverse=descending,
    )
    return present + [line for line in lines if not known(line)]


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
