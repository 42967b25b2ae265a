"""Formatting of values for display (plain functions, no Reflex)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from socstat.settings import get_settings


def user_tz(tz_name: str | None) -> zoneinfo.ZoneInfo:
    """The user's zone, the system's when unset or unknown."""
    try:
        return zoneinfo.ZoneInfo(tz_name) if tz_name else get_settings().tz
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return get_settings().tz


def format_moment(moment: datetime | None, tz_name: str | None) -> str:
    """dd.mm.yyyy HH:MM in the user's zone; "—" for None."""
    if moment is None:
        return "—"
    return moment.astimezone(user_tz(tz_name)).strftime("%d.%m.%Y %H:%M")


# --- analytics figures (dashboard, source page): Russian numbers through Babel -------------


def format_count(value: int | None) -> str:
    """A whole number with Russian digit grouping; None (unknown) is "—", never 0."""
    if value is None:
        return "—"
    from babel.numbers import format_decimal

    return format_decimal(value, locale="ru_RU")


def format_rate(value: float | None) -> str:
    """An ER (a fraction) as a Russian percent with two decimals: 0.01234 → "1,23 %"."""
    if value is None:
        return "—"
    from babel.numbers import format_decimal

    return format_decimal(value * 100, format="0.00", locale="ru_RU") + "\u00a0%"
