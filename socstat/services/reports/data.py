"""The typed content of one report, independent of its format.

Every writer (xlsx, csv, pdf, email) renders a :class:`ReportData`; the builder fills it
from ``services/analytics``. ``None`` is an unknown figure everywhere (an empty cell, «—»).
The sheet, file and column names below are a stable interface (docs/reports.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

KIND_LABELS = {"post": "Пост", "video": "Видео", "clip": "Клип"}
REPORT_KIND_LABELS = {
    "daily": "Ежедневный отчёт",
    "weekly": "Еженедельный отчёт",
    "monthly": "Ежемесячный отчёт",
    "custom": "Отчёт за период",
}

SHEET_SUMMARY = "Сводка"
SHEET_SOURCES = "Источники"
SHEET_DAYS = "По дням"
SHEET_PUBLICATIONS = "Публикации"
SHEET_DEFINITIONS = "Определения"

SUMMARY_COLUMNS = ("Показатель", "Значение", "Предыдущий период", "Изменение")
SOURCES_COLUMNS = (
    "Источник",
    "ID VK",
    "Ссылка",
    "Статус",
    "Посты",
    "Видео",
    "Клипы",
    "Лайки",
    "Репосты",
    "Комментарии",
    "Просмотры",
    "ERpost",
    "ERview",
    "Подписчики",
    "Изменение подписчиков",
)
DAYS_COLUMNS = (
    "Дата",
    "Источник",
    "ID VK",
    "Тип",
    "Публикаций",
    "Лайки",
    "Репосты",
    "Комментарии",
    "Просмотры",
    "Просмотры неизвестны",
)
PUBLICATIONS_COLUMNS = (
    "Дата и время",
    "Источник",
    "ID VK",
    "Тип",
    "Текст",
    "Лайки",
    "Репосты",
    "Комментарии",
    "Просмотры",
    "ERpost",
    "ERview",
    "Ссылка",
)
DEFINITIONS_COLUMNS = ("Раздел", "Название", "Значение")
ROLLUP_TITLE = "По аналитикам"
ROLLUP_COLUMNS = (
    "Аналитик",
    "Источников",
    "Публикаций",
    "Лайки",
    "Репосты",
    "Комментарии",
    "Просмотры",
    "ERpost",
    "ERview",
    "Изменение подписчиков",
    "Публикаций в предыдущем периоде",
)

Number = int | float | None


def _field_values(row: Any, *, skip: tuple[str, ...] = ()) -> tuple:
    """The dataclass ``row``'s fields in declaration order, less those in ``skip``."""
    return tuple(getattr(row, f.name) for f in fields(row) if f.name not in skip)


@dataclass(frozen=True)
class SummaryRow:
    key: str  # posts, videos, clips, likes, …, er_post, er_view, members_delta
    label: str
    value: Number
    previous: Number
    is_ratio: bool = False  # ER: shown as percent

    @property
    def change(self) -> float | None:
        """Relative change against the previous period; None when either side is unknown
        or the previous value is zero."""
        if self.value is None or self.previous is None or self.previous == 0:
            return None
        return (self.value - self.previous) / abs(self.previous)


@dataclass(frozen=True)
class SourceRow:
    source_id: int
    name: str
    vk_id: str
    url: str
    status: str
    posts: int | None
    videos: int | None
    clips: int | None
    likes: int | None
    reposts: int | None
    comments: int | None
    views: int | None
    er_post: float | None
    er_view: float | None
    members: int | None
    members_delta: int | None
    owner: str = ""  # the analyst who tracks it (team reports)

    def values(self) -> tuple:
        """The «Источники» sheet's (and CSV file's) columns, in order."""
        return _field_values(self, skip=("source_id", "owner"))


@dataclass(frozen=True)
class RollupRow:
    """One analyst's sources in a team report, summed (by analytics)."""

    name: str
    sources: int
    publications: int | None
    likes: int | None
    reposts: int | None
    comments: int | None
    views: int | None
    er_post: float | None
    er_view: float | None
    members_delta: int | None
    previous_publications: int | None

    def values(self) -> tuple:
        return _field_values(self)


@dataclass(frozen=True)
class DayRow:
    day: date
    source: str
    vk_id: str
    kind: str  # post | video | clip
    count: int | None
    likes: int | None
    reposts: int | None
    comments: int | None
    views: int | None
    views_unknown: int

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def values(self) -> tuple[int | None, ...]:
        return (self.count, self.likes, self.reposts, self.comments, self.views)

    def cells(self) -> tuple:
        """The «По дням» sheet's (and CSV file's) columns, in order."""
        return (
            self.day,
            self.source,
            self.vk_id,
            self.kind_label,
            *self.values(),
            self.views_unknown,
        )


@dataclass(frozen=True)
class PublicationRow:
    published_at: datetime  # in the report's time zone
    source: str
    vk_id: str
    kind: str
    text: str
    likes: int | None
    reposts: int | None
    comments: int | None
    views: int | None
    er_post: float | None
    er_view: float | None
    url: str

    def cells(self) -> tuple:
        """The «Публикации» sheet's (and CSV file's) columns, in order (the kind as its label)."""
        return tuple(
            KIND_LABELS.get(self.kind, self.kind) if f.name == "kind" else getattr(self, f.name)
            for f in fields(self)
        )


@dataclass(frozen=True)
class Definition:
    section: str
    name: str
    value: str


@dataclass(frozen=True)
class ChartPoint:
    day: date
    publications: int | None
    reactions: int | None  # likes + reposts + comments
    views: int | None


@dataclass(frozen=True)
class ReportData:
    title: str
    kind: str
    period_start: date
    period_end: date
    previous_start: date
    previous_end: date
    timezone: str
    scope_label: str
    filters: list[str]
    generated_at: datetime
    summary: list[SummaryRow]
    sources: list[SourceRow]
    days: list[DayRow]
    publications: list[PublicationRow]
    chart: list[ChartPoint]
    notes: list[str] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)
    rollup: list[RollupRow] = field(default_factory=list)  # director / admin reports

    @property
    def period_label(self) -> str:
        if self.period_start == self.period_end:
            return f"{self.period_start:%d.%m.%Y}"
        return f"{self.period_start:%d.%m.%Y} — {self.period_end:%d.%m.%Y}"

    def summary_value(self, key: str) -> Number:
        return next((row.value for row in self.summary if row.key == key), None)
