"""Every value shown to a person, formatted the Russian way (Babel, locale ``ru``).

Numbers: thin-space thousands, comma decimals. Dates: dd.mm.yyyy; moments: dd.mm.yyyy
HH:MM in the viewer's zone. Unknown (None) is "—", never 0. Plain functions, no Reflex:
the UI, the CLI, exports and email bodies all use this module.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_datetime, get_timezone_location
from babel.numbers import format_decimal

from socstat.settings import get_settings

LOCALE = "ru"
UNKNOWN = "—"
THIN_SPACE = "\u202f"  # narrow no-break space: a thousands separator that never wraps
_RUSSIAN_MARKS = str.maketrans({",": THIN_SPACE, ".": ","})
_REGIONS = (
    "Europe/",
    "Asia/",
    "America/",
    "Africa/",
    "Australia/",
    "Pacific/",
    "Atlantic/",
    "Indian/",
)


def zone(tz_name: str | None) -> zoneinfo.ZoneInfo:
    """The named zone; the installation's zone when unset or unknown."""
    try:
        return zoneinfo.ZoneInfo(tz_name) if tz_name else get_settings().tz
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return get_settings().tz


def integer(value: int | None) -> str:
    """1 234 567 (thin spaces); None is "—"."""
    if value is None:
        return UNKNOWN
    if isinstance(value, int):  # Babel's ru grouping without its pattern parsing: a
        return f"{value:,}".replace(",", THIN_SPACE)  # dashboard formats ~2 000 per update
    return format_decimal(value, locale=LOCALE).replace("\xa0", THIN_SPACE)


def quantity(count: int, one: str, few: str, many: str) -> str:
    """A count with its noun in the Russian plural form: 1 пользователь, 3 пользователя,
    5 пользователей, 21 пользователь (the forms for 1, 2 and 5)."""
    form = Locale.parse(LOCALE).plural_form(count)
    word = {"one": one, "few": few}.get(form, many)
    return f"{integer(count)} {word}"


def decimal(value: float | None, digits: int = 1) -> str:
    """1 234,5 with ``digits`` decimals; None is "—"."""
    if value is None:
        return UNKNOWN
    exact = Decimal(str(value))
    if exact.is_finite():  # Babel's rounding (half to even, of the shortest repr) without
        rounded = exact.quantize(Decimal(1).scaleb(-max(digits, 0)))  # its pattern parsing:
        return f"{rounded:,f}".translate(_RUSSIAN_MARKS)  # a dashboard shows ~600 per update
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=LOCALE).replace("\xa0", THIN_SPACE)


def number(value: float | None) -> str:
    """As few decimals as needed, up to three: 24, 1,5; None is "—"."""
    if value is None:
        return UNKNOWN
    return format_decimal(value, locale=LOCALE).replace("\xa0", THIN_SPACE)


def plural(value: int, one: str, few: str, many: str) -> str:
    """The Russian noun form for ``value``: 1 пост, 2 поста, 5 постов, 11 постов, 21 пост."""
    tens, units = abs(value) % 100, abs(value) % 10
    if units == 1 and tens != 11:
        return one
    if 2 <= units <= 4 and not 12 <= tens <= 14:
        return few
    return many


def counted(value: int | None, one: str, few: str, many: str) -> str:
    """«2 436 лайков» (thin-space thousands, the noun agreed); None is "— лайков"."""
    if value is None:
        return f"{UNKNOWN} {many}"
    return f"{integer(value)} {plural(value, one, few, many)}"


def rate(value: float | None) -> str:
    """An ER (a fraction) as a percent with two decimals: 0.01234 → "1,23 %"; None is "—"."""
    if value is None:
        return UNKNOWN
    return decimal(value * 100, digits=2) + "\u00a0%"


def day(value: date | None) -> str:
    """dd.mm.yyyy; None is "—"."""
    if value is None:
        return UNKNOWN
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"  # Babel's dd.MM.yyyy


def moment(value: datetime | None, tz_name: str | None) -> str:
    """dd.mm.yyyy HH:MM in the zone ``tz_name`` (the installation's when unset)."""
    if value is None:
        return UNKNOWN
    return format_datetime(value, "dd.MM.yyyy HH:mm", tzinfo=zone(tz_name), locale=LOCALE)


def utc_offset(tz_name: str, at: datetime | None = None) -> str:
    """«UTC+3», «UTC+5:30», «UTC−1» (true minus sign), «UTC» — the offset at ``at`` (now)."""
    offset = (at or datetime.now(zoneinfo.ZoneInfo("UTC"))).astimezone(zone(tz_name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@cache
def _city(tz_name: str) -> str:
    if tz_name == "UTC":
        return "Всемирное время"
    return get_timezone_location(tz_name, locale=LOCALE, return_city=True)


def timezone_label(tz_name: str) -> str:
    """«Москва (UTC+3)» for ``Europe/Moscow``."""
    return f"{_city(tz_name)} ({utc_offset(tz_name)})"


@cache
def _all_choices() -> tuple[tuple[str, str], ...]:
    """Every city zone of the tz database and UTC as ``(name, label)``, west to east then
    by city; aliases that read the same as an earlier zone are left out."""
    now = datetime.now(zoneinfo.ZoneInfo("UTC"))
    names = ["UTC", *sorted(n for n in zoneinfo.available_timezones() if n.startswith(_REGIONS))]
    seen: set[str] = set()
    rows = []
    for name in names:
        label = timezone_label(name)
        if label in seen:
            continue
        seen.add(label)
        offset = now.astimezone(zoneinfo.ZoneInfo(name)).utcoffset()
        rows.append((offset.total_seconds() if offset else 0.0, _city(name), name, label))
    rows.sort()
    return tuple((name, label) for _, _, name, label in rows)


def timezone_choices(query: str = "") -> list[tuple[str, str]]:
    """``(name, label)`` pairs whose label or name contains ``query`` (case-insensitive:
    «москва», «+3» and «moscow» all find Moscow)."""
    needle = query.strip().casefold()
    return [
        (name, label)
        for name, label in _all_choices()
        if not needle or needle in label.casefold() or needle in name.casefold()
    ]


def is_timezone_choice(name: str) -> bool:
    """Whether ``name`` is one of :func:`timezone_choices`."""
    return any(name == choice for choice, _ in _all_choices())
