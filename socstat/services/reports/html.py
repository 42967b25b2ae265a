"""One HTML rendering of a report (Jinja2) for the PDF (WeasyPrint) and the email body."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from socstat import formatting
from socstat.services.reports.charts import chart_svg
from socstat.services.reports.data import (
    ROLLUP_COLUMNS,
    Number,
    ReportData,
    SourceRow,
    SummaryRow,
)

CHART_CID = "report-chart"
EMAIL_SOURCES = 10  # the email body lists the sources only up to this many
_GAP = 2
_UP, _DOWN = "#1a7f37", "#b42318"
_TEMPLATES = Path(__file__).parent / "templates"
_SOURCE_COLUMNS = (
    "Источник",
    "Посты",
    "Видео",
    "Клипы",
    "Лайки",
    "Репосты",
    "Комм.",
    "Просмотры",
    "ERpost",
    "ERview",
    "Подписчики",
    "Δ подп.",
)


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["j2", "html"])
    )


def fmt_number(value: Number, *, ratio: bool = False) -> str:
    """Russian formatting (``socstat.formatting``); «—» for an unknown figure."""
    return formatting.rate(value) if ratio else formatting.number(value)


def fmt_change(row: SummaryRow) -> tuple[str, str]:
    """The change against the previous period and its colour."""
    change = row.change
    if change is None:
        return formatting.UNKNOWN, "#666"
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    color = _UP if change > 0 else _DOWN if change < 0 else "#666"
    return f"{arrow} {formatting.decimal(abs(change) * 100)}\u00a0%", color


def _source_cells(s: SourceRow) -> tuple[str, ...]:
    return (
        s.name,
        *(fmt_number(v) for v in (s.posts, s.videos, s.clips, s.likes, s.reposts)),
        *(fmt_number(v) for v in (s.comments, s.views)),
        fmt_number(s.er_post, ratio=True),
        fmt_number(s.er_view, ratio=True),
        fmt_number(s.members),
        fmt_number(s.members_delta),
    )


def _widths(rows: list[tuple[str, ...]]) -> list[int]:
    """The PDF sets a source's figures as one line of right-aligned columns in a monospaced
    font (the name beside it): WeasyPrint lays out every table cell on its own, about
    0.6 ms each, so 200 sources × 12 cells took 1.5 s of the daily report's 3 s — two cells
    a row take a quarter of that. A column is as wide as its longest value or header, plus
    a gap."""
    return [
        max([len(name), *(len(row[i + 1]) for row in rows)]) + _GAP
        for i, name in enumerate(_SOURCE_COLUMNS[1:])
    ]


def _line(values: Sequence[str], widths: list[int]) -> str:
    return "".join(value.rjust(width) for value, width in zip(values, widths, strict=True))


def render_html(data: ReportData, *, pdf: bool, link: str = "") -> str:
    """The whole A4 page for the PDF, or the email's body block (inline styles, the chart
    as ``cid:`` image, a link to the report)."""
    summary = []
    for row in data.summary:
        change, color = fmt_change(row)
        summary.append(
            {
                "label": row.label,
                "value": fmt_number(row.value, ratio=row.is_ratio),
                "change": change,
                "color": color,
                "css": "up" if color == _UP else "down" if color == _DOWN else "",
            }
        )
    shown = data.sources if pdf or len(data.sources) <= EMAIL_SOURCES else []
    sources = [_source_cells(s) for s in shown]
    widths = _widths(sources)
    template = "report.html.j2" if pdf else "report_body.html.j2"
    return (
        _env()
        .get_template(template)
        .render(
            data=data,
            pdf=pdf,
            link=link,
            summary=summary,
            sources=[(row[0], _line(row[1:], widths)) for row in sources] if pdf else sources,
            source_count=len(data.sources),
            source_columns=_SOURCE_COLUMNS,
            figures_header=_line(_SOURCE_COLUMNS[1:], widths) if pdf else "",
            chart_svg=chart_svg(data.chart) if pdf else "",
            rollup=[
                (
                    r.name,
                    fmt_number(r.sources),
                    *(fmt_number(v) for v in (r.publications, r.likes, r.reposts, r.comments)),
                    fmt_number(r.views),
                    fmt_number(r.er_post, ratio=True),
                    fmt_number(r.er_view, ratio=True),
                    fmt_number(r.members_delta),
                    fmt_number(r.previous_publications),
                )
                for r in data.rollup
            ],
            rollup_columns=ROLLUP_COLUMNS,
            chart_cid=CHART_CID,
            generated=f"{data.generated_at:%d.%m.%Y %H:%M} ({data.timezone})",
        )
    )


def write_pdf(data: ReportData) -> bytes:
    from weasyprint import HTML  # heavy import: only where a PDF is made

    return HTML(string=render_html(data, pdf=True)).write_pdf()
