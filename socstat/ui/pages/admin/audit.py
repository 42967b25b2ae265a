"""The "Журнал аудита" tab: events filtered by user, action and dates, page by page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.formatting import moment as format_moment
from socstat.formatting import zone as user_tz
from socstat.models.accounts import User
from socstat.services import admin, audit
from socstat.ui.auth import AuthState
from socstat.ui.components.controls import WIDE_ONLY, option_select, pager, static_select
from socstat.ui.components.forms import form, form_error, text_of
from socstat.ui.components.paging import PagedListMixin
from socstat.ui.pages.admin.common import ALL, admin_call, user_option
from socstat.ui.viewmodels import parse_id


def parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None


ACTION_OPTIONS = [
    {"id": ALL, "label": "Все действия"},
    *(
        {"id": code, "label": f"{label} — все ({code}*)" if code.endswith(".") else label}
        for code, label in audit.action_choices()
    ),
]
_ACTION_CODES = {option["id"] for option in ACTION_OPTIONS}


def _event_row(event: audit.AuditRow, tz: str | None) -> dict[str, str]:
    raw_target = f"{event.target_type} {event.target_id}".strip()
    return {
        "id": str(event.id),
        "when": format_moment(event.created_at, tz),
        "who": event.actor_email or "система",
        "action": event.action,
        "action_label": event.action_label,
        "target": event.target_label,
        "target_raw": raw_target or "—",
        "ip": event.ip or "—",
        "details": event.details_label,
        "details_raw": ", ".join(f"{k}={v}" for k, v in event.details.items()),
    }


class AdminAuditState(PagedListMixin, AuthState):
    events: list[dict[str, str]] = []
    page_size: int = 30
    empty_label: str = "Событий нет"
    user_filter: str = ALL
    action_filter: str = ALL
    date_from: str = ""
    date_to: str = ""
    user_options: list[dict[str, str]] = []
    error: str = ""

    async def _reload(self) -> Any:
        user_id = parse_id(self.user_filter)
        action = None if self.action_filter == ALL else self.action_filter
        day_from, day_to = parse_day(self.date_from), parse_day(self.date_to)
        offset, page_size = self.offset, self.page_size

        def _work(session: Session, actor: User) -> dict[str, Any]:
            tz = user_tz(actor.timezone)
            start = datetime.combine(day_from, time.min, tz) if day_from else None
            end = datetime.combine(day_to + timedelta(days=1), time.min, tz) if day_to else None
            page = audit.list_events(
                session,
                actor=actor,
                user_id=user_id,
                action=action,
                date_from=start,
                date_to=end,
                limit=page_size,
                offset=offset,
            )
            users = admin.list_users(session, actor=actor, limit=500).items
            return {
                "events": [_event_row(e, actor.timezone) for e in page.items],
                "total": page.total,
                "users": [user_option(u) for u in users],
            }

        ok, result = await admin_call(self, _work)
        if not ok:
            return result
        self.events = result["events"]
        self.total = result["total"]
        self.user_options = [{"id": ALL, "label": "Все пользователи"}, *result["users"]]
        return None

    @rx.event
    async def load(self) -> Any:
        if not self.is_admin:
            return None
        return await self._reload()

    @rx.event
    def set_user_filter(self, value: str) -> None:
        self.user_filter = value if parse_id(value) else ALL

    @rx.event
    def set_action_filter(self, value: str) -> None:
        self.action_filter = value if value in _ACTION_CODES else ALL

    @rx.event
    async def apply_filters(self, form: dict[str, Any]) -> Any:
        self.date_from = text_of(form, "date_from", 10)
        self.date_to = text_of(form, "date_to", 10)
        self.error = ""
        if (self.date_from and not parse_day(self.date_from)) or (
            self.date_to and not parse_day(self.date_to)
        ):
            self.error = "Неверная дата."
            return None
        self.offset = 0
        return await self._reload()


# --- view ----------------------------------------------------------------------------

HEADERS = ("Когда", "Действие", "Объект", "Кто", "IP", "Подробности")  # on a phone: what first


def _filters() -> rx.Component:
    return form(
        rx.flex(
            option_select(
                AdminAuditState.user_options,
                AdminAuditState.user_filter,
                AdminAuditState.set_user_filter,
                "audit-user",
            ),
            static_select(
                [(o["id"], o["label"]) for o in ACTION_OPTIONS],
                AdminAuditState.action_filter,
                AdminAuditState.set_action_filter,
                "audit-action",
                aria_label="Действие",
            ),
            rx.hstack(
                rx.text("с", size="2"),
                rx.input(name="date_from", type="date", aria_label="С даты"),
                rx.text("по", size="2"),
                rx.input(name="date_to", type="date", aria_label="По дату"),
                align="center",
            ),
            rx.button("Показать", type="submit"),
            wrap="wrap",
            gap="2",
            width="100%",
        ),
        on_submit=AdminAuditState.apply_filters,
        width="100%",
    )


def _event_row_view(event: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(event["when"]),
        rx.table.cell(
            rx.tooltip(
                rx.text(event["action_label"], data_testid="audit-action-label"),
                content=event["action"],
            )
        ),
        rx.table.cell(rx.tooltip(rx.text(event["target"]), content=event["target_raw"])),
        rx.table.cell(event["who"]),
        rx.table.cell(event["ip"], display=WIDE_ONLY),
        rx.table.cell(
            rx.cond(
                event["details"] != "",
                rx.tooltip(rx.text(event["details"], size="1"), content=event["details_raw"]),
            )
        ),
        data_testid="audit-row",
    )


def audit_tab() -> rx.Component:
    return rx.vstack(
        _filters(),
        form_error(AdminAuditState.error, testid="audit-error"),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(
                                h, **({"display": WIDE_ONLY} if h == "IP" else {})
                            )
                            for h in HEADERS
                        ]
                    )
                ),
                rx.table.body(rx.foreach(AdminAuditState.events, _event_row_view)),
                size="1",
                width="100%",
            ),
            width="100%",
            overflow_x="auto",
        ),
        pager(
            AdminAuditState.page_label,
            AdminAuditState.has_prev,
            AdminAuditState.has_next,
            AdminAuditState.prev_page,
            AdminAuditState.next_page,
        ),
        spacing="3",
        width="100%",
    )
