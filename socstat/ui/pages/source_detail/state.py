"""Источник: the data and the substate of one community's page.

Authorization: ``sources.get_source`` (LookupError for a source the actor may not see,
the same answer as for a missing one — "Нет доступа", nothing about it leaks) and the
analytics scope of that one source. Days are the installation's days; known zero vs
unknown is decided by ``services.analytics``. The id comes from the path, the period and
content type from the URL (``?period=30&type=post``) and the controls: all are validated
here before any query, and the URL follows the controls.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from socstat.formatting import integer as format_count
from socstat.models import ContentKind, User
from socstat.services.analytics import (
    AnalyticsError,
    Period,
    PublicationSort,
    Scope,
    TopRequest,
    counters_history,
    dashboard,
    installation_today,
    parse_period,
)
from socstat.services.authz import PermissionDenied
from socstat.services.sources import get_source
from socstat.ui.auth import AuthState
from socstat.ui.components.analytics import charts, model
from socstat.ui.viewmodels import InputError, parse_source_id, source_header

NO_ACCESS = "Нет доступа"
PUBLICATIONS_SHOWN = 50
PERIODS: dict[str, int] = {"7": 7, "30": 30, "90": 90}
CUSTOM = "custom"
DEFAULT_PERIOD = "30"
ALL_KINDS = "all"
KIND_OPTIONS: dict[str, str] = {
    ALL_KINDS: "Все материалы",
    ContentKind.POST: "Посты",
    ContentKind.VIDEO: "Видео",
    ContentKind.CLIP: "Клипы",
}
_FIGURES = ("likes", "reposts", "comments", "views")
ALL_KINDS_NOTE = (
    "Все материалы — посты стены, а также видео и клипы сообщества, прикреплённые к ним: "
    "каждый считается отдельным материалом, реакции суммируются по всем материалам."
)


def resolve_period(period: Any, raw_from: Any, raw_to: Any, today: date) -> Period:
    """A preset ("7"/"30"/"90": ending today) or a custom period, validated by analytics."""
    try:
        if isinstance(period, str) and period in PERIODS:
            return Period.custom(today - timedelta(days=PERIODS[period] - 1), today)
        if period != CUSTOM:
            raise AnalyticsError("Неизвестный период.")
        return parse_period(raw_from, raw_to, today=today)
    except AnalyticsError as exc:
        raise InputError(str(exc)) from None


def parse_kind(raw: Any) -> str:
    if isinstance(raw, str) and raw in KIND_OPTIONS:
        return raw
    raise InputError("Неизвестный тип публикаций.")


def detail_data(
    session: Session,
    user: User,
    raw_id: Any,
    period: Any,
    raw_from: Any,
    raw_to: Any,
    raw_kind: Any,
) -> dict[str, Any]:
    """Everything the detail page shows. LookupError → no access; InputError → bad input."""
    source_id = parse_source_id(raw_id)
    kind = parse_kind(raw_kind)
    row = get_source(session, actor=user, source_id=source_id)  # LookupError: no access
    chosen = resolve_period(period, raw_from, raw_to, installation_today())
    try:
        board = dashboard(
            session,
            actor=user,
            scope=Scope(
                source_ids=(source_id,),
                kinds=ContentKind.ALL if kind == ALL_KINDS else (kind,),
            ),
            period=chosen,
            top=TopRequest(sort=PublicationSort.PUBLISHED, page_size=PUBLICATIONS_SHOWN),
        )
        counters = counters_history(session, actor=user, source_id=source_id, period=chosen)
    except AnalyticsError as exc:
        raise InputError(str(exc)) from None
    series = board.series
    days = [
        {
            "date": point.start,
            "count": point.publications,
            **{f: getattr(point, f).value for f in _FIGURES},
            "views_unknown": point.views.unknown,
        }
        for point in series.points
    ]
    return {
        "header": source_header(row, tz_name=user.timezone, history_start=series.first_day),
        "date_from": chosen.start.isoformat(),
        "date_to": chosen.end.isoformat(),
        "days": days,
        "views_unknown": sum(d["views_unknown"] for d in days),
        "kpis": model.kpis(board.totals),
        "figures": {
            "publications": charts.publications_figure(series),
            "engagement": charts.engagement_figure(series),
            "members": charts.members_figure(board.members),
        },
        "members_note": model.members_note(session, user, board),
        "publications": [model.publication_row(p) for p in board.top.items],
        "publications_total": board.top.total,
        "counters": [
            {
                "date": row.day.strftime("%d.%m.%Y"),
                "members": format_count(row.members),
                "videos": format_count(row.videos),
                "clips": format_count(row.clips),
            }
            for row in counters
        ],
        "timezone": board.timezone,
    }


def table_rows(days: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Newest first, as strings; unknown is "—" (never 0)."""
    return [
        {
            "date": d["date"].strftime("%d.%m.%Y"),
            "iso": d["date"].isoformat(),
            "count": format_count(d["count"]),
            **{f: format_count(d[f]) for f in _FIGURES},
            "views_unknown": str(d["views_unknown"]) if d["views_unknown"] else "",
        }
        for d in reversed(days)
    ]


class SourceDetailState(AuthState):
    header: dict[str, str] = {}
    rows: list[dict[str, str]] = []
    period: str = DEFAULT_PERIOD
    kind: str = ALL_KINDS

    @rx.var
    def count_label(self) -> str:
        return "Материалов" if self.kind == ALL_KINDS else "Публикаций"

    date_from: str = ""
    date_to: str = ""
    views_note: str = ""
    timezone_note: str = ""
    kpis: list[dict[str, str]] = []
    publications: list[dict[str, str]] = []
    publications_note: str = ""
    counters: list[dict[str, str]] = []
    publications_figure: dict[str, Any] = {}
    engagement_figure: dict[str, Any] = {}
    members_figure: dict[str, Any] = {}
    members_note: str = ""
    error: str = ""
    denied: bool = False
    loaded: bool = False

    def _path_id(self) -> str:
        try:
            path = str(self.router.url.path or "")
        except AttributeError:
            return ""
        return path.rstrip("/").rsplit("/", 1)[-1]

    async def _show(self, period: str, raw_from: Any, raw_to: Any, kind: str) -> Any:
        raw_id = self._path_id()
        try:
            parse_source_id(raw_id)
        except InputError:  # a bad id in the URL: same answer as someone else's source
            self._deny()
            return None
        try:
            data = await self._as_actor(
                lambda s, u: detail_data(s, u, raw_id, period, raw_from, raw_to, kind)
            )
        except PermissionDenied as exc:
            return self._denied(exc)
        except LookupError:
            self._deny()
            return None
        except InputError as exc:
            self.error = str(exc)
            return None
        self.denied = False
        self.error = ""
        self.period = period
        self.kind = kind
        self.header = data["header"]
        self.date_from = data["date_from"]
        self.date_to = data["date_to"]
        self.rows = table_rows(data["days"])
        unknown = data["views_unknown"]
        self.views_note = f"нет данных о просмотрах для {unknown} публикаций" if unknown else ""
        self.kpis = data["kpis"]
        self.publications = data["publications"]
        total = data["publications_total"]
        shown = len(self.publications)
        self.publications_note = f"показаны {shown} новых из {total}" if total > shown else ""
        self.counters = data["counters"]
        self.publications_figure = data["figures"]["publications"]
        self.engagement_figure = data["figures"]["engagement"]
        self.members_figure = data["figures"]["members"]
        self.members_note = data["members_note"]
        self.timezone_note = f"Сутки считаются по часовому поясу {data['timezone']}."
        self.loaded = True
        return self._sync_url()

    def _sync_url(self) -> Any:
        """The period and type in the URL (bookmarkable), the community's name as the title."""
        params = {"period": self.period}
        if self.period == CUSTOM:
            params.update({"from": self.date_from, "to": self.date_to})
        if self.kind != ALL_KINDS:
            params["type"] = self.kind
        url = f"/sources/{self.header['id']}?{urlencode(params)}"
        title = f"{self.header['name']} — socstat"
        return rx.call_script(
            f"window.history.replaceState(null, '', {json.dumps(url)});"
            f"document.title = {json.dumps(title)};"
        )

    def _url_param(self, name: str, default: str) -> str:
        value = self._query_param(name)
        return value or default

    def _deny(self) -> None:
        self.denied = True
        self.loaded = True
        self.header = {}
        self.rows = []
        self.views_note = ""
        self.kpis = []
        self.publications = []
        self.counters = []

    @rx.event
    async def load(self) -> Any:
        self.loaded = False
        self.denied = False
        self.error = ""
        period = self._url_param("period", DEFAULT_PERIOD)
        kind = self._url_param("type", ALL_KINDS)
        first, last = self._url_param("from", ""), self._url_param("to", "")
        result = await self._show(period, first, last, kind)
        if not self.loaded:  # a bad period or type in the URL: say so, show the default
            message = self.error
            result = await self._show(DEFAULT_PERIOD, "", "", ALL_KINDS)
            self.error = message
        return result

    @rx.event
    async def choose_period(self, value: Any) -> Any:
        if value == CUSTOM:  # show the date inputs, keep the current figures
            self.period = CUSTOM
            return None
        if not isinstance(value, str) or value not in PERIODS:
            self.error = "Неизвестный период."
            return None
        return await self._show(value, "", "", self.kind)

    @rx.event
    async def choose_kind(self, value: Any) -> Any:
        if not isinstance(value, str) or value not in KIND_OPTIONS:
            self.error = "Неизвестный тип публикаций."
            return None
        return await self._show(self.period, self.date_from, self.date_to, value)

    @rx.event
    async def apply_custom(self, form: dict[str, Any]) -> Any:
        if not isinstance(form, dict):
            return None
        return await self._show(CUSTOM, form.get("date_from"), form.get("date_to"), self.kind)
