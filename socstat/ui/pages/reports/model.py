"""What the report centre reads from the browser (checked, typed) and the rows it shows:
history entries and the preview of a report's key numbers."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from socstat.models import ReportKind, ReportStatus, User
from socstat.services.reports import generation
from socstat.services.reports.builder import ReportRequest, build_request_data
from socstat.services.reports.generation import ReportError, ReportInfo
from socstat.services.reports.html import fmt_change, fmt_number
from socstat.settings import get_settings

STATUS_LABELS = {
    ReportStatus.PENDING: "в очереди",
    ReportStatus.RUNNING: "формируется",
    ReportStatus.DONE: "готов",
    ReportStatus.FAILED: "ошибка",
}
STATUS_COLORS = {
    ReportStatus.PENDING: "gray",
    ReportStatus.RUNNING: "blue",
    ReportStatus.DONE: "green",
    ReportStatus.FAILED: "red",
}
FORMAT_LABELS = {"xlsx": "Excel", "csv": "CSV", "pdf": "PDF"}
MAX_IDS = 500


class InputError(ValueError):
    """Bad input from the browser; the message is for the user."""


def parse_id(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InputError("Неверный номер отчёта.")
    try:
        value = int(raw)
    except ValueError:
        raise InputError("Неверный номер отчёта.") from None
    if not 0 < value < 2**31:
        raise InputError("Неверный номер отчёта.")
    return value


def parse_day(raw: Any, label: str) -> date | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise InputError(f"Неверная дата: {label}.")
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InputError(f"Неверная дата: {label}.") from None


def parse_kind(raw: Any) -> str:
    if isinstance(raw, str) and raw in ReportKind.ALL:
        return raw
    raise InputError("Неизвестный вид отчёта.")


def parse_formats(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
        raise InputError("Неверный список форматов.")
    try:
        return generation.validate_formats(raw)
    except ReportError as exc:
        raise InputError(str(exc)) from None


def parse_ids(raw: Any) -> list[int]:
    if not isinstance(raw, list) or len(raw) > MAX_IDS:
        raise InputError("Неверный список источников.")
    return [parse_id(item) for item in raw]


def parse_tags(raw: Any) -> list[str]:
    if not isinstance(raw, list) or len(raw) > MAX_IDS:
        raise InputError("Неверный список тегов.")
    if not all(isinstance(t, str) and len(t) <= 100 for t in raw):
        raise InputError("Неверный список тегов.")
    return list(raw)


def _size(value: int | None) -> str:
    if value is None:
        return "—"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} КБ"
    return f"{value / 1024 / 1024:.1f} МБ"


def format_moment(moment: datetime | None, tz_name: str | None) -> str:
    """dd.mm.yyyy HH:MM in the user's zone (the installation's when unset or unknown)."""
    if moment is None:
        return "—"
    try:
        zone = zoneinfo.ZoneInfo(tz_name) if tz_name else get_settings().tz
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = get_settings().tz
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def history_row(info: ReportInfo, tz_name: str | None) -> dict[str, Any]:
    scope = info.scope
    parts = []
    if scope.get("team_id") is not None:
        parts.append("команда")
    if scope.get("source_ids"):
        parts.append(f"источников: {len(scope['source_ids'])}")
    if scope.get("tags"):
        parts.append("теги: " + ", ".join(scope["tags"]))
    period = (
        f"{info.period_start:%d.%m.%Y}"
        if info.period_start == info.period_end
        else f"{info.period_start:%d.%m.%Y} — {info.period_end:%d.%m.%Y}"
    )
    return {
        "id": str(info.id),
        "kind": info.kind_label,
        "period": period,
        "scope": ", ".join(parts) or "все источники",
        "author": info.author_email,
        "owner": info.owner_email,
        "status": info.status,
        "status_label": STATUS_LABELS.get(info.status, info.status),
        "status_color": STATUS_COLORS.get(info.status, "gray"),
        "error": info.error,
        "progress": info.progress,
        "size": _size(info.size_bytes),
        "time": format_moment(info.generated_at or info.created_at, tz_name),
        "files": [{"format": f.format, "label": FORMAT_LABELS[f.format]} for f in info.files],
    }


def preview_rows(session: Session, user: User, request: ReportRequest) -> list[dict[str, str]]:
    data = build_request_data(session, actor=user, request=request)
    rows = []
    for row in data.summary:
        change, color = fmt_change(row)
        rows.append(
            {
                "label": row.label,
                "value": fmt_number(row.value, ratio=row.is_ratio),
                "change": change,
                "color": color,
            }
        )
    return rows
