"""The report centre's state: every handler runs as the freshly resolved user
(``_as_actor``) and the reports services check access themselves: a report id from the
browser that the user may not read is "not found". Files are downloaded through
``/api/reports/<id>/file/<format>`` with a short-lived token issued here after that
check — never from a public path."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.models import ReportKind, ReportStatus, User
from socstat.services.authz import PermissionDenied
from socstat.services.reports import access, generation, schedule
from socstat.services.reports.builder import ReportRequest, report_options
from socstat.services.reports.generation import ReportError
from socstat.ui.auth import AuthState
from socstat.ui.components.forms import text_of
from socstat.ui.pages.reports.model import (
    FORMAT_LABELS,
    InputError,
    history_row,
    parse_day,
    parse_formats,
    parse_id,
    parse_ids,
    parse_kind,
    parse_tags,
    preview_rows,
)

POLL_SECONDS = 0.5


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
