"""Periods: presets against a given today, previous period, bucket boundaries, messages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from socstat.services.analytics import (
    AnalyticsError,
    Granularity,
    Period,
    PeriodKind,
    installation_today,
    parse_period,
    preset_period,
)
from socstat.services.analytics.periods import bucket_start

TODAY = date(2026, 11, 18)  # a Wednesday of Q4


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("today", date(2026, 11, 18), date(2026, 11, 18)),
        ("yesterday", date(2026, 11, 17), date(2026, 11, 17)),
        ("7d", date(2026, 11, 12), date(2026, 11, 18)),
        ("30d", date(2026, 10, 20), date(2026, 11, 18)),
        ("this_week", date(2026, 11, 16), date(2026, 11, 18)),
        ("this_month", date(2026, 11, 1), date(2026, 11, 18)),
        ("last_month", date(2026, 10, 1), date(2026, 10, 31)),
        ("this_quarter", date(2026, 10, 1), date(2026, 11, 18)),
    ],
)
def test_presets_resolve_against_today(name: str, start: date, end: date) -> None:
    period = preset_period(name, TODAY)
    assert (period.start, period.end) == (start, end)


def test_last_month_across_a_year_and_unknown_preset() -> None:
    january = preset_period("last_month", date(2026, 1, 10))
    assert (january.start, january.end, january.kind) == (
        date(2025, 12, 1),
        date(2025, 12, 31),
        PeriodKind.MONTH,
    )
    with pytest.raises(AnalyticsError, match="Неизвестный период"):
        preset_period("90d", TODAY)


def test_previous_is_the_same_length_immediately_before() -> None:
    week = Period.custom(date(2026, 11, 12), date(2026, 11, 18))
    assert week.previous() == Period.custom(date(2026, 11, 5), date(2026, 11, 11))
    march = Period.month(date(2026, 3, 15))  # 31 days
    before = march.previous()
    assert (before.start, before.end, before.days) == (date(2026, 1, 29), date(2026, 2, 28), 31)
    assert Period.day(date(2026, 3, 1)).previous() == Period.day(date(2026, 2, 28))
    whole = Period.week(date(2026, 3, 4))
    assert whole.previous() == Period.week(date(2026, 2, 25))


def test_week_month_quarter_boundaries() -> None:
    week = Period.week(date(2026, 3, 1))  # a Sunday: the week began on Monday 23.02
    assert (week.start, week.end) == (date(2026, 2, 23), date(2026, 3, 1))
    february = Period.month(date(2028, 2, 10))  # a leap year
    assert (february.start, february.end) == (date(2028, 2, 1), date(2028, 2, 29))
    q4 = Period.quarter(date(2026, 12, 31))
    assert (q4.start, q4.end) == (date(2026, 10, 1), date(2026, 12, 31))
    q1 = Period.quarter(date(2026, 1, 1))
    assert (q1.start, q1.end, q1.days) == (date(2026, 1, 1), date(2026, 3, 31), 90)
    assert bucket_start(date(2026, 4, 1), Granularity.WEEK) == date(2026, 3, 30)
    assert bucket_start(date(2026, 6, 30), Granularity.QUARTER) == date(2026, 4, 1)
    assert bucket_start(date(2026, 6, 30), Granularity.MONTH) == date(2026, 6, 1)


def test_validation_messages() -> None:
    with pytest.raises(AnalyticsError, match="позже"):
        Period.custom(date(2026, 3, 3), date(2026, 3, 1))
    with pytest.raises(AnalyticsError, match="длиннее года"):
        Period.custom(date(2025, 1, 1), date(2026, 1, 2))
    assert Period.custom(date(2025, 1, 1), date(2025, 12, 31)).days == 365
    with pytest.raises(AnalyticsError, match="ГГГГ-ММ-ДД"):
        parse_period("01.03.2026", "2026-03-05")
    with pytest.raises(AnalyticsError, match="Неверная дата: конец периода"):
        parse_period("2026-03-01", "2026-02-30")
    assert parse_period(" 2026-03-01", "2026-03-05").days == 5


def test_installation_today_is_the_moscow_day() -> None:
    # 22:30 UTC on the 10th is 01:30 on the 11th in Moscow (the installation's zone)
    assert installation_today(datetime(2026, 3, 10, 22, 30, tzinfo=UTC)) == date(2026, 3, 11)
