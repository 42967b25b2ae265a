"""One HTML rendering of a report (Jinja2) for the PDF (WeasyPrint) and the email body."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, select_autoescape

from socstat.services.reports.charts import chart_svg
from socstat.services.reports.data import (
    ROLLUP_COLUMNS,
    Number,
    ReportData,
    SourceRow,
    SummaryRow,
)

CHART_CID = "report-chart"
PDF_SOURCES = 40
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
    """Russian formatting; «—» for an unknown figure."""
    if value is None:
        return "—"
    if ratio:
        return format_percent(value, "#,##0.00%", locale="ru")
    return format_decimal(value, locale="ru")


def fmt_change(row: SummaryRow) -> tuple[str, str]:
    """The change against the previous period and its colour."""
    change = row.change
    if change is None:
        return "—", "#666"
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    color = _UP if change > 0 else _DOWN if change < 0 else "#666"
    return f"{arrow} {format_percent(abs(change), '#,##0.0%', locale='ru')}", color


def _reactions(row: SourceRow) -> int:
    return sum(v for v in (row.likes, row.reposts, row.comments) if v is not None)


def _shown_sources(data: ReportData, *, limit: int | None) -> list[SourceRow]:
    """Every source, or (PDF) the ``limit`` with the most reactions: a long table costs the
    PDF renderer seconds per page and nobody reads 200 rows on paper — all are in xlsx/csv."""
    if limit is None or len(data.sources) <= limit:
        return data.sources
    return sorted(data.sources, key=_reactions, reverse=True)[:limit]


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
    sources = [
        (
            s.name,
            *(fmt_number(v) for v in (s.posts, s.videos, s.clips, s.likes, s.reposts)),
            *(fmt_number(v) for v in (s.comments, s.views)),
            fmt_number(s.er_post, ratio=True),
            fmt_number(s.er_view, ratio=True),
            fmt_number(s.members),
            fmt_number(s.members_delta),
        )
        for s in _shown_sources(data, limit=PDF_SOURCES if pdf else None)
    ]
    template = "report.html.j2" if pdf else "report_body.html.j2"
    return (
        _env()
        .get_template(template)
        .render(
            data=data,
            pdf=pdf,
            link=link,
            summary=summary,
            sources=sources,
            source_columns=_SOURCE_COLUMNS,
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
            all_sources=len(data.sources),
            chart_cid=CHART_CID,
            generated=f"{data.generated_at:%d.%m.%Y %H:%M} ({data.timezone})",
        )
    )


def write_pdf(data: ReportData) -> bytes:
    from weasyprint import HTML  # heavy import: only where a PDF is made

    return HTML(string=render_html(data, pdf=True)).write_pdf()
