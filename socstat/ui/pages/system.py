"""«Система» (/admin/system, admins only): dependencies, VK tokens, the scheduler, the job
journal, the outbox, backups and «Собрать сейчас». A thin view over services.system_status."""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.db import run_in_session
from socstat.formatting import integer
from socstat.formatting import moment as format_moment
from socstat.models import User
from socstat.scheduler import upcoming_jobs
from socstat.services import delivery
from socstat.services.authz import PermissionDenied
from socstat.services.collection import CollectionBusy
from socstat.services.system_status import SystemStatus, collect_everything_now, system_status
from socstat.ui.auth import AuthState, protected, resolve_actor
from socstat.ui.components.layout import page_frame
from socstat.ui.routing import page
from socstat.ui.viewmodels import parse_id

log = logging.getLogger(__name__)

STATE_LABELS = {"ok": "в порядке", "error": "ошибка", "off": "не настроен"}
STATE_COLORS = {"ok": "green", "error": "red", "off": "gray"}
JOB_STATUS = {
    "ok": "успешно",
    "partial": "частично",
    "failed": "ошибка",
    "running": "идёт",
    "interrupted": "прерван",
}


def size_text(size: int | None) -> str:
    if size is None:
        return "—"
    for unit, scale in (("ГБ", 1 << 30), ("МБ", 1 << 20), ("КБ", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}".replace(".", ",")
    return f"{size} Б"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} мин {rest} с" if minutes else f"{rest} с"


def status_view(status: SystemStatus, tz: str | None) -> dict[str, Any]:
    """The plain dicts the page shows."""
    check = [("База данных", status.database), ("Redis", status.redis), ("SMTP", status.smtp)]
    upcoming = upcoming_jobs(status.last_started)
    titles = {job_id: title for job_id, title, _ in upcoming}
    return {
        "checks": [
            {
                "name": name,
                "state": STATE_LABELS[c.state],
                "color": STATE_COLORS[c.state],
                "detail": c.detail or "—",
            }
            for name, c in check
        ],
        "tokens": [
            {
                "label": t.label or "—",
                "masked": t.masked,
                "state": "действует" if t.valid else "недействителен",
                "color": "green" if t.valid else "red",
                "reason": t.reason or "—",
            }
            for t in status.tokens
        ],
        "quotas": [
            {
                "masked": q.masked,
                "method": q.method,
                "used": integer(q.used),
                "left": integer(q.left),
                "limit": integer(q.limit),
            }
            for q in status.quotas
        ],
        "token_note": (
            f"Токенов из переменной SOCSTAT_VK_TOKENS: {status.env_tokens}. Ошибки VK в "
            "последнем сборе: "
            + (
                ", ".join(f"код {k} — {v}" for k, v in sorted(status.last_run_errors.items()))
                or "нет"
            )
            + ". Квота — на сегодня по московскому времени, по всем воркерам; токен, "
            "не использованный сегодня, в таблице квот не показан — у него вся квота."
        ),
        "leader": status.leader or "не определён (нет лидера или база SQLite)",
        "upcoming": [
            {
                "name": title,
                "next": format_moment(moment, tz),
                "last_ok": format_moment(status.last_success.get(job_id), tz),
            }
            for job_id, title, moment in upcoming
        ],
        "history": [
            {
                "id": str(j.id),
                "job": titles.get(j.job, j.job),
                "started": format_moment(j.started_at, tz),
                "duration": duration_text(j.duration_seconds),
                "status": JOB_STATUS.get(j.status, j.status),
                "error": j.error[:200] or "—",
            }
            for j in status.jobs
        ],
        "outbox": (
            f"Ожидают отправки: {status.outbox_pending}; не доставлены: {status.outbox_failed}"
        ),
        "failed": [
            {
                "id": str(m.id),
                "recipient": m.recipient,
                "subject": m.subject or "—",
                "attempts": str(m.attempts),
                "retryable": m.status == "failed",
                "error": m.last_error[:200] or "—",
            }
            for m in status.failed_messages
        ],
        "backup": {
            "last": format_moment(status.backup.last_at, tz),
            "size": size_text(status.backup.size_bytes),
            "count": str(status.backup.count),
            "folder": status.backup.folder,
            "restore": status.backup.restore_command,
        },
    }


def _load(session: Session, actor: User) -> dict[str, Any]:
    return status_view(system_status(session, actor=actor), actor.timezone)


class SystemState(AuthState):
    view: dict[str, Any] = {}
    loaded: bool = False
    collecting: bool = False
    collect_result: str = ""

    @rx.var
    def checks(self) -> list[dict[str, str]]:
        return self.view.get("checks", [])

    @rx.var
    def tokens(self) -> list[dict[str, str]]:
        return self.view.get("tokens", [])

    @rx.var
    def quotas(self) -> list[dict[str, str]]:
        return self.view.get("quotas", [])

    @rx.var
    def upcoming(self) -> list[dict[str, str]]:
        return self.view.get("upcoming", [])

    @rx.var
    def history(self) -> list[dict[str, str]]:
        return self.view.get("history", [])

    @rx.var
    def failed(self) -> list[dict[str, Any]]:
        return self.view.get("failed", [])

    @rx.var
    def backup(self) -> dict[str, str]:
        return self.view.get("backup", {})

    @rx.var
    def token_note(self) -> str:
        return self.view.get("token_note", "")

    @rx.var
    def leader(self) -> str:
        return self.view.get("leader", "")

    @rx.var
    def outbox(self) -> str:
        return self.view.get("outbox", "")

    @rx.event
    async def load(self) -> Any:
        try:
            self.view = await self._as_actor(_load)
        except PermissionDenied as exc:
            return self._denied(exc)
        self.loaded = True
        return None

    @rx.event
    async def retry(self, outbox_id: Any) -> Any:
        number = parse_id(outbox_id)
        if number is None:
            return rx.toast.error("Неизвестное сообщение.")
        ip = self._client_ip()
        try:
            done = await self._as_actor(
                lambda s, a: delivery.retry_message(s, actor=a, outbox_id=number, ip=ip)
            )
            self.view = await self._as_actor(_load)
        except PermissionDenied as exc:
            return self._denied(exc)
        if not done:
            return rx.toast.error("Это сообщение уже не в списке недоставленных.")
        return rx.toast.success("Сообщение снова в очереди.")

    @rx.event(background=True)
    async def collect_now(self) -> Any:
        async with self:
            if self.collecting:
                return None
            token = self._session_token()
            self.collecting = True
            self.collect_result = "Сбор идёт…"
        try:
            actor = await run_in_session(lambda s: resolve_actor(s, token, allow_unenrolled=False))
            summary = await collect_everything_now(actor=actor)
            message = (
                f"Сбор завершён: успешно {summary.sources_ok}, частично "
                f"{summary.sources_partial}, с ошибкой {summary.sources_failed}."
            )
        except PermissionDenied as exc:
            async with self:
                self.collecting = False
                self.collect_result = ""
                return self._denied(exc)
        except CollectionBusy:
            message = "Сбор уже идёт в другом процессе — дождитесь его окончания."
        except Exception:
            log.exception("collect-now failed")
            message = "Сбор не удался; подробности — в журнале сервера."
        async with self:
            self.collecting = False
            self.collect_result = message
        return SystemState.load


# --- view ----------------------------------------------------------------------------


def _table(headers: tuple[str, ...], rows: Any, cells: Any, testid: str) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, lambda row: rx.table.row(*cells(row)))),
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        data_testid=testid,
    )


def _section(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%"),
        width="100%",
    )


def _checks() -> rx.Component:
    return _table(
        ("Компонент", "Состояние", "Подробности"),
        SystemState.checks,
        lambda c: (
            rx.table.cell(c["name"]),
            rx.table.cell(rx.badge(c["state"], color_scheme=c["color"])),
            rx.table.cell(c["detail"]),
        ),
        "system-checks",
    )


def _tokens() -> rx.Component:
    return rx.vstack(
        _table(
            ("Название", "Токен", "Состояние", "Причина"),
            SystemState.tokens,
            lambda t: (
                rx.table.cell(t["label"]),
                rx.table.cell(rx.code(t["masked"])),
                rx.table.cell(rx.badge(t["state"], color_scheme=t["color"])),
                rx.table.cell(t["reason"]),
            ),
            "system-tokens",
        ),
        _table(
            ("Токен", "Метод", "Использовано сегодня", "Осталось", "Лимит в сутки"),
            SystemState.quotas,
            lambda q: (
                rx.table.cell(rx.code(q["masked"])),
                rx.table.cell(q["method"]),
                rx.table.cell(q["used"]),
                rx.table.cell(q["left"]),
                rx.table.cell(q["limit"]),
            ),
            "system-quotas",
        ),
        rx.text(SystemState.token_note, size="2", color_scheme="gray"),
        width="100%",
    )


def _scheduler() -> rx.Component:
    return rx.vstack(
        rx.text("Лидер планировщика: ", SystemState.leader, size="2"),
        _table(
            ("Задание", "Следующий запуск", "Последний успешный"),
            SystemState.upcoming,
            lambda j: (
                rx.table.cell(j["name"]),
                rx.table.cell(j["next"]),
                rx.table.cell(j["last_ok"]),
            ),
            "system-upcoming",
        ),
        _table(
            ("Задание", "Начато", "Длительность", "Результат", "Ошибка"),
            SystemState.history,
            lambda j: (
                rx.table.cell(j["job"]),
                rx.table.cell(j["started"]),
                rx.table.cell(j["duration"]),
                rx.table.cell(j["status"]),
                rx.table.cell(j["error"]),
            ),
            "system-history",
        ),
        width="100%",
    )


def _outbox() -> rx.Component:
    return rx.vstack(
        rx.text(SystemState.outbox, size="2", data_testid="system-outbox"),
        rx.cond(
            SystemState.failed.length() > 0,
            _table(
                ("Кому", "Тема", "Попыток", "Ошибка", ""),
                SystemState.failed,
                lambda m: (
                    rx.table.cell(m["recipient"]),
                    rx.table.cell(m["subject"]),
                    rx.table.cell(m["attempts"]),
                    rx.table.cell(m["error"]),
                    rx.table.cell(
                        rx.cond(
                            m["retryable"],
                            rx.button(
                                "Повторить",
                                size="1",
                                variant="soft",
                                on_click=SystemState.retry(m["id"]),
                                data_testid="system-retry",
                            ),
                        )
                    ),
                ),
                "system-failed",
            ),
        ),
        width="100%",
    )


def _backups() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Последняя копия: ",
            SystemState.backup["last"],
            ", размер ",
            SystemState.backup["size"],
            ", всего копий: ",
            SystemState.backup["count"],
            size="2",
            data_testid="system-backup",
        ),
        rx.text("Папка: ", rx.code(SystemState.backup["folder"]), size="2"),
        rx.text("Восстановление: ", rx.code(SystemState.backup["restore"]), size="2"),
        width="100%",
    )


def _collect() -> rx.Component:
    return rx.flex(
        rx.button(
            rx.icon("refresh-cw", size=16),
            "Собрать сейчас",
            on_click=SystemState.collect_now,
            loading=SystemState.collecting,
            data_testid="collect-now",
        ),
        rx.text(SystemState.collect_result, size="2", data_testid="collect-result"),
        gap="12px",
        align="center",
        wrap="wrap",
    )


def _content() -> rx.Component:
    return rx.vstack(
        _collect(),
        _section("Состояние", _checks()),
        _section("Токены VK", _tokens()),
        _section("Планировщик и задания", _scheduler()),
        _section("Очередь сообщений", _outbox()),
        _section("Резервные копии", _backups()),
        spacing="4",
        width="100%",
    )


@page(route="/admin/system", title="Система — socstat", on_load=protected(SystemState.load))
def system_page() -> rx.Component:
    return page_frame(
        "Система",
        rx.cond(
            AuthState.is_admin,
            rx.cond(SystemState.loaded, _content(), rx.spinner()),
            rx.cond(
                AuthState.signed_in,
                rx.callout(
                    "Нет доступа: раздел доступен только администраторам.",
                    icon="shield-x",
                    color_scheme="red",
                    data_testid="no-access",
                ),
                rx.spinner(),
            ),
        ),
    )
