"""socstat.formatting: Russian numbers, dates, moments and time zone labels (Babel)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal

from socstat import formatting


def test_numbers_use_thin_spaces_and_decimal_commas() -> None:
    assert formatting.integer(1234567) == "1\u202f234\u202f567"
    assert formatting.integer(0) == "0"
    assert formatting.decimal(1234.56, 1) == "1\u202f234,6"
    assert formatting.decimal(0.5, 2) == "0,50"
    assert (formatting.number(24.0), formatting.number(1.5)) == ("24", "1,5")


def test_integers_group_as_babel_does_for_ru() -> None:
    values = [*range(-20_000, 20_000, 7), 999_999, 1_000_000, -1_234_567_890, 10**12]
    for value in values:
        babel = format_decimal(value, locale="ru").replace("\xa0", "\u202f")
        assert formatting.integer(value) == babel, value


def test_decimals_round_and_group_as_babel_does_for_ru() -> None:
    chance = random.Random(12)
    values = [0, 0.0, -0.0, -0.001, 0.005, 0.015, 0.125, 2.675, 1.005, 999.995, 1234.5, -1234.55]
    values += [1e-9, 12.3456e6, 7, -7, 10**15 + 0.5, 0.1 + 0.2]
    values += [chance.uniform(-1e7, 1e7) for _ in range(2000)]
    values += [round(chance.uniform(0, 100), chance.randint(1, 4)) for _ in range(2000)]
    for value in values:
        for digits in (0, 1, 2, 3):
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
            babel = format_decimal(value, format=pattern, locale="ru").replace("\xa0", "\u202f")
            assert formatting.decimal(value, digits) == babel, (value, digits)
    assert formatting.rate(0.012345) == "1,23\u00a0%"


def test_days_read_as_babel_writes_them() -> None:
    for value in [date(1, 1, 1), date(999, 12, 31), date(2026, 3, 5), date(9999, 12, 31)]:
        assert formatting.day(value) == format_date(value, "dd.MM.yyyy", locale="ru")


@pytest.mark.parametrize(
    "fn", [formatting.integer, formatting.decimal, formatting.number, formatting.day]
)
def test_unknown_is_a_dash_never_zero(fn) -> None:
    assert fn(None) == "—"


def test_dates_and_moments() -> None:
    assert formatting.day(date(2026, 3, 5)) == "05.03.2026"
    moment = datetime(2026, 3, 5, 21, 30, tzinfo=UTC)
    assert formatting.moment(moment, "Europe/Moscow") == "06.03.2026 00:30"
    assert formatting.moment(moment, "Asia/Vladivostok") == "06.03.2026 07:30"
    assert formatting.moment(None, "Europe/Moscow") == "—"
    # an unknown zone falls back to the installation's (SOCSTAT_TIMEZONE)
    assert formatting.moment(moment, "Mars/Base") == formatting.moment(moment, None)


def test_time_zone_labels() -> None:
    assert formatting.timezone_label("Europe/Moscow") == "Москва (UTC+3)"
    assert formatting.timezone_label("Asia/Kolkata") == "Калькутта (UTC+5:30)"
    assert formatting.utc_offset("America/St_Johns", datetime(2026, 1, 1, tzinfo=UTC)) == (
        "UTC\u22123:30"
    )
    assert formatting.timezone_label("UTC") == "Всемирное время (UTC)"


def test_time_zone_choices_are_searchable_and_unique() -> None:
    everything = formatting.timezone_choices()
    labels = [label for _, label in everything]
    assert len(labels) == len(set(labels)) > 300
    assert ("Europe/Moscow", "Москва (UTC+3)") in everything
    for query in ("моск", "MOSCOW", "Москва"):
        assert ("Europe/Moscow", "Москва (UTC+3)") in formatting.timezone_choices(query)
    assert all("UTC+3)" in label for _, label in formatting.timezone_choices("UTC+3)"))
    assert formatting.timezone_choices("нет такого города") == []
    assert formatting.is_timezone_choice("Asia/Yekaterinburg")
    assert not formatting.is_timezone_choice("Mars/Base")


def test_quantity_uses_russian_plural_forms() -> None:
    forms = ("пользователь", "пользователя", "пользователей")
    cases = {
        0: "0 пользователей",
        1: "1 пользователь",
        3: "3 пользователя",
        5: "5 пользователей",
        11: "11 пользователей",
        14: "14 пользователей",
        21: "21 пользователь",
        22: "22 пользователя",
        111: "111 пользователей",
        1001: "1\u202f001 пользователь",
    }
    for count, expected in cases.items():
        assert formatting.quantity(count, *forms) == expected
