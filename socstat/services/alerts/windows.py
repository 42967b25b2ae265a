"""Alert windows: a day, a Monday-to-Sunday week or a calendar month of installation days."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WINDOWS = {"day": "за сутки", "week": "за неделю", "month": "за месяц"}


@dataclass(frozen=True)
class Window:
    kind: str
    start: date
    end: date

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.start.isoformat()}"

    def previous(self) -> Window:
        return window_containing(self.kind, self.start - timedelta(days=1))

    def next(self) -> Window:
        return window_containing(self.kind, self.end + timedelta(days=1))

    def closes_at(self, tz: ZoneInfo) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=tz)

    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%d.%m.%Y")
        return f"{self.start.strftime('%d.%m.%Y')}–{self.end.strftime('%d.%m.%Y')}"


def window_containing(kind: str, day: date) -> Window:
    if kind == "day":
        return Window(kind, day, day)
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Window(kind, start, start + timedelta(days=6))
    if kind == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return Window(kind, day.replace(day=1), day.replace(day=last))
    raise ValueError(f"unknown window {kind!r}")


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def closed_windows_between(kind: str, first_day: date, today: date) -> list[Window]:
    """Every closed window (ending before ``today``) that ends on or after ``first_day``."""
    out: list[Window] = []
    window = window_containing(kind, first_day)
    while window.end < today:
        out.append(window)
        window = window.next()
    return out
