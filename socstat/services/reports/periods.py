"""Which days a report covers and when a scheduled one is due.

Days are installation days (``SOCSTAT_TIMEZONE``); a user's own zone only decides the
moment their scheduled reports are made: 10:00 local — daily for the previous day,
Monday for the previous Monday–Sunday week, the 1st for the previous calendar month.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from socstat.models import ReportKind

DUE_TIME = time(10, 0)


class ReportPeriodError(ValueError):
    """A bad period; the message is for the user (Russian)."""


@dataclass(frozen=True)
class DueReport:
    kind: str
    due_at: datetime  # UTC
    start: date
    end: date


def _previous_month(day: date) -> tuple[date, date]:
    end = day.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def period_for(kind: str, *, today: date) -> tuple[date, date]:
    """The period a report of ``kind`` made on ``today`` covers (not for custom)."""
    if kind == ReportKind.DAILY:
        day = today - timedelta(days=1)
        return day, day
    if kind == ReportKind.WEEKLY:
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if kind == ReportKind.MONTHLY:
        return _previous_month(today)
    raise ReportPeriodError(f"Неизвестный вид отчёта: {kind}.")


def _is_due_day(kind: str, day: date) -> bool:
    if kind == ReportKind.WEEKLY:
        return day.weekday() == 0
    if kind == ReportKind.MONTHLY:
        return day.day == 1
    return True


def due_reports(
    kind: str, *, zone: tzinfo, since: datetime, until: datetime
) -> Iterator[DueReport]:
    """Every scheduled moment of ``kind`` in (since, until], oldest first."""
    local_day = since.astimezone(zone).date()
    last_day = until.astimezone(zone).date()
    while local_day <= last_day:
        moment = datetime.combine(local_day, DUE_TIME, tzinfo=zone)
        if since < moment <= until and _is_due_day(kind, local_day):
            start, end = period_for(kind, today=local_day)
            yield DueReport(kind=kind, due_at=moment, start=start, end=end)
        local_day += timedelta(days=1)


def schedule_key(owner_id: int, kind: str, start: date) -> str:
    return f"{owner_id}:{kind}:{start.isoformat()}"
