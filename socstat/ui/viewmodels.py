"""View models shared by pages: id parsing, source headers, paging labels.

Plain functions over service results (no Reflex), so pages never import each other and
tests need no browser.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from socstat import formatting
from socstat.models import SourceStatus
from socstat.services.sources import SourceRow

MAX_ID = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")

STATUS_LABELS: dict[str, str] = {
    SourceStatus.ACTIVE: "активно",
    SourceStatus.CLOSED: "стена закрыта",
    SourceStatus.PRIVATE: "частное сообщество",
    SourceStatus.DELETED: "сообщество удалено",
    SourceStatus.BANNED: "сообщество заблокировано",
    SourceStatus.WALL_DISABLED: "стена отключена",
    SourceStatus.ERROR: "ошибка",
}
STATUS_COLORS: dict[str, str] = {
    SourceStatus.ACTIVE: "green",
    SourceStatus.CLOSED: "orange",
    SourceStatus.PRIVATE: "orange",
    SourceStatus.WALL_DISABLED: "orange",
}


class InputError(ValueError):
    """Bad input from the browser; the message is for the user (Russian)."""


def parse_id(raw: Any) -> int | None:
    """A database id sent by the browser (an int or ASCII digits), or None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _ASCII_DIGITS.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        return None
    return value if 0 < value <= MAX_ID else None


def parse_source_id(raw: Any) -> int:
    """:func:`parse_id` for a source, or InputError."""
    source_id = parse_id(raw)
    if source_id is None:
        raise InputError("Неверный номер источника.")
    return source_id


def source_header(
    row: SourceRow, *, tz_name: str | None, history_start: date | None
) -> dict[str, str]:
    """What every page says about a source above its own content (strings only)."""
    return {
        "id": str(row.id),
        "name": row.name or row.screen_name or row.external_id,
        "url": row.url,
        "photo": row.photo_url,
        "members": formatting.integer(row.members_count),
        "status": row.status,
        "status_label": STATUS_LABELS.get(row.status, row.status),
        "status_color": STATUS_COLORS.get(row.status, "red"),
        "status_reason": row.status_reason
        or (row.last_error if row.status == SourceStatus.ERROR else ""),
        "stale": "1" if row.stale else "",
        "stale_reason": (row.last_error or "Последний сбор не удался.") if row.stale else "",
        "history_start": formatting.day(history_start),
        "last_collected": formatting.moment(row.last_collected_at, tz_name),
    }


def page_label(offset: int, total: int, size: int, empty: str) -> str:
    """The label "1–25 из 70" of the page at ``offset``; ``empty`` when there is nothing."""
    if not total:
        return empty
    return f"{offset + 1}–{min(offset + size, total)} из {total}"
