"""Periods: a run of whole installation days, validated once, with the one set of messages.

Days are the installation's days (``SOCSTAT_TIMEZONE``, the zone DailyStat is kept in) for
every user; a user's own zone changes how moments are shown, not where a day starts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from socstat.models import utcnow
from socstat.settings import get_settings

MAX_DAYS = 366
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class AnalyticsError(ValueError):
    """A bad analytics request; ``str(exc)`` is a Russian message for the user."""


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    CUSTOM = "custom"


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


PRESETS: dict[str, str] = {
    "today": "Сегодня",
    "yesterday": "Вчера",
    "7d": "7 дней",
    "30d": "30 дней",
    "this_week": "Эта неделя",
    "this_month": "Этот месяц",
    "last_month": "Прошлый месяц",
    "this_quarter": "Этот квартал",
}


@dataclass(frozen=True)
class Period:
    """Installation days ``start``..``end`` inclusive. Build with the constructors below."""

    start: date
    end: date
    kind: PeriodKind = PeriodKind.CUSTOM

    def __post_init__(self) -> None:
        if not isinstance(self.start, date) or not isinstance(self.end, date):
            raise AnalyticsError("Укажите начало и конец периода.")
        if self.start > self.end:
            raise AnalyticsError("Начало периода позже его конца.")
        if self.days > MAX_DAYS:
            raise AnalyticsError("Период не может быть длиннее года.")

    @functools.cached_property
    def days(self) -> int:  # read per source and period by the analytics' loops
        return (self.end - self.start).days + 1

    def dates(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.start + timedelta(days=offset)

    def previous(self) -> Period:
        """The period of the same length immediately before."""
        length = timedelta(days=self.days)
        whole_week = self.kind == PeriodKind.WEEK and self.days == 7
        kind = self.kind if self.kind == PeriodKind.DAY or whole_week else PeriodKind.CUSTOM
        return Period(self.start - length, self.start - timedelta(days=1), kind)

    @classmethod
    def day(cls, day: date) -> Period:
        return cls(day, day, PeriodKind.DAY)

    @classmethod
    def week(cls, day: date) -> Period:
        """The Monday-to-Sunday week holding ``day``."""
        start = week_start(day)
        return cls(start, start + timedelta(days=6), PeriodKind.WEEK)

    @classmethod
    def month(cls, day: date) -> Period:
        start = day.replace(day=1)
        return cls(start, _next_month(start) - timedelta(days=1), PeriodKind.MONTH)

    @classmethod
    def quarter(cls, day: date) -> Period:
        start = quarter_start(day)
        end = _next_month(_next_month(_next_month(start))) - timedelta(days=1)
        return cls(start, end, PeriodKind.QUARTER)

    @classmethod
    def custom(cls, start: date, end: date) -> Period:
        return cls(start, end, PeriodKind.CUSTOM)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def bucket_start(day: date, granularity: Granularity) -> date:
    """The first day of the week / month / quarter holding ``day`` (the day itself for DAY)."""
    if granularity == Granularity.WEEK:
        return week_start(day)
    if granularity == Granularity.MONTH:
        return day.replace(day=1)
    if granularity == Granularity.QUARTER:
        return quarter_start(day)
    return day


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def installation_today(now: datetime | None = None) -> date:
    """Today in the installation's zone."""
    return (now or utcnow()).astimezone(get_settings().tz).date()


def preset_period(name: Any, today: date) -> Period:
    """One of PRESETS resolved against ``today`` (an installation day)."""
    if name == "today":
        return Period.day(today)
    if name == "yesterday":
        return Period.day(today - timedelta(days=1))
    if name == "7d":
        return Period.custom(today - timedelta(days=6), today)
    if name == "30d":
        return Period.custom(today - timedelta(days=29), today)
    if name == "this_week":
        return Period(week_start(today), today, PeriodKind.WEEK)
    if name == "this_month":
        return Period(today.replace(day=1), today, PeriodKind.MONTH)
    if name == "last_month":
        return Period.month(today.replace(day=1) - timedelta(days=1))
    if name == "this_quarter":
        return Period(quarter_start(today), today, PeriodKind.QUARTER)
    raise AnalyticsError("Неизвестный период.")


def parse_day(raw: Any, label: str) -> date:
    """An ISO day (ГГГГ-ММ-ДД) from user input; ``label`` names it in the message."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not _ISO_DAY.fullmatch(text):
        raise AnalyticsError(f"Укажите {label} в формате ГГГГ-ММ-ДД.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AnalyticsError(f"Неверная дата: {label}.") from None


def parse_period(raw_from: Any, raw_to: Any, *, today: date | None = None) -> Period:
    """A custom period from user input (strings), validated; with ``today``, a period that
    has not begun yet is refused too."""
    period = Period.custom(
        parse_day(raw_from, "начало периода"), parse_day(raw_to, "конец периода")
    )
    if today is not None and period.start > today:
        raise AnalyticsError("Период ещё не начался.")
    return period
