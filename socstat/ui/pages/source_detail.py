"""Источник: one community's header and daily figures for a period, with a chart.

Authorization: ``sources.get_source`` (LookupError for a source the actor may not see,
the same answer as for a missing one — "Нет доступа", nothing about it leaks) and the
analytics scope of that one source. Days are the installation's days; known zero vs
unknown is decided by ``services.analytics``. The id comes from the URL (``/sources/<id>``), the
period and content type from the controls: all are validated here before any query.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import reflex as rx
from sqlmodel import Session

from socstat.models import ContentKind, User
from socstat.services.analytics import (
    AnalyticsError,
    Period,
    Scope,
    day_series,
    installation_today,
    parse_period,
)
from socstat.services.authz import PermissionDenied
from socstat.services.sources import get_source
from socstat.ui.auth import AuthState, protected
from socstat.ui.components.forms import form, form_error
from socstat.ui.components.layout import page_frame
from socstat.ui.pages.sources import (
    STATUS_COLORS,
    STATUS_LABELS,
    InputError,
    format_day,
    format_int,
    format_moment,
    parse_source_id,
)
from socstat.ui.routing import page

NO_ACCESS = "Нет доступа"
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
        series = day_series(
            session,
            actor=user,
            scope=Scope(
                source_ids=(source_id,),
                kinds=ContentKind.ALL if kind == ALL_KINDS else (kind,),
            ),
            period=chosen,
        )
    except AnalyticsError as exc:
        raise InputError(str(exc)) from None
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
        "header": {
            "id": str(row.id),
            "name": row.name or row.screen_name or row.external_id,
            "url": row.url,
            "photo": row.photo_url,
            "members": format_int(row.members_count),
            "status_label": STATUS_LABELS.get(row.status, row.status),
            "status_color": STATUS_COLORS.get(row.status, "red"),
            "status_reason": row.status_reason,
            "stale": "1" if row.stale else "",
            "stale_reason": (row.last_error or "Последний сбор не удался.") if row.stale else "",
            "history_start": format_day(series.first_day),
            "last_collected": format_moment(row.last_collected_at, user),
        },
        "date_from": chosen.start.isoformat(),
        "date_to": chosen.end.isoformat(),
        "days": days,
        "views_unknown": sum(d["views_unknown"] for d in days),
    }


def table_rows(days: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Newest first, as strings; unknown is "—" (never 0)."""
    return [
        {
            "date": d["date"].strftime("%d.%m.%Y"),
            "iso": d["date"].isoformat(),
            "count": format_int(d["count"]),
            **{f: format_int(d[f]) for f in _FIGURES},
            "views_unknown": str(d["views_unknown"]) if d["views_unknown"] else "",
        }
        for d in reversed(days)
    ]


def build_figure(days: list[dict[str, Any]]) -> go.Figure:
    """Publications (bars, left axis) and likes/reposts/comments (lines, right axis);
    unknown values are gaps, not zeros."""
    x = [d["date"].isoformat() for d in days]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=[d["count"] for d in days], name="Количество", opacity=0.5))
    for key, label in (("likes", "Лайки"), ("reposts", "Репосты"), ("comments", "Комментарии")):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[d[key] for d in days],
                name=label,
                mode="lines+markers",
                yaxis="y2",
                connectgaps=False,
            )
        )
    fig.update_layout(
        margin={"l": 40, "r": 40, "t": 20, "b": 40},
        height=340,
        legend={"orientation": "h", "y": -0.2},
        xaxis={"tickformat": "%d.%m", "hoverformat": "%d.%m.%Y"},
        yaxis={"title": "Количество", "rangemode": "tozero"},
        yaxis2={"title": "Реакции", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


class SourceDetailState(AuthState):
    header: dict[str, str] = {}
    rows: list[dict[str, str]] = []
    figure: go.Figure = go.Figure()
    period: str = DEFAULT_PERIOD
    kind: str = ALL_KINDS

    @rx.var
    def count_label(self) -> str:
        return "Материалов" if self.kind == ALL_KINDS else "Публикаций"

    date_from: str = ""
    date_to: str = ""
    views_note: str = ""
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
        self.figure = build_figure(data["days"])
        unknown = data["views_unknown"]
        self.views_note = f"нет данных о просмотрах для {unknown} публикаций" if unknown else ""
        self.loaded = True
        return None

    def _deny(self) -> None:
        self.denied = True
        self.loaded = True
        self.header = {}
        self.rows = []
        self.figure = go.Figure()
        self.views_note = ""

    @rx.event
    async def load(self) -> Any:
        self.loaded = False
        self.denied = False
        self.error = ""
        return await self._show(DEFAULT_PERIOD, "", "", ALL_KINDS)

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


# --- page ----------------------------------------------------------------------------


def _header() -> rx.Component:
    h = SourceDetailState.header
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.avatar(src=h["photo"], fallback="VK", size="5", radius="full"),
                rx.vstack(
                    rx.heading(h["name"], size="5", as_="h2", data_testid="detail-name"),
                    rx.link(h["url"], href=h["url"], is_external=True, size="2"),
                    rx.hstack(
                        rx.badge(h["status_label"], color_scheme=h["status_color"]),
                        rx.text(h["status_reason"], size="1", color_scheme="gray"),
                        spacing="2",
                        wrap="wrap",
                    ),
                    spacing="1",
                    min_width="0",
                ),
                spacing="3",
                align="start",
            ),
            rx.cond(
                h["stale"] == "1",
                rx.callout(
                    "Данные устарели: " + h["stale_reason"].to(str),
                    icon="triangle-alert",
                    color_scheme="amber",
                    size="1",
                    width="100%",
                ),
            ),
            rx.flex(
                rx.text("Участники: ", rx.text.strong(h["members"]), size="2"),
                rx.text("История с: ", rx.text.strong(h["history_start"]), size="2"),
                rx.text("Последний сбор: ", rx.text.strong(h["last_collected"]), size="2"),
                wrap="wrap",
                spacing="4",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _controls() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.segmented_control.root(
                rx.segmented_control.item("7 дней", value="7"),
                rx.segmented_control.item("30 дней", value="30"),
                rx.segmented_control.item("90 дней", value="90"),
                rx.segmented_control.item("Период…", value=CUSTOM),
                value=SourceDetailState.period,
                on_change=SourceDetailState.choose_period,
                size=rx.breakpoints(initial="1", sm="2"),  # fits a 360 px phone
                data_testid="period",
            ),
            rx.select.root(
                rx.select.trigger(aria_label="Тип публикаций", data_testid="kind"),
                rx.select.content(
                    *[rx.select.item(label, value=key) for key, label in KIND_OPTIONS.items()]
                ),
                value=SourceDetailState.kind,
                on_change=SourceDetailState.choose_kind,
            ),
            wrap="wrap",
            spacing="3",
            align="center",
        ),
        rx.cond(
            SourceDetailState.period == CUSTOM,
            form(
                rx.flex(
                    rx.el.label("С", html_for="date_from"),
                    rx.input(
                        type="date",
                        name="date_from",
                        id="date_from",
                        default_value=SourceDetailState.date_from,
                        data_testid="date-from",
                    ),
                    rx.el.label("по", html_for="date_to"),
                    rx.input(
                        type="date",
                        name="date_to",
                        id="date_to",
                        default_value=SourceDetailState.date_to,
                        data_testid="date-to",
                    ),
                    rx.button("Показать", type="submit", data_testid="custom-apply"),
                    wrap="wrap",
                    spacing="2",
                    align="center",
                ),
                on_submit=SourceDetailState.apply_custom,
            ),
        ),
        rx.cond(
            SourceDetailState.kind == ALL_KINDS,
            rx.text(ALL_KINDS_NOTE, size="1", color_scheme="gray", data_testid="all-kinds-note"),
        ),
        form_error(SourceDetailState.error, testid="detail-error"),
        spacing="3",
        width="100%",
    )


def _cell(value: rx.Var, testid: str) -> rx.Component:
    return rx.table.cell(value, data_testid=testid, text_align="right")


def _table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Дата"),
                    rx.table.column_header_cell(SourceDetailState.count_label, text_align="right"),
                    rx.table.column_header_cell("Лайки", text_align="right"),
                    rx.table.column_header_cell("Репосты", text_align="right"),
                    rx.table.column_header_cell("Комментарии", text_align="right"),
                    rx.table.column_header_cell("Просмотры", text_align="right"),
                )
            ),
            rx.table.body(
                rx.foreach(
                    SourceDetailState.rows,
                    lambda r: rx.table.row(
                        rx.table.cell(r["date"], data_testid="day-date"),
                        _cell(r["count"], "day-count"),
                        _cell(r["likes"], "day-likes"),
                        _cell(r["reposts"], "day-reposts"),
                        _cell(r["comments"], "day-comments"),
                        _cell(
                            rx.cond(
                                r["views_unknown"] != "",
                                r["views"].to(str) + "*",
                                r["views"],
                            ),
                            "day-views",
                        ),
                        data_testid="day-row",
                        data_date=r["iso"],
                    ),
                ),
            ),
            variant="surface",
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def _content() -> rx.Component:
    return rx.vstack(
        _header(),
        _controls(),
        rx.cond(
            SourceDetailState.views_note != "",
            rx.callout(
                "* " + SourceDetailState.views_note + " — просмотры за такие дни неполные.",
                icon="info",
                size="1",
                width="100%",
                data_testid="views-note",
            ),
        ),
        rx.card(rx.plotly(data=SourceDetailState.figure, width="100%"), width="100%"),
        _table(),
        spacing="4",
        width="100%",
    )


@page(
    route="/sources/[source_id]",
    title="Источник — socstat",
    on_load=protected(SourceDetailState.load),
)
def source_detail_page() -> rx.Component:
    return page_frame(
        "Источник",
        rx.link("← Все источники", href="/sources", size="2"),
        rx.cond(
            SourceDetailState.denied,
            rx.callout(
                NO_ACCESS + ": источник не найден или не входит в ваши источники.",
                icon="lock",
                color_scheme="red",
                width="100%",
                data_testid="no-access",
            ),
            rx.cond(SourceDetailState.loaded, _content(), rx.spinner()),
        ),
    )
