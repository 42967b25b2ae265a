"""Отчёты: build a report (with a preview of its key numbers), the history, delivery settings.

Every handler runs as the freshly resolved user (``_as_actor``) and the reports services
check access themselves: a report id from the browser that the user may not read is
"not found". Files are downloaded through ``/api/reports/<id>/file/<format>`` with a
short-lived token issued here after that check — never from a public path.
"""

from __future__ import annotations

import asyncio
import zoneinfo
from datetime import date, datetime
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.models import ReportKind, ReportStatus, User
from socstat.services.authz import PermissionDenied
from socstat.services.reports import access, generation, schedule
from socstat.services.reports.builder import ReportRequest, build_request_data, report_options
from socstat.services.reports.data import REPORT_KIND_LABELS
from socstat.services.reports.generation import ReportError, ReportInfo
from socstat.services.reports.html import fmt_change, fmt_number
from socstat.settings import get_settings
from socstat.ui.auth import AuthState, protected
from socstat.ui.components.forms import form, form_error, form_info, section, text_of
from socstat.ui.components.layout import page_frame
from socstat.ui.routing import page

STATUS_LABELS = {
    ReportStatus.PENDING: "в очереди",
    ReportStatus.RUNNING: "формируется",
    ReportStatus.DONE: "готов",
    ReportStatus.FAILED: "ошибка",
}
STATUS_COLORS = {
    ReportStatus.PENDING: "gray",
    ReportStatus.RUNNING: "blue",
    ReportStatus.DONE: "green",
    ReportStatus.FAILED: "red",
}
FORMAT_LABELS = {"xlsx": "Excel", "csv": "CSV", "pdf": "PDF"}
POLL_SECONDS = 0.5
MAX_IDS = 500


class InputError(ValueError):
    """Bad input from the browser; the message is for the user."""


def parse_id(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InputError("Неверный номер отчёта.")
    try:
        value = int(raw)
    except ValueError:
        raise InputError("Неверный номер отчёта.") from None
    if not 0 < value < 2**31:
        raise InputError("Неверный номер отчёта.")
    return value


def parse_day(raw: Any, label: str) -> date | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise InputError(f"Неверная дата: {label}.")
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InputError(f"Неверная дата: {label}.") from None


def parse_kind(raw: Any) -> str:
    if isinstance(raw, str) and raw in ReportKind.ALL:
        return raw
    raise InputError("Неизвестный вид отчёта.")


def parse_formats(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
        raise InputError("Неверный список форматов.")
    try:
        return generation.validate_formats(raw)
    except ReportError as exc:
        raise InputError(str(exc)) from None


def parse_ids(raw: Any) -> list[int]:
    if not isinstance(raw, list) or len(raw) > MAX_IDS:
        raise InputError("Неверный список источников.")
    return [parse_id(item) for item in raw]


def parse_tags(raw: Any) -> list[str]:
    if not isinstance(raw, list) or len(raw) > MAX_IDS:
        raise InputError("Неверный список тегов.")
    if not all(isinstance(t, str) and len(t) <= 100 for t in raw):
        raise InputError("Неверный список тегов.")
    return list(raw)


def _size(value: int | None) -> str:
    if value is None:
        return "—"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} КБ"
    return f"{value / 1024 / 1024:.1f} МБ"


def format_moment(moment: datetime | None, tz_name: str | None) -> str:
    """dd.mm.yyyy HH:MM in the user's zone (the installation's when unset or unknown)."""
    if moment is None:
        return "—"
    try:
        zone = zoneinfo.ZoneInfo(tz_name) if tz_name else get_settings().tz
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = get_settings().tz
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def history_row(info: ReportInfo, tz_name: str | None) -> dict[str, Any]:
    scope = info.scope
    parts = []
    if scope.get("team_id") is not None:
        parts.append("команда")
    if scope.get("source_ids"):
        parts.append(f"источников: {len(scope['source_ids'])}")
    if scope.get("tags"):
        parts.append("теги: " + ", ".join(scope["tags"]))
    period = (
        f"{info.period_start:%d.%m.%Y}"
        if info.period_start == info.period_end
        else f"{info.period_start:%d.%m.%Y} — {info.period_end:%d.%m.%Y}"
    )
    return {
        "id": str(info.id),
        "kind": info.kind_label,
        "period": period,
        "scope": ", ".join(parts) or "все источники",
        "author": info.author_email,
        "owner": info.owner_email,
        "status": info.status,
        "status_label": STATUS_LABELS.get(info.status, info.status),
        "status_color": STATUS_COLORS.get(info.status, "gray"),
        "error": info.error,
        "progress": info.progress,
        "size": _size(info.size_bytes),
        "time": format_moment(info.generated_at or info.created_at, tz_name),
        "files": [{"format": f.format, "label": FORMAT_LABELS[f.format]} for f in info.files],
    }


def preview_rows(session: Session, user: User, request: ReportRequest) -> list[dict[str, str]]:
    data = build_request_data(session, actor=user, request=request)
    rows = []
    for row in data.summary:
        change, color = fmt_change(row)
        rows.append(
            {
                "label": row.label,
                "value": fmt_number(row.value, ratio=row.is_ratio),
                "change": change,
                "color": color,
            }
        )
    return rows


class ReportsState(AuthState):
    kind: str = ReportKind.DAILY
    date_from: str = ""
    date_to: str = ""
    source_options: list[dict[str, str]] = []
    tag_options: list[str] = []
    chosen_sources: list[str] = []
    chosen_tags: list[str] = []
    formats: list[str] = ["xlsx"]
    preview: list[dict[str, str]] = []
    build_error: str = ""
    build_info: str = ""
    history: list[dict[str, Any]] = []
    history_error: str = ""
    generating: bool = False
    progress: int = 0
    settings: dict[str, Any] = {}
    settings_info: str = ""
    settings_error: str = ""
    recipients: list[dict[str, str]] = []
    loaded: bool = False
    _tz: str | None = None

    # --- loading -----------------------------------------------------------------------

    def _history(self, session: Session, user: User) -> list[dict[str, Any]]:
        return [history_row(r, user.timezone) for r in access.list_reports(session, actor=user)]

    @rx.event
    async def load(self) -> Any:
        def work(session: Session, user: User) -> dict[str, Any]:
            options = report_options(session, actor=user)
            return {
                "sources": [{"id": str(i), "name": n} for i, n in options.sources],
                "tags": options.tags,
                "history": self._history(session, user),
                "settings": schedule.delivery_settings(session, actor=user),
            }

        try:
            data = await self._as_actor(work)
        except PermissionDenied as exc:
            return self._denied(exc)
        self.source_options = data["sources"]
        self.tag_options = data["tags"]
        self.history = data["history"]
        self._show_settings(data["settings"])
        self.loaded = True
        return None

    def _show_settings(self, settings: schedule.DeliverySettings) -> None:
        self.settings = {
            "daily": settings.daily,
            "weekly": settings.weekly,
            "monthly": settings.monthly,
            "paused": settings.paused,
            "formats": settings.formats,
        }
        self.recipients = [
            {"email": email, "state": "подтверждён" if ok else "ждёт подтверждения"}
            for email, ok in settings.recipients
        ]

    async def _refresh_history(self) -> None:
        try:
            self.history = await self._as_actor(self._history)
        except PermissionDenied:
            self.history = []

    # --- building ----------------------------------------------------------------------

    @rx.event
    def set_kind(self, value: Any) -> None:
        try:
            self.kind = parse_kind(value)
        except InputError as exc:
            self.build_error = str(exc)
        self.preview = []

    @rx.event
    def toggle_format(self, fmt: Any) -> None:
        if not isinstance(fmt, str) or fmt not in FORMAT_LABELS:
            return
        self.formats = (
            [f for f in self.formats if f != fmt] if fmt in self.formats else [*self.formats, fmt]
        )

    @rx.event
    def toggle_source(self, source_id: Any) -> None:
        if not isinstance(source_id, str) or source_id not in {
            s["id"] for s in self.source_options
        }:
            return
        chosen = self.chosen_sources
        self.chosen_sources = (
            [s for s in chosen if s != source_id] if source_id in chosen else [*chosen, source_id]
        )
        self.preview = []

    @rx.event
    def toggle_tag(self, tag: Any) -> None:
        if not isinstance(tag, str) or tag not in self.tag_options:
            return
        chosen = self.chosen_tags
        self.chosen_tags = [t for t in chosen if t != tag] if tag in chosen else [*chosen, tag]
        self.preview = []

    @rx.event
    def set_date_from(self, value: Any) -> None:
        self.date_from = value[:20] if isinstance(value, str) else ""
        self.preview = []

    @rx.event
    def set_date_to(self, value: Any) -> None:
        self.date_to = value[:20] if isinstance(value, str) else ""
        self.preview = []

    def _request(self) -> ReportRequest:
        kind = parse_kind(self.kind)
        start = parse_day(self.date_from, "начало периода")
        end = parse_day(self.date_to, "конец периода")
        if kind != ReportKind.CUSTOM:
            start = end = None
        scope = generation.make_scope(
            source_ids=parse_ids(self.chosen_sources) or None, tags=parse_tags(self.chosen_tags)
        )
        return ReportRequest(kind=kind, start=start, end=end, scope=scope)

    @rx.event
    async def show_preview(self) -> Any:
        self.build_error = self.build_info = ""
        try:
            request = self._request()
            self.preview = await self._as_actor(lambda s, u: preview_rows(s, u, request))
        except PermissionDenied as exc:
            return self._denied(exc)
        except (InputError, ReportError, LookupError) as exc:
            self.build_error = str(exc)
            self.preview = []
        return None

    @rx.event
    async def build(self) -> Any:
        self.build_error = self.build_info = ""
        if self.generating:
            self.build_error = "Отчёт уже формируется — дождитесь окончания."
            return None
        try:
            request = self._request()
            formats = parse_formats(self.formats)
            info = await self._as_actor(
                lambda s, u: generation.create_report(
                    s,
                    actor=u,
                    kind=request.kind,
                    start=request.start,
                    end=request.end,
                    source_ids=request.scope["source_ids"],
                    tags=request.scope["tags"],
                    formats=formats,
                )
            )
        except PermissionDenied as exc:
            return self._denied(exc)
        except (InputError, ReportError, LookupError) as exc:
            self.build_error = str(exc)
            return None
        await self._refresh_history()
        return ReportsState.run_generation(info.id)

    @rx.event(background=True)
    async def run_generation(self, report_id: int) -> None:
        """Generate in this process while pushing the report's progress to the page."""
        async with self:
            self.generating = True
            self.progress = 0
        task = asyncio.create_task(asyncio.to_thread(generation.generate_now, report_id))
        while not task.done():
            await asyncio.sleep(POLL_SECONDS)
            async with self:
                await self._refresh_history()
                row = next((r for r in self.history if r["id"] == str(report_id)), None)
                self.progress = int(row["progress"]) if row else 0
        status = await task
        async with self:
            await self._refresh_history()
            self.generating = False
            self.progress = 100
            if status == ReportStatus.DONE:
                self.build_info = "Отчёт готов — его можно скачать в истории."
            elif status == ReportStatus.FAILED:
                self.build_error = "Отчёт не сформирован: причина указана в истории."

    # --- history -----------------------------------------------------------------------

    @rx.event
    async def download(self, raw_id: Any, fmt: Any) -> Any:
        self.history_error = ""
        try:
            report_id = parse_id(raw_id)
            if not isinstance(fmt, str) or fmt not in FORMAT_LABELS:
                raise InputError("Неизвестный формат.")
            token = await self._as_actor(
                lambda s, u: access.download_token(s, actor=u, report_id=report_id, fmt=fmt)
            )
        except PermissionDenied as exc:
            return self._denied(exc)
        except (InputError, LookupError) as exc:
            self.history_error = str(exc)
            return None
        return rx.download(url=f"/api/reports/{report_id}/file/{fmt}?token={token}")

    @rx.event
    async def delete(self, raw_id: Any) -> Any:
        self.history_error = ""
        try:
            report_id = parse_id(raw_id)
            await self._as_actor(lambda s, u: access.delete_report(s, actor=u, report_id=report_id))
        except PermissionDenied as exc:
            if exc.__class__ is PermissionDenied:
                self.history_error = str(exc)
                return None
            return self._denied(exc)
        except (InputError, LookupError) as exc:
            self.history_error = str(exc)
            return None
        await self._refresh_history()
        return None

    @rx.event
    async def regenerate(self, raw_id: Any) -> Any:
        self.history_error = ""
        if self.generating:
            self.history_error = "Отчёт уже формируется — дождитесь окончания."
            return None
        try:
            report_id = parse_id(raw_id)
            await self._as_actor(
                lambda s, u: generation.retry_report(s, actor=u, report_id=report_id)
            )
        except PermissionDenied as exc:
            if exc.__class__ is PermissionDenied:
                self.history_error = str(exc)
                return None
            return self._denied(exc)
        except (InputError, ReportError, LookupError) as exc:
            self.history_error = str(exc)
            return None
        await self._refresh_history()
        return ReportsState.run_generation(report_id)

    # --- delivery settings -------------------------------------------------------------

    @rx.event
    async def save_settings(self, form_data: dict[str, Any]) -> Any:
        self.settings_info = self.settings_error = ""
        if not isinstance(form_data, dict):
            return None
        formats = [f for f in FORMAT_LABELS if form_data.get(f"format_{f}") in ("on", True)]
        try:
            saved = await self._as_actor(
                lambda s, u: schedule.save_delivery_settings(
                    s,
                    actor=u,
                    daily=form_data.get("daily") in ("on", True),
                    weekly=form_data.get("weekly") in ("on", True),
                    monthly=form_data.get("monthly") in ("on", True),
                    paused=form_data.get("paused") in ("on", True),
                    formats=formats,
                )
            )
        except PermissionDenied as exc:
            return self._denied(exc)
        except ReportError as exc:
            self.settings_error = str(exc)
            return None
        self._show_settings(saved)
        self.settings_info = "Настройки рассылки сохранены."
        return None

    @rx.event
    async def add_recipient(self, form_data: dict[str, Any]) -> Any:
        self.settings_info = self.settings_error = ""
        address = text_of(form_data, "email", 320)
        try:

            def work(session: Session, user: User) -> schedule.DeliverySettings:
                schedule.add_recipient(session, actor=user, email=address)
                return schedule.delivery_settings(session, actor=user)

            saved = await self._as_actor(work)
        except PermissionDenied as exc:
            return self._denied(exc)
        except ReportError as exc:
            self.settings_error = str(exc)
            return None
        self._show_settings(saved)
        self.settings_info = "На адрес отправлена ссылка для подтверждения."
        return None

    @rx.event
    async def remove_recipient(self, email: Any) -> Any:
        if not isinstance(email, str) or len(email) > 320:
            return None

        def work(session: Session, user: User) -> schedule.DeliverySettings:
            schedule.remove_recipient(session, actor=user, email=email)
            return schedule.delivery_settings(session, actor=user)

        try:
            saved = await self._as_actor(work)
        except PermissionDenied as exc:
            return self._denied(exc)
        self._show_settings(saved)
        return None


# --- page ------------------------------------------------------------------------------


def _chip(label: rx.Var, active: rx.Var, on_click: Any, testid: str) -> rx.Component:
    return rx.button(
        label,
        variant=rx.cond(active, "solid", "outline"),
        size="1",
        type="button",
        on_click=on_click,
        data_testid=testid,
    )


def _builder() -> rx.Component:
    s = ReportsState
    return section(
        "Сформировать отчёт",
        rx.box(
            rx.vstack(
                rx.select.root(
                    rx.select.trigger(aria_label="Вид отчёта", data_testid="report-kind"),
                    rx.select.content(
                        *[rx.select.item(label, value=k) for k, label in REPORT_KIND_LABELS.items()]
                    ),
                    value=s.kind,
                    on_change=s.set_kind,
                ),
                rx.cond(
                    s.kind == ReportKind.CUSTOM,
                    rx.flex(
                        rx.el.label("С", html_for="date_from"),
                        rx.input(
                            type="date",
                            id="date_from",
                            value=s.date_from,
                            on_change=s.set_date_from,
                            data_testid="report-from",
                        ),
                        rx.el.label("по", html_for="date_to"),
                        rx.input(
                            type="date",
                            id="date_to",
                            value=s.date_to,
                            on_change=s.set_date_to,
                            data_testid="report-to",
                        ),
                        spacing="2",
                        align="center",
                        wrap="wrap",
                    ),
                    rx.text(
                        "Период: последний завершённый день, неделя или месяц.",
                        size="1",
                        color_scheme="gray",
                    ),
                ),
                rx.text("Источники (без выбора — все ваши):", size="2"),
                rx.flex(
                    rx.foreach(
                        s.source_options,
                        lambda o: _chip(
                            o["name"],
                            s.chosen_sources.contains(o["id"]),
                            s.toggle_source(o["id"]),
                            "report-source",
                        ),
                    ),
                    wrap="wrap",
                    spacing="2",
                ),
                rx.cond(
                    s.tag_options.length() > 0,
                    rx.flex(
                        rx.text("Теги:", size="2"),
                        rx.foreach(
                            s.tag_options,
                            lambda t: _chip(
                                t, s.chosen_tags.contains(t), s.toggle_tag(t), "report-tag"
                            ),
                        ),
                        wrap="wrap",
                        spacing="2",
                    ),
                ),
                rx.flex(
                    rx.text("Форматы:", size="2"),
                    *[
                        _chip(label, s.formats.contains(fmt), s.toggle_format(fmt), f"format-{fmt}")
                        for fmt, label in FORMAT_LABELS.items()
                    ],
                    spacing="2",
                    wrap="wrap",
                    align="center",
                ),
                rx.flex(
                    rx.button(
                        "Предпросмотр",
                        type="button",
                        variant="soft",
                        on_click=s.show_preview,
                        data_testid="report-preview",
                    ),
                    rx.button(
                        "Сформировать",
                        type="button",
                        loading=s.generating,
                        on_click=s.build,
                        data_testid="report-build",
                    ),
                    spacing="2",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        rx.cond(
            s.generating,
            rx.vstack(
                rx.text("Отчёт формируется…", size="2"),
                rx.progress(value=s.progress, max=100, width="100%", data_testid="report-progress"),
                width="100%",
            ),
        ),
        form_error(s.build_error, testid="report-error"),
        form_info(s.build_info, testid="report-info"),
        rx.cond(s.preview.length() > 0, _preview()),
    )


def _preview() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.body(
                rx.foreach(
                    ReportsState.preview,
                    lambda r: rx.table.row(
                        rx.table.cell(r["label"]),
                        rx.table.cell(r["value"], text_align="right", data_testid="preview-value"),
                        rx.table.cell(r["change"], text_align="right", color=r["color"]),
                    ),
                )
            ),
            size="1",
            variant="surface",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        data_testid="report-preview-table",
    )


def _history_row(r: rx.Var) -> rx.Component:
    s = ReportsState
    return rx.table.row(
        rx.table.cell(r["kind"]),
        rx.table.cell(r["period"], white_space="nowrap"),
        rx.table.cell(r["scope"]),
        rx.table.cell(r["author"]),
        rx.table.cell(
            rx.vstack(
                rx.badge(
                    r["status_label"], color_scheme=r["status_color"], data_testid="report-status"
                ),
                rx.cond(r["error"] != "", rx.text(r["error"], size="1", color_scheme="red")),
                spacing="1",
            )
        ),
        rx.table.cell(r["size"], white_space="nowrap"),
        rx.table.cell(r["time"], white_space="nowrap"),
        rx.table.cell(
            rx.flex(
                rx.foreach(
                    r["files"].to(list[dict[str, str]]),
                    lambda f: rx.button(
                        f["label"],
                        size="1",
                        variant="soft",
                        on_click=s.download(r["id"], f["format"]),
                        data_testid="report-download",
                    ),
                ),
                rx.button(
                    "Заново",
                    size="1",
                    variant="outline",
                    on_click=s.regenerate(r["id"]),
                    data_testid="report-regenerate",
                ),
                rx.button(
                    "Удалить",
                    size="1",
                    variant="outline",
                    color_scheme="red",
                    on_click=s.delete(r["id"]),
                    data_testid="report-delete",
                ),
                spacing="1",
                wrap="wrap",
            )
        ),
        data_testid="report-row",
        data_report_id=r["id"],
    )


def _history() -> rx.Component:
    return section(
        "История",
        form_error(ReportsState.history_error, testid="history-error"),
        rx.cond(
            ReportsState.history.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(name)
                                for name in (
                                    "Отчёт",
                                    "Период",
                                    "Охват",
                                    "Автор",
                                    "Статус",
                                    "Размер",
                                    "Время",
                                    "",
                                )
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(ReportsState.history, _history_row)),
                    size="1",
                    variant="surface",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
            rx.text(
                "Отчётов пока нет.", size="2", color_scheme="gray", data_testid="history-empty"
            ),
        ),
    )


def _checkbox(name: str, label: str, checked: rx.Var) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, default_checked=checked, data_testid=f"set-{name}"),
        " " + label,
        style={"display": "flex", "gap": "6px", "alignItems": "center"},
    )


def _settings() -> rx.Component:
    s = ReportsState
    settings = s.settings
    return section(
        "Рассылка",
        rx.cond(
            s.loaded,
            form(
                rx.vstack(
                    _checkbox("daily", "Ежедневный отчёт (10:00)", settings["daily"].to(bool)),
                    _checkbox(
                        "weekly", "Еженедельный (понедельник, 10:00)", settings["weekly"].to(bool)
                    ),
                    _checkbox(
                        "monthly", "Ежемесячный (1-е число, 10:00)", settings["monthly"].to(bool)
                    ),
                    rx.flex(
                        rx.text("Вложения:", size="2"),
                        *[
                            _checkbox(
                                f"format_{fmt}",
                                label,
                                settings["formats"].to(list[str]).contains(fmt),
                            )
                            for fmt, label in FORMAT_LABELS.items()
                        ],
                        spacing="3",
                        wrap="wrap",
                    ),
                    _checkbox("paused", "Приостановить все рассылки", settings["paused"].to(bool)),
                    rx.button("Сохранить", type="submit", data_testid="settings-save"),
                    spacing="2",
                ),
                on_submit=s.save_settings,
                key=s.settings.to_string(),
            ),
        ),
        rx.text("Дополнительные адреса (получают отчёты после подтверждения по ссылке):", size="2"),
        rx.foreach(
            s.recipients,
            lambda r: rx.hstack(
                rx.text(r["email"], size="2"),
                rx.badge(r["state"]),
                rx.button(
                    "Убрать",
                    size="1",
                    variant="ghost",
                    type="button",
                    on_click=s.remove_recipient(r["email"]),
                ),
                align="center",
            ),
        ),
        form(
            rx.flex(
                rx.input(
                    name="email",
                    type="email",
                    placeholder="адрес@пример.рф",
                    data_testid="recipient-email",
                ),
                rx.button("Добавить", type="submit", data_testid="recipient-add"),
                spacing="2",
            ),
            on_submit=s.add_recipient,
            reset_on_submit=True,
        ),
        form_error(s.settings_error, testid="settings-error"),
        form_info(s.settings_info, testid="settings-info"),
    )


@page(route="/reports", title="Отчёты — socstat", on_load=protected(ReportsState.load))
def reports_page() -> rx.Component:
    return page_frame(
        "Отчёты",
        rx.cond(
            ReportsState.loaded,
            rx.vstack(_builder(), _history(), _settings(), spacing="4", width="100%"),
            rx.spinner(),
        ),
    )
