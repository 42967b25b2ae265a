"""Dashboard filters as they live in the URL (``?period=30d``, ``?from=…&to=…&types=post,clip
&sources=12,15&tags=конкуренты&user=…&team=…&sort=likes&desc=1``): parsed once for the
page and for the CSV download, every bad value reported and replaced by its default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from socstat.models import ContentKind
from socstat.services.analytics.periods import (
    PRESETS,
    AnalyticsError,
    Period,
    parse_period,
    preset_period,
)
from socstat.services.analytics.scope import Scope
from socstat.services.analytics.totals import Totals

DEFAULT_PRESET = "30d"
CUSTOM = "custom"
MAX_IDS = 200
# a source's figures by name, as the table's columns and the alert rules name them
METRIC_LABELS: dict[str, str] = {
    "posts": "Посты",
    "videos": "Видео",
    "clips": "Клипы",
    "likes": "Лайки",
    "reposts": "Репосты",
    "comments": "Комментарии",
    "views": "Просмотры",
    "er_post": "ERpost, %",
    "er_view": "ERview, %",
    "members": "Подписчики",
}
TABLE_SORTS: dict[str, str] = {"name": "Источник", **METRIC_LABELS, "members_delta": "Прирост"}


@dataclass(frozen=True)
class DashboardFilters:
    preset: str  # one of PRESETS or CUSTOM
    period: Period
    kinds: tuple[str, ...] = ContentKind.ALL
    source_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    user_id: int | None = None
    team_id: int | None = None
    sort: str = "name"
    descending: bool = False

    def scope(self) -> Scope:
        return Scope(
            user_id=self.user_id,
            team_id=self.team_id,
            source_ids=self.source_ids or None,
            tags=self.tags,
            kinds=self.kinds,
        )

    def without_sources(self) -> DashboardFilters:
        return replace(self, source_ids=())

    def query(self) -> str:
        """The canonical query string (defaults left out) — what the URL shows."""
        params: dict[str, str] = {}
        if self.preset == CUSTOM:
            params["from"], params["to"] = (
                self.period.start.isoformat(),
                self.period.end.isoformat(),
            )
        elif self.preset != DEFAULT_PRESET:
            params["period"] = self.preset
        if self.kinds != ContentKind.ALL:
            params["types"] = ",".join(self.kinds)
        if self.source_ids:
            params["sources"] = ",".join(map(str, self.source_ids))
        if self.tags:
            params["tags"] = ",".join(self.tags)
        if self.user_id is not None:
            params["user"] = str(self.user_id)
        if self.team_id is not None:
            params["team"] = str(self.team_id)
        if self.sort != "name":
            params["sort"] = self.sort
        if self.descending:
            params["desc"] = "1"
        return urlencode(params, safe=",")


def parse_filters(params: Mapping[str, str], *, today: date) -> tuple[DashboardFilters, list[str]]:
    """The filters of a URL's query and the messages about values that were replaced."""
    errors: list[str] = []
    preset, period = _period(params, today, errors)
    sort = params.get("sort", "name")
    if sort not in TABLE_SORTS:
        errors.append(f"Неизвестная сортировка «{sort}» — таблица по названию.")
        sort = "name"
    return (
        DashboardFilters(
            preset=preset,
            period=period,
            kinds=_kinds(params.get("types", ""), errors),
            source_ids=_ids(params.get("sources", ""), "источники", errors),
            tags=tuple(t.strip() for t in params.get("tags", "").split(",") if t.strip())[:20],
            user_id=_one_id(params.get("user", ""), "пользователь", errors),
            team_id=_one_id(params.get("team", ""), "команда", errors),
            sort=sort,
            descending=params.get("desc", "") == "1",
        ),
        errors,
    )


def _period(params: Mapping[str, str], today: date, errors: list[str]) -> tuple[str, Period]:
    fallback = f"показаны {PRESETS[DEFAULT_PRESET]}"
    if params.get("from") or params.get("to"):
        try:
            return CUSTOM, parse_period(params.get("from"), params.get("to"), today=today)
        except AnalyticsError as exc:
            errors.append(f"{exc} Период не применён — {fallback}.")
    elif "period" in params and params["period"] != DEFAULT_PRESET:
        name = params["period"]
        try:
            return name, preset_period(name, today)
        except AnalyticsError:
            errors.append(f"Неизвестный период «{name}» — {fallback}.")
    return DEFAULT_PRESET, preset_period(DEFAULT_PRESET, today)


def _kinds(raw: str, errors: list[str]) -> tuple[str, ...]:
    wanted = [k.strip() for k in raw.split(",") if k.strip()]
    if not wanted:
        return ContentKind.ALL
    unknown = [k for k in wanted if k not in ContentKind.ALL]
    if unknown:
        errors.append(f"Неизвестный тип публикаций «{', '.join(unknown)}» — показаны все типы.")
        return ContentKind.ALL
    return tuple(k for k in ContentKind.ALL if k in wanted)


def _ids(raw: str, label: str, errors: list[str]) -> tuple[int, ...]:
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not all(p.isascii() and p.isdigit() and 0 < len(p) < 10 for p in parts):
        errors.append(f"Неверный фильтр «{label}» — фильтр не применён.")
        return ()
    return tuple(dict.fromkeys(int(p) for p in parts))[:MAX_IDS]


def _one_id(raw: str, label: str, errors: list[str]) -> int | None:
    ids = _ids(raw, label, errors)
    if len(ids) > 1:
        errors.append(f"Неверный фильтр «{label}» — фильтр не применён.")
        return None
    return ids[0] if ids else None


def table_value(name: str, totals: Totals) -> int | float | None:
    """The figure a per-source table column shows (what it sorts by and the CSV holds)."""
    if name in ("likes", "reposts", "comments", "views", "er_post", "er_view"):
        return getattr(totals, name).value
    if name == "members":
        return totals.members_end.value
    if name == "members_delta":
        return totals.members_delta.value
    return getattr(totals, name)
