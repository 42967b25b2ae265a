"""Уведомления: the signed-in user's own in-app notifications — filters, mark read,
follow the link (to a source, a post's source, a report, the alerts page)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.formatting import moment as format_moment
from socstat.models import User
from socstat.services.alerts import inbox
from socstat.services.authz import PermissionDenied
from socstat.ui.auth import AuthState, protected
from socstat.ui.components.bell import BellState
from socstat.ui.components.layout import page_frame
from socstat.ui.routing import page

KIND_FILTERS = {"all": "Все", **inbox.KINDS}
PAGE_SIZE = 100


def _rows(session: Session, user: User, kind: str, unread_only: bool) -> list[dict[str, str]]:
    notes = inbox.list_notifications(
        session,
        actor=user,
        kind=None if kind == "all" else kind,
        unread_only=unread_only,
        limit=PAGE_SIZE,
    )
    return [
        {
            "id": str(n.id),
            "kind": inbox.KINDS.get(n.kind, n.kind),
            "title": n.title,
            "body": n.body,
            "link": n.link if n.link.startswith("/") else "",
            "created": format_moment(n.created_at, user.timezone),
            "read": "1" if n.read else "",
        }
        for n in notes
    ]


def _note_id(raw: Any) -> int | None:
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 10:
        return int(raw)
    return None


class NotificationsState(AuthState):
    rows: list[dict[str, str]] = []
    kind: str = "all"
    unread_only: bool = False
    loaded: bool = False

    async def _reload(self) -> None:
        kind, unread_only = self.kind, self.unread_only
        self.rows = await self._as_actor(lambda s, u: _rows(s, u, kind, unread_only))
        self.loaded = True

    async def _reload_or_deny(self) -> Any:
        try:
            await self._reload()
        except PermissionDenied as exc:
            return self._denied(exc)
        return None

    @rx.event
    async def load(self) -> Any:
        return await self._reload_or_deny()

    @rx.event
    async def set_kind(self, value: Any) -> Any:
        self.kind = value if value in KIND_FILTERS else "all"
        return await self._reload_or_deny()

    @rx.event
    async def set_unread_only(self, value: Any) -> Any:
        self.unread_only = value is True
        return await self._reload_or_deny()

    @rx.event
    async def mark_read(self, raw_id: Any) -> Any:
        note_id = _note_id(raw_id)
        if note_id is None:
            return None
        try:
            await self._as_actor(lambda s, u: inbox.mark_read(s, actor=u, notification_id=note_id))
            await self._reload()
        except PermissionDenied as exc:
            return self._denied(exc)
        return BellState.refresh

    @rx.event
    async def open_link(self, raw_id: Any) -> Any:
        """Mark the notification read and follow its (internal) link."""
        note_id = _note_id(raw_id)
        if note_id is None:
            return None
        try:
            await self._as_actor(lambda s, u: inbox.mark_read(s, actor=u, notification_id=note_id))
        except PermissionDenied as exc:
            return self._denied(exc)
        row = next((r for r in self.rows if r["id"] == str(note_id)), None)
        if row and row["link"]:
            return [BellState.refresh, rx.redirect(row["link"])]
        return await self._reload_or_deny()

    @rx.event
    async def mark_all_read(self) -> Any:
        try:
            await self._as_actor(lambda s, u: inbox.mark_all_read(s, actor=u))
            await self._reload()
        except PermissionDenied as exc:
            return self._denied(exc)
        return BellState.refresh


def _row(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.badge(row["kind"], variant="soft"),
                    rx.text(row["created"], size="1", color_scheme="gray"),
                    rx.cond(row["read"] == "", rx.badge("новое", color_scheme="red")),
                    spacing="2",
                    align="center",
                ),
                rx.text(row["title"], weight=rx.cond(row["read"] == "", "bold", "regular")),
                rx.text(row["body"], size="2", color_scheme="gray", white_space="pre-wrap"),
                spacing="1",
                align="start",
                min_width="0",
                flex="1",
            ),
            rx.vstack(
                rx.cond(
                    row["link"] != "",
                    rx.button(
                        "Открыть",
                        size="1",
                        on_click=NotificationsState.open_link(row["id"]),
                        data_testid="notification-open",
                    ),
                ),
                rx.cond(
                    row["read"] == "",
                    rx.button(
                        "Прочитано",
                        size="1",
                        variant="soft",
                        on_click=NotificationsState.mark_read(row["id"]),
                        data_testid="notification-read",
                    ),
                ),
                spacing="2",
            ),
            width="100%",
            align="start",
        ),
        width="100%",
        data_testid="notification",
    )


@page(
    route="/notifications",
    title="Уведомления — socstat",
    on_load=protected(NotificationsState.load),
)
def notifications_page() -> rx.Component:
    return page_frame(
        "Уведомления",
        rx.hstack(
            rx.select.root(
                rx.select.trigger(data_testid="notifications-kind"),
                rx.select.content(
                    *[rx.select.item(label, value=key) for key, label in KIND_FILTERS.items()]
                ),
                value=NotificationsState.kind,
                on_change=NotificationsState.set_kind,
            ),
            rx.hstack(
                rx.switch(
                    checked=NotificationsState.unread_only,
                    on_change=NotificationsState.set_unread_only,
                    data_testid="notifications-unread",
                ),
                rx.text("Только непрочитанные", size="2"),
                align="center",
            ),
            rx.spacer(),
            rx.button(
                "Отметить все прочитанными",
                variant="soft",
                on_click=NotificationsState.mark_all_read,
                data_testid="notifications-all-read",
            ),
            rx.link("Правила оповещений", href="/alerts"),
            width="100%",
            flex_wrap="wrap",
            align="center",
            spacing="3",
        ),
        rx.cond(
            NotificationsState.loaded,
            rx.cond(
                NotificationsState.rows.length() > 0,
                rx.vstack(rx.foreach(NotificationsState.rows, _row), width="100%", spacing="2"),
                rx.text("Уведомлений нет.", color_scheme="gray", data_testid="notifications-empty"),
            ),
            rx.hstack(rx.spinner(), rx.text("Загрузка…")),
        ),
    )
