"""The dashboard's substate: filters that live in the URL, and the view of the numbers.

Every filter handler rebuilds the query string from validated values and goes through the
same path as opening the URL (``_show``): filters are parsed and checked by the analytics
service, and the scope is authorized there, for the signed-in user, on every call. Paging
and sorting the top publications read only that page (the scope authorized again); sorting
the per-source table re-sorts the rows the page already has.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.models import ContentKind, User
from socstat.services.analytics import (
    PRESETS,
    TABLE_SORTS,
    Dashboard,
    DashboardFilters,
    DashboardNumbers,
    PublicationPage,
    PublicationSort,
    ResolvedScope,
    Scope,
    TopRequest,
    complete_dashboard,
    installation_today,
    numbers_for,
    parse_filters,
    resolve_scope,
    scope_choices,
    sorted_lines,
    top_publications,
)
from socstat.services.analytics.filters import CUSTOM
from socstat.services.authz import PermissionDenied
from socstat.settings import get_settings
from socstat.ui.auth import AuthState
from socstat.ui.components.analytics import charts, model

ROUTE = "/dashboard"
TOP_PAGE_SIZE = 10
TABLE_ROWS = 50  # the per-source table's rows shown before «Показать все»
STATUS_NOTES = {
    "closed": "стена закрыта",
    "private": "частное сообщество",
    "deleted": "сообщество удалено",
    "banned": "сообщество заблокировано",
    "wall_disabled": "стена отключена",
    "error": "ошибка сбора",
}


@dataclass(frozen=True)
class Shown:
    """What the page's first update was computed from, for its second (``load_rest``)."""

    numbers: DashboardNumbers
    applied: DashboardFilters


def load_numbers(session: Session, user: User, params: dict[str, str]) -> tuple[dict, Shown]:
    """The page's first update for the URL's query ``params`` (plain values only): the
    filters as applied, their choices and the KPIs."""
    filters, messages = parse_filters(params, today=installation_today())
    numbers, applied, denied = numbers_for(session, actor=user, filters=filters)
    everything = _owner_scope(session, user, applied, numbers.scope)
    choices = scope_choices(session, actor=user)
    period = numbers.period
    view = {
        "messages": messages + denied,
        **_query_view(applied),
        "preset": applied.preset,
        "date_from": period.start.isoformat(),
        "date_to": period.end.isoformat(),
        "period_label": f"{period.start:%d.%m.%Y} — {period.end:%d.%m.%Y}",
        "kinds": list(applied.kinds),
        "selected_sources": [str(i) for i in applied.source_ids],
        "tag": ",".join(applied.tags),
        "scope_user": "" if applied.user_id is None else str(applied.user_id),
        "scope_team": "" if applied.team_id is None else str(applied.team_id),
        "sort": applied.sort,
        "descending": applied.descending,
        "empty": not everything.sources,
        "timezone_note": f"Сутки считаются по часовому поясу {get_settings().timezone}.",
        "kpis": model.kpis(numbers.totals),
        "source_options": [{"id": str(s.id), "label": s.name} for s in everything.sources],
        "tag_options": list(choices.tags),
        "user_options": [{"id": str(i), "label": n} for i, n in choices.users],
        "team_options": [{"id": str(i), "label": n} for i, n in choices.teams],
    }
    return view, Shown(numbers, applied)


def load_rest(
    session: Session, user: User, shown: Shown, top_sort: str, top_page: int
) -> dict[str, Any]:
    """The rest of the page for the numbers ``shown``: the table, the top publications,
    the charts, the rollup and the notes."""
    board = complete_dashboard(
        session,
        actor=user,
        numbers=shown.numbers,
        top=TopRequest(sort=top_sort, page=top_page, page_size=TOP_PAGE_SIZE),
    )
    if board.top.page > board.top.pages:  # the list got shorter: its last page
        return load_rest(session, user, shown, top_sort, board.top.pages)
    applied = shown.applied
    lines = sorted_lines(board.sources, applied.sort, applied.descending)
    by_id = model.source_values(board.sources)
    sources = [by_id[line.source.id] for line in lines]
    rows = []
    for line in lines:
        row = model.table_row(line)
        row["status"] = STATUS_NOTES.get(line.source.status, "")
        rows.append(row)
    return {
        "history_note": _history_note(board),
        "members_note": model.members_note(session, user, board),
        "table": rows,
        "table_sources": sources,
        **_top_view(board.top),
        "rollup": [model.rollup_row(r) for r in board.rollup],
        "publications_figure": charts.publications_figure(board.series),
        "engagement_figure": charts.engagement_figure(board.series),
        "sources_figure": charts.sources_figure(sources, applied.sort),
        "heatmap_figure": charts.heatmap_figure(board.heatmap),
        "members_figure": charts.members_figure(board.members),
    }


def load_view(
    session: Session, user: User, params: dict[str, str], top_sort: str, top_page: int
) -> dict[str, Any]:
    """Everything the page shows for the URL's query ``params``, in one piece."""
    view, shown = load_numbers(session, user, params)
    rest = load_rest(session, user, shown, top_sort, top_page)
    return view | rest


def _history_note(board: Dashboard) -> str:
    first, period = board.history_start, board.period
    if first is None:
        return "Данных за период нет: источники ещё не собирались или их стены закрыты."
    if first > period.start:
        return f"Данные есть с {first:%d.%m.%Y}: раньше этого дня числа неизвестны (—)."
    return ""


def load_top(
    session: Session, user: User, params: dict[str, str], top_sort: str, top_page: int
) -> dict[str, Any] | None:
    """Only the top publications' page of the URL's query ``params`` (the scope authorized
    again); None when the filters need the whole dashboard's path (a value to report)."""
    filters, messages = parse_filters(params, today=installation_today())
    if messages:
        return None
    top = top_publications(
        session,
        actor=user,
        scope=filters.scope(),
        period=filters.period,
        sort=top_sort,
        page=top_page,
        page_size=TOP_PAGE_SIZE,
    )
    if top.page > top.pages:  # the list got shorter: its last page
        return load_top(session, user, params, top_sort, top.pages)
    return _top_view(top)


def _top_view(top: PublicationPage) -> dict[str, Any]:
    return {
        "top": [model.publication_row(p) for p in top.items],
        "top_page": top.page,
        "top_pages": top.pages,
        "top_total": top.total,
    }


def _query_view(applied: DashboardFilters) -> dict[str, str]:
    """The applied filters' query string (the URL shows it) and the CSV download's URL."""
    query = applied.query()
    return {
        "query": query,
        "csv_url": "/api/dashboard/sources.csv" + (f"?{query}" if query else ""),
    }


def _owner_scope(
    session: Session, user: User, applied: DashboardFilters, shown: ResolvedScope
) -> ResolvedScope:
    """Every source of the applied owner (the user, a team, a colleague) — for the source
    filter's choices. The dashboard's own scope is that already unless sources, tags or
    content kinds narrow it; then it is resolved again without them."""
    narrowed = applied.source_ids or applied.tags or set(applied.kinds) != set(ContentKind.ALL)
    if not narrowed:
        return shown
    owner = Scope(user_id=applied.user_id, team_id=applied.team_id)
    return resolve_scope(session, actor=user, scope=owner)


def _digits(value: Any) -> str | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return value
    return None


class DashboardState(AuthState):
    loaded: bool = False
    messages: list[str] = []
    query: str = ""
    preset: str = "30d"
    custom_open: bool = False
    date_from: str = ""
    date_to: str = ""
    period_label: str = ""
    kinds: list[str] = list(ContentKind.ALL)
    selected_sources: list[str] = []
    tag: str = ""
    scope_user: str = ""
    scope_team: str = ""
    sort: str = "name"
    descending: bool = False
    empty: bool = False
    timezone_note: str = ""
    kpis: list[dict[str, str]] = []
    top_sort: str = PublicationSort.LIKES.value
    top_page: int = 1
    top_pages: int = 1
    top_total: int = 0
    source_options: list[dict[str, str]] = []
    tag_options: list[str] = []
    user_options: list[dict[str, str]] = []
    team_options: list[dict[str, str]] = []
    csv_url: str = ""

    def _url_params(self) -> dict[str, str]:
        try:
            raw = self.router.url.query_parameters
        except AttributeError:
            return {}
        return {k: v for k, v in dict(raw).items() if isinstance(v, str)}

    def _params(self) -> dict[str, str]:
        """The current filters as URL parameters (parsed and validated again in _show)."""
        params: dict[str, str] = {}
        if self.preset == CUSTOM:
            params.update({"from": self.date_from, "to": self.date_to})
        else:
            params["period"] = self.preset
        params["types"] = ",".join(self.kinds)
        params["sources"] = ",".join(self.selected_sources)
        params["tags"] = self.tag
        params["user"] = self.scope_user
        params["team"] = self.scope_team
        params["sort"] = self.sort
        params["desc"] = "1" if self.descending else ""
        return {k: v for k, v in params.items() if v}

    async def _show(self, params: dict[str, str]) -> AsyncIterator[Any]:
        """Read the dashboard for ``params`` and show it in two updates: the filters and the
        KPIs as soon as they are computed, then the table, the top and the charts (computed
        from the same reads), whose drawing takes the browser far longer."""
        sort, page = self.top_sort, self.top_page
        try:
            (view, _), later = await self._as_actor_in_steps(
                lambda s, u: load_numbers(s, u, params),
                lambda s, u, numbers: load_rest(s, u, numbers[1], sort, page),
            )
        except PermissionDenied as exc:
            yield self._denied(exc)
            return
        await self._update(view)
        self.custom_open = self.preset == CUSTOM
        self.loaded = True
        yield  # the numbers are sent now, while the rest is computed from the same reads
        try:
            rest = await later
        except PermissionDenied as exc:
            yield self._denied(exc)
            return
        blocks = await self.get_state(DashboardBlocks)
        blocks._table_sources = rest.pop("table_sources")
        blocks._table_rows = rest["table"]
        rest["table"], rest["table_total"] = blocks._shown_rows(), len(blocks._table_rows)
        await self._update(rest)
        yield self._replace_url()  # with the last update: the event is done

    async def _update(self, view: dict[str, Any]) -> None:
        """Set the vars whose value changed, each on the state holding it: an unchanged one
        (the filter choices, mostly) is not sent to the browser again."""
        blocks = await self.get_state(DashboardBlocks)
        for key, value in view.items():
            holder = blocks if key in BLOCKS else self
            if holder.get_value(key) != value:
                setattr(holder, key, value)

    def _replace_url(self) -> rx.event.EventSpec:
        url = ROUTE + (f"?{self.query}" if self.query else "")
        return rx.call_script(f"window.history.replaceState(null, '', {json.dumps(url)})")

    async def _show_top(self) -> AsyncIterator[Any]:
        """Only the top publications' page of the current filters; the whole dashboard when
        they no longer hold (a filter refused or bad: that path reports it)."""
        params, sort, page = self._params(), self.top_sort, self.top_page
        try:
            view = await self._as_actor(lambda s, u: load_top(s, u, params, sort, page))
        except PermissionDenied:
            view = None
        if view is None:
            async for event in self._show(params):
                yield event
            return
        await self._update(view)

    @rx.event
    async def load(self) -> AsyncIterator[Any]:
        self.loaded = False
        self.top_page = 1
        (await self.get_state(DashboardBlocks)).table_all = False
        # the URL shows what was applied
        async for event in self._show(self._url_params()):
            yield event

    @rx.event
    async def choose_preset(self, value: Any) -> AsyncIterator[Any]:
        if value == CUSTOM:
            self.custom_open = True
            return
        if value not in PRESETS:
            return
        self.preset = value
        self.top_page = 1
        async for event in self._show(self._params()):
            yield event

    @rx.event
    async def apply_custom(self, form: Any) -> AsyncIterator[Any]:
        if not isinstance(form, dict):
            return
        self.preset = CUSTOM
        self.date_from = str(form.get("date_from", ""))[:10]
        self.date_to = str(form.get("date_to", ""))[:10]
        self.top_page = 1
        async for event in self._show(self._params()):
            yield event

    @rx.event
    async def toggle_kind(self, kind: Any) -> AsyncIterator[Any]:
        if kind not in ContentKind.ALL:
            return
        chosen = [k for k in self.kinds if k != kind] if kind in self.kinds else [*self.kinds, kind]
        if not chosen:
            return  # at least one type stays on
        self.kinds = chosen
        self.top_page = 1
        async for event in self._show(self._params()):
            yield event

    @rx.event
    async def toggle_source(self, source_id: Any) -> AsyncIterator[Any]:
        value = _digits(source_id)
        if value is None:
            return
        current = self.selected_sources
        self.selected_sources = (
            [s for s in current if s != value] if value in current else [*current, value]
        )
        self.top_page = 1
        async for event in self._show(self._params()):
            yield event

    @rx.event
    async def clear_sources(self) -> AsyncIterator[Any]:
        self.selected_sources = []
        async for event in self._show(self._params()):
            yield event

    @rx.event
    async def choose_tag(self, tag: Any) -> AsyncIterator[Any]:
        if not isinstance(tag, str) or (tag != "__all__" and tag not in self.tag_options):
            return
        self.tag = "" if tag == "__all__" else tag
        self.top_page = 1
        async for event in self._show(self._params()):
            yield event

    @rx.event
    async def choose_owner(self, value: Any) -> AsyncIterator[Any]:
        """ "u:<id>" a user, "t:<id>" a team, "me" the default (checked by the service)."""
        if not isinstance(value, str):
            return
        kind, _, raw = value.partition(":")
        if value == "me":
            self.scope_user, self.scope_team = "", ""
        elif kind in ("u", "t") and _digits(raw) is not None:
            self.scope_user, self.scope_team = (raw, "") if kind == "u" else ("", raw)
        else:
            return
        self.selected_sources = []
        self.top_page = 1
        async for event in self._show(self._params()):
            yield event

    @rx.event
    async def sort_by(self, column: Any) -> AsyncIterator[Any]:
        if column not in TABLE_SORTS:
            return
        self.descending = not self.descending if column == self.sort else column != "name"
        self.sort = column
        applied, messages = parse_filters(self._params(), today=installation_today())
        blocks = await self.get_state(DashboardBlocks)
        sources: list[model.SourceValues] = blocks.get_value("_table_sources")
        rows: list[dict[str, str]] = blocks.get_value("_table_rows")
        if messages or len(sources) != len(rows):
            async for event in self._show(self._params()):
                yield event
            return
        row_of = {source.position: row for source, row in zip(sources, rows, strict=True)}
        ordered = model.sort_sources(sources, column, self.descending)
        blocks._table_sources = ordered
        blocks._table_rows = [row_of[source.position] for source in ordered]
        blocks.table = blocks._shown_rows()
        blocks.sources_figure = charts.sources_figure(ordered, column)
        await self._update(_query_view(applied))
        yield self._replace_url()

    @rx.event
    async def sort_top(self, column: Any) -> AsyncIterator[Any]:
        if column not in {s.value for s in PublicationSort}:
            return
        self.top_sort = column
        self.top_page = 1
        async for event in self._show_top():
            yield event

    @rx.event
    async def top_step(self, step: Any) -> AsyncIterator[Any]:
        if step not in (-1, 1):
            return
        self.top_page = max(1, self.top_page + step)
        async for event in self._show_top():
            yield event

    @rx.event
    async def reset_filters(self) -> AsyncIterator[Any]:
        self.top_page = 1
        self.top_sort = PublicationSort.LIKES.value
        async for event in self._show({}):
            yield event


class DashboardBlocks(DashboardState):
    """The blocks drawn after the numbers: the table, the top publications, the charts,
    the rollup and the notes about them. A substate of their own, so that an update of the
    numbers or the filters does not make the browser draw them again (and theirs does not
    redraw the numbers)."""

    history_note: str = ""
    members_note: str = ""
    table: list[dict[str, str]] = []  # the rows shown: the first TABLE_ROWS, or all
    table_total: int = 0
    table_all: bool = False
    top: list[dict[str, str]] = []
    rollup: list[dict[str, str]] = []
    # Plain Plotly JSON (built by charts), not go.Figure: Reflex deep-copies a go.Figure
    # default for every new tab and re-validates each figure when it sends an update.
    publications_figure: dict[str, Any] = {}
    engagement_figure: dict[str, Any] = {}
    sources_figure: dict[str, Any] = {}
    heatmap_figure: dict[str, Any] = {}
    members_figure: dict[str, Any] = {}
    # every row of the table and its values as they sort (a sort click re-sorts both)
    _table_rows: list[dict[str, str]] = []
    _table_sources: list[model.SourceValues] = []

    def _shown_rows(self) -> list[dict[str, str]]:
        """The table's rows to send: 200 rows take the browser a second to draw, so the
        first TABLE_ROWS until the user asks for all."""
        rows = self.get_value("_table_rows")
        return list(rows) if self.table_all else list(rows[:TABLE_ROWS])

    @rx.event
    def show_all_sources(self) -> None:
        self.table_all = True
        self.table = self._shown_rows()


BLOCKS = frozenset(DashboardBlocks.base_vars)  # its own vars (the others: DashboardState's)
