"""Admin tab «Исходящие»: messages the outbox gave up on (last error, «Повторить»)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.formatting import moment as format_moment
from socstat.models.accounts import User
from socstat.services import delivery
from socstat.ui.auth import AuthState
from socstat.ui.components.forms import section
from socstat.ui.pages.admin.common import admin_call, admin_change
from socstat.ui.viewmodels import parse_id


def _message_row(item: delivery.OutboxItem, tz: str) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "channel": item.channel,
        "recipient": item.recipient,
        "subject": item.subject or "—",
        "attempts": f"{item.attempts} из {item.max_attempts}",
        "error": item.last_error or "—",
        "created": format_moment(item.created_at, tz),
    }


class AdminOutboxState(AuthState):
    failed: list[dict[str, Any]] = []

    async def _reload(self) -> Any:
        def _work(session: Session, actor: User) -> list[dict[str, Any]]:
            items = delivery.list_messages(session, actor=actor, failed_only=True)
            return [_message_row(item, actor.timezone) for item in items]

        ok, result = await admin_call(self, _work)
        if not ok:
            return result
        self.failed = result
        return None

    @rx.event
    async def load(self) -> Any:
        if not self.is_admin:
            return None
        return await self._reload()

    @rx.event
    async def retry(self, outbox_id: str) -> Any:
        number = parse_id(outbox_id)
        if number is None:
            return rx.toast.error("Неизвестное сообщение.")
        ip = self._client_ip()
        return await admin_change(
            self,
            lambda s, a: delivery.retry_message(s, actor=a, outbox_id=number, ip=ip),
            self._reload,
            rx.toast.success("Сообщение снова в очереди."),
        )


S = AdminOutboxState


def _failed_row(item: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(item["created"]),
        rx.table.cell(item["channel"]),
        rx.table.cell(item["recipient"]),
        rx.table.cell(item["subject"]),
        rx.table.cell(item["attempts"]),
        rx.table.cell(rx.text(item["error"], size="1", color_scheme="red")),
        rx.table.cell(
            rx.button(
                "Повторить",
                size="1",
                variant="soft",
                on_click=S.retry(item["id"]),
                data_testid="outbox-retry",
            )
        ),
        data_testid="outbox-failed-row",
    )


def outbox_tab() -> rx.Component:
    return section(
        "Неотправленные сообщения",
        rx.cond(
            S.failed.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *(
                            rx.table.column_header_cell(title)
                            for title in (
                                "Создано",
                                "Канал",
                                "Получатель",
                                "Тема",
                                "Попытки",
                                "Последняя ошибка",
                                "",
                            )
                        )
                    )
                ),
                rx.table.body(rx.foreach(S.failed, _failed_row)),
                width="100%",
            ),
            rx.text("Все сообщения доставлены или ещё в очереди.", color_scheme="gray", size="2"),
        ),
    )
