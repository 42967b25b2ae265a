"""The dashboard's view model: analytics results turned into plain strings for the state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlmodel import Session

from socstat.formatting import day as format_day
from socstat.formatting import integer as format_count
from socstat.formatting import plural
from socstat.formatting import rate as format_rate
from socstat.models import User
from socstat.services.analytics import (
    Comparison,
    Dashboard,
    OwnerRollup,
    Publication,
    SourceLine,
    Totals,
    members_since,
    percent_change,
    table_order,
)
from socstat.services.analytics.filters import TABLE_SORTS, table_value
from socstat.services.analytics.scope import KIND_NAMES
from socstat.settings import get_settings

REACTIONS = "(лайки + репосты + комментарии)"
KPIS: tuple[tuple[str, str, str], ...] = (
    ("posts", "Посты", "Число постов стены за период."),
    ("videos", "Видео", "Число видео за период."),
    ("clips", "Клипы", "Число клипов за период."),
    ("likes", "Лайки", "Сумма лайков публикаций периода (по известным значениям)."),
    ("reposts", "Репосты", "Сумма репостов публикаций периода (по известным значениям)."),
    ("comments", "Комментарии", "Сумма комментариев публикаций периода (по известным значениям)."),
    ("views", "Просмотры", "Сумма просмотров публикаций периода (по известным значениям)."),
    (
        "er_post",
        "Средний ERpost",
        f"ERpost = {REACTIONS} / подписчики в день публикации; среднее — по публикациям.",
    ),
    (
        "er_view",
        "Средний ERview",
        f"ERview = {REACTIONS} / просмотры; среднее — по публикациям с известными просмотрами.",
    ),
    (
        "members_delta",
        "Прирост подписчиков",
        "Подписчики по последнему замеру периода минус по последнему замеру предыдущего.",
    ),
)
CHANGE_FORMULA = "Изменение = (сейчас − в прошлом периоде) / в прошлом периоде × 100 %."
_SPARK = "▁▂▃▄▅▆▇█"
METRIC_COLUMNS = tuple(c for c in TABLE_SORTS if c != "name")


class SourceValues(NamedTuple):
    """A row of the per-source table as it sorts and as the comparison chart shows it (the
    state keeps these beside the rows, so a sort click re-sorts without reading again)."""

    position: int  # in the scope's order (by name): the order unknown values keep
    name: str
    values: tuple[int | float | None, ...]  # table_value of each of METRIC_COLUMNS

    def value(self, column: str) -> int | float | None:
        return self.values[METRIC_COLUMNS.index(column)]


def source_values(lines: Iterable[SourceLine]) -> dict[int, SourceValues]:
    """By source id, of the scope's ``lines`` in the scope's order."""
    return {
        line.source.id: SourceValues(
            i, line.source.name, tuple(table_value(c, line.current) for c in METRIC_COLUMNS)
        )
        for i, line in enumerate(lines)
    }


def sort_sources(
    sources: Sequence[SourceValues], sort: str, descending: bool
) -> list[SourceValues]:
    """The table's order, as services.analytics.sorted_lines gives it for the same lines
    (unknown values last in the scope's order)."""
    return table_order(
        sorted(sources, key=lambda s: s.position),
        sort,
        descending,
        value=SourceValues.value,
        name=lambda s: s.name,
    )


def kpi_value(name: str, totals: Totals) -> int | float | None:
    if name in ("posts", "videos", "clips"):
        return getattr(totals, name)
    if name == "members_delta":
        return totals.members_delta.value
    return getattr(totals, name).value


def _display(name: str, value: int | float | None) -> str:
    if name in ("er_post", "er_view"):
        return format_rate(value)
    text = format_count(None if value is None else int(value))
    return f"+{text}" if name == "members_delta" and value is not None and value > 0 else text


def _of(part: int, whole: int) -> str:
    """«12 из 40 публикаций», «1 из 21 публикации» (genitive after «из»)."""
    return f"{part} из {whole} {plural(whole, 'публикации', 'публикаций', 'публикаций')}"


def _note(name: str, totals: Totals) -> str:
    """Why a number is partial or missing."""
    if name in ("likes", "reposts", "comments", "views"):
        figure = getattr(totals, name)
        if figure.unknown and totals.publications:
            return f"нет данных для {_of(figure.unknown, totals.publications)}"
    if name in ("er_post", "er_view"):
        ratio = getattr(totals, name)
        if ratio.unknown:
            what = "подписчиков" if name == "er_post" else "просмотров"
            return f"нет {what} для {_of(ratio.unknown, ratio.items + ratio.unknown)}"
    if name == "members_delta" and totals.members_delta.unknown:
        unknown = totals.members_delta.unknown
        return (
            f"нет замеров для {unknown} {plural(unknown, 'источника', 'источников', 'источников')}"
        )
    return ""


def change(name: str, current: int | float | None, previous: int | float | None) -> dict[str, str]:
    """Arrow, percent and colour of the change against the previous period."""
    percent = percent_change(current, previous)
    if percent is None:
        return {"change": "нет сравнения", "direction": "none", "color": "gray"}
    if abs(percent) < 0.05:
        return {"change": "= 0 %", "direction": "flat", "color": "gray"}
    arrow, color = ("▲", "grass") if percent > 0 else ("▼", "tomato")
    text = format_rate(abs(percent) / 100)
    return {
        "change": f"{arrow} {text}",
        "direction": "up" if percent > 0 else "down",
        "color": color,
    }


def kpis(totals: Comparison) -> list[dict[str, str]]:
    current, previous = totals.current, totals.previous
    period = previous.period
    before = f"{period.start:%d.%m.%Y}–{period.end:%d.%m.%Y}"
    cards = []
    for name, label, formula in KPIS:
        value, was = kpi_value(name, current), kpi_value(name, previous)
        cards.append(
            {
                "metric": name,
                "label": label,
                "value": _display(name, value),
                "raw": "" if value is None else repr(value),
                "note": _note(name, current),
                "tooltip": f"{formula} {CHANGE_FORMULA} Прошлый период {before}: "
                f"{_display(name, was)}.",
                **change(name, value, was),
            }
        )
    return cards


def sparkline(values: tuple[int | None, ...]) -> str:
    known = [v for v in values if v is not None]
    top = max(known, default=0)
    return "".join(
        " " if v is None else _SPARK[0 if not top else round(v / top * (len(_SPARK) - 1))]
        for v in values
    )


def table_row(line: SourceLine) -> dict[str, str]:
    row = {"id": str(line.source.id), "name": line.source.name, "spark": sparkline(line.sparkline)}
    for column in ("posts", "videos", "clips", "likes", "reposts", "comments", "views"):
        row[column] = format_count(table_value(column, line.current))  # type: ignore[arg-type]
    row["er_post"] = format_rate(line.current.er_post.value)
    row["er_view"] = format_rate(line.current.er_view.value)
    row["members"] = format_count(line.current.members_end.value)
    row["members_delta"] = _display("members_delta", line.current.members_delta.value)
    return row


def publication_row(item: Publication) -> dict[str, str]:
    moment = item.published_at.astimezone(get_settings().tz)
    return {
        "date": moment.strftime("%d.%m.%Y %H:%M"),
        "kind": KIND_NAMES.get(item.kind, item.kind),
        "source": item.source_name,
        "text": item.text[:120] or "(без текста)",
        "likes": format_count(item.likes),
        "reposts": format_count(item.reposts),
        "comments": format_count(item.comments),
        "views": format_count(item.views),
        "er_post": format_rate(item.er_post),
        "er_view": format_rate(item.er_view),
        "url": item.url,
    }


def rollup_row(owner: OwnerRollup) -> dict[str, str]:
    now, before = owner.current, owner.previous
    return {
        "id": str(owner.user_id),
        "name": owner.name,
        "sources": str(owner.sources),
        "publications": format_count(now.publications),
        "likes": format_count(now.likes.value),
        "views": format_count(now.views.value),
        "er_post": format_rate(now.er_post.value),
        **change("publications", now.publications, before.publications),
    }


def source_options(board: Dashboard) -> list[dict[str, str]]:
    return [{"id": str(s.id), "label": s.name} for s in board.scope.sources]


def members_note(session: Session, user: User, board: Dashboard) -> str:
    """Why the members chart has no point (empty when it has one): readings are taken at
    each collection, so there are none before a source's first one."""
    if any(p.members is not None for p in board.members.points):
        return ""
    since = members_since(session, actor=user, source_ids=board.scope.source_ids)
    why = "Число подписчиков записывается при каждом сборе"
    if since is None:
        return f"Замеров числа подписчиков ещё нет. {why} — они появятся после первого сбора."
    note = (
        f"За этот период замеров числа подписчиков нет. {why}; замеры есть с {format_day(since)}."
    )
    if len(board.scope.sources) > 1:
        note += " Сумма по источникам известна за дни, когда замерены все они."
    return note
