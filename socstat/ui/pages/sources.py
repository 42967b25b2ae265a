"""Источники: the tracked communities — list, add by links, unsubscribe, refresh now.

Authorization (re-checked in every handler, from the session token):
* the list is ``sources.list_sources`` (analyst: own; director: own + team, read-only;
  admin: everything) with the other subscribers the actor may know about;
* adding resolves the links with no DB session open, then subscribes the actor only
  (``resolve_links`` → ``subscribe`` without ``user_id``);
* removing removes the actor's OWN subscription only (``remove_subscription`` without
  ``user_id``), also for admins — the source and its data stay;
* "Обновить сейчас" collects the sources the actor subscribes to (for every role; a
  director cannot refresh a team member's sources, an admin does not refresh the whole
  system from here — that is the scheduler's or ``socstat collect``'s job);
  ``collect_sources(actor=...)`` re-checks that the actor may manage each of them. One
  refresh per user at a time: an in-process set plus the run journal (another worker).

The logic lives in plain functions taking ``(session, user, ...)`` so tests need no
Reflex state; the state only keeps plain dicts of strings for rendering.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx
from sqlmodel import Session

from socstat.db import run_in_session
from socstat.demo import add_source_examples
from socstat.models import User
from socstat.services import source_overview
from socstat.services.authz import PermissionDenied
from socstat.services.collection import (
    CollectionBusy,
    RunSummary,
    Trigger,
    collect_sources,
    make_collector,
    mark_interrupted_runs,
)
from socstat.services.sources import (
    AddOutcome,
    ResolvedLink,
    check_can_subscribe,
    list_sources,
    remove_subscription,
    resolve_links,
    subscribe,
)
from socstat.ui.auth import AuthState, protected, resolve_actor
from socstat.ui.components.forms import form, form_error
from socstat.ui.components.layout import page_frame
from socstat.ui.routing import page
from socstat.ui.viewmodels import InputError, parse_source_id, source_header

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_LINKS = 50
MAX_LINK_LENGTH = 300
MAX_TEXT_LENGTH = MAX_LINKS * (MAX_LINK_LENGTH + 2)

OUTCOME_LABELS: dict[str, str] = {
    AddOutcome.ADDED: "добавлено",
    AddOutcome.ALREADY: "уже отслеживается",
    AddOutcome.ERROR: "ошибка",
}

# Users with a refresh in progress in this process (the event loop is single-threaded:
# checking and adding happen without an await in between, so no lock is needed).
_REFRESHING: set[int] = set()


# --- plain logic (tested without Reflex) -----------------------------------------------


def parse_links(text: Any) -> list[str]:
    """One link or id per line: trimmed, blank lines dropped, duplicates folded."""
    if not isinstance(text, str):
        raise InputError("Введите ссылки на сообщества.")
    if len(text) > MAX_TEXT_LENGTH:
        raise InputError(f"Слишком длинный текст: не больше {MAX_LINKS} ссылок.")
    links = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if not links:
        raise InputError("Введите хотя бы одну ссылку или id сообщества.")
    if len(links) > MAX_LINKS:
        raise InputError(f"За один раз можно добавить не больше {MAX_LINKS} ссылок.")
    too_long = [link for link in links if len(link) > MAX_LINK_LENGTH]
    if too_long:
        raise InputError(f"Ссылка длиннее {MAX_LINK_LENGTH} символов: «{too_long[0][:40]}…».")
    return links


def source_rows(session: Session, user: User) -> list[dict[str, str]]:
    """The list page's rows (strings only; flags are "1" or "")."""
    rows = list_sources(session, actor=user)
    facts = source_overview.source_facts(session, actor=user, source_ids=[r.id for r in rows])
    out = []
    for row in rows:
        fact = facts.get(row.id)
        header = source_header(
            row,
            tz_name=user.timezone,
            history_start=fact.history_start if fact else None,
        )
        out.append(
            {
                **header,
                "link_label": row.url.removeprefix("https://").removeprefix("http://")
                or row.screen_name,
                "subscribers": str(row.subscribers),
                "mine": "1" if row.mine else "",
                "owners": ", ".join(fact.owners) if fact else "",
            }
        )
    return out


def add_links(
    session: Session, user: User, resolved: list[ResolvedLink], ip: str = ""
) -> list[dict[str, str]]:
    """Subscribe the user to each resolved link's community; one result dict per link."""
    results = subscribe(session, actor=user, resolved=resolved, ip=ip)
    return [
        {
            "link": r.link,
            "outcome": r.outcome,
            "label": OUTCOME_LABELS.get(r.outcome, r.outcome),
            "message": r.message,
            "name": r.name,
            "source_id": str(r.source_id or ""),
        }
        for r in results
    ]


async def resolve(links: list[str]) -> list[ResolvedLink]:
    """Ask the platform about the links with a collector of our own (no DB session held)."""
    collector = await asyncio.to_thread(make_collector)
    try:
        return await resolve_links(collector, links)
    finally:
        await collector.aclose()


def remove_source(session: Session, user: User, raw_id: Any, ip: str = "") -> str:
    """Unsubscribe the user from the source (own subscription only); its name."""
    source_id = parse_source_id(raw_id)
    try:
        remove_subscription(session, actor=user, source_id=source_id, ip=ip)
    except LookupError:
        raise InputError("Вы не отслеживаете этот источник.") from None
    return "Источник удалён из списка."


def refresh_plan(session: Session, user: User) -> tuple[User, list[int], bool]:
    """(the actor, the source ids to refresh, whether a manual run of theirs is running).

    Runs whose process died (no heartbeat) are marked interrupted first, so a dead run
    never makes the button answer "already running"."""
    mark_interrupted_runs(session)
    ids = source_overview.own_source_ids(session, actor=user)
    busy = source_overview.running_manual_run(session, actor=user) is not None
    return user, ids, busy


def summary_text(summary: RunSummary) -> str:
    text = (
        f"Обновление завершено: успешно {summary.sources_ok}, частично "
        f"{summary.sources_partial}, с ошибкой {summary.sources_failed}; "
        f"новых публикаций {summary.items_new}, обновлено {summary.items_updated}."
    )
    if summary.error:
        text += f" Ошибка: {summary.error[:300]}"
    return text


async def run_as(token: str, work: Callable[[Session, User], T]) -> T:
    """`AuthState._as_actor` for background events: same fresh resolution from the token,
    one DB session in a worker thread, but it does not touch the state (so it can run
    outside ``async with self``). Raises PermissionDenied like `_as_actor`."""

    def _run(session: Session) -> T:
        return work(session, resolve_actor(session, token, allow_unenrolled=False))

    return await run_in_session(_run)


# --- state ---------------------------------------------------------------------------


class SourcesState(AuthState):
    rows: list[dict[str, str]] = []
    loaded: bool = False
    links_text: str = ""
    add_error: str = ""
    add_results: list[dict[str, str]] = []
    adding: bool = False
    refreshing: bool = False
    refresh_total: int = 0
    refresh_done: int = 0
    refresh_result: str = ""
    refresh_failed: bool = False
    confirm_open: bool = False
    confirm_id: str = ""
    confirm_name: str = ""

    @rx.var
    def has_rows(self) -> bool:
        return len(self.rows) > 0

    @rx.var
    def refresh_progress(self) -> str:
        if not self.refreshing:
            return ""
        return f"Обновляется: {self.refresh_done} из {self.refresh_total}…"

    @rx.event
    async def load(self) -> Any:
        try:
            self.rows = await self._as_actor(source_rows)
        except PermissionDenied as exc:
            return self._denied(exc)
        self.loaded = True
        return None

    @rx.event
    def set_links_text(self, value: Any) -> None:
        self.links_text = value[: MAX_TEXT_LENGTH + 1] if isinstance(value, str) else ""

    @rx.event(background=True)
    async def add(self, form: dict[str, Any]) -> Any:
        raw = form.get("links", "") if isinstance(form, dict) else ""
        async with self:
            if self.adding:
                return None
            self.add_results = []
            try:
                links = parse_links(raw)
            except InputError as exc:
                self.add_error = str(exc)
                return None
            self.add_error = ""
            self.adding = True
            token, ip = self._session_token(), self._client_ip()
        try:
            await run_as(token, lambda s, u: check_can_subscribe(s, actor=u))
            resolved = await resolve(links)
            results = await run_as(token, lambda s, u: add_links(s, u, resolved, ip))
            rows = await run_as(token, source_rows)
        except PermissionDenied as exc:
            async with self:
                self.adding = False
                return self._denied(exc)
        except Exception:
            log.exception("adding sources failed")
            async with self:
                self.adding = False
                self.add_error = "Не удалось добавить источники. Попробуйте ещё раз позже."
            return None
        async with self:
            self.adding = False
            self.add_results = results
            self.rows = rows
            if all(r["outcome"] != AddOutcome.ERROR for r in results):
                self.links_text = ""
        return None

    @rx.event
    def ask_remove(self, source_id: Any) -> None:
        try:
            parsed = str(parse_source_id(source_id))
        except InputError:
            return
        row = next((r for r in self.rows if r["id"] == parsed), None)
        self.confirm_id = parsed
        self.confirm_name = row["name"] if row else ""
        self.confirm_open = True

    @rx.event
    def cancel_remove(self) -> None:
        self.confirm_open = False
        self.confirm_id = ""

    @rx.event
    async def confirm_remove(self) -> Any:
        raw, ip = self.confirm_id, self._client_ip()
        self.confirm_open = False
        self.confirm_id = ""
        try:
            message = await self._as_actor(lambda s, u: remove_source(s, u, raw, ip))
            self.rows = await self._as_actor(source_rows)
        except PermissionDenied as exc:
            return self._denied(exc)
        except InputError as exc:
            return rx.toast.error(str(exc))
        return rx.toast.success(message)

    @rx.event(background=True)
    async def refresh_now(self) -> Any:
        async with self:
            if self.refreshing:
                return None
            token = self._session_token()
        try:
            user, ids, busy = await run_as(token, refresh_plan)
        except PermissionDenied as exc:
            async with self:
                return self._denied(exc)
        if not ids:
            return rx.toast.info("Вы пока не отслеживаете ни одного источника.")
        assert user.id is not None
        if busy or user.id in _REFRESHING:
            return rx.toast.warning("Обновление уже идёт — дождитесь его окончания.")
        _REFRESHING.add(user.id)
        try:
            async with self:
                self.refreshing = True
                self.refresh_total = len(ids)
                self.refresh_done = 0
                self.refresh_result = ""
                self.refresh_failed = False
            summary, error = await self._collect_with_progress(user, ids)
        finally:
            _REFRESHING.discard(user.id)
        try:
            rows = await run_as(token, source_rows)
        except PermissionDenied as exc:
            async with self:
                self.refreshing = False
                return self._denied(exc)
        async with self:
            self.refreshing = False
            self.rows = rows
            if summary is None:
                self.refresh_failed = True
                self.refresh_result = error
            else:
                self.refresh_failed = summary.sources_failed > 0 or bool(summary.error)
                self.refresh_result = summary_text(summary)
        return None

    async def _collect_with_progress(
        self, user: User, ids: list[int]
    ) -> tuple[RunSummary | None, str]:
        collector = await asyncio.to_thread(make_collector)
        try:
            task = asyncio.create_task(
                collect_sources(
                    source_ids=ids, collector=collector, trigger=Trigger.MANUAL, actor=user
                )
            )
            while not task.done():
                await asyncio.wait({task}, timeout=1.0)
                if task.done():
                    break
                progress = await run_in_session(
                    lambda s: source_overview.running_manual_run(s, actor=user)
                )
                if progress is not None:
                    async with self:
                        self.refresh_done = min(progress.done, len(ids))
            return task.result(), ""
        except (PermissionDenied, CollectionBusy) as exc:
            return None, str(exc)
        except Exception:
            log.exception("manual refresh failed")
            return None, "Обновление не удалось. Попробуйте позже."
        finally:
            await collector.aclose()


# --- page ----------------------------------------------------------------------------


def _status_badge(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.badge(
            row["status_label"], color_scheme=row["status_color"], data_testid="source-status"
        ),
        rx.cond(
            row["status_reason"] != "",
            rx.text(row["status_reason"], size="1", color_scheme="gray"),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
    )


def _fact(label: str, value: rx.Var, testid: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="2", weight="medium", data_testid=testid),
        spacing="0",
        min_width="110px",
    )


def _source_card(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.avatar(src=row["photo"], fallback="VK", size="4", radius="full"),
                rx.vstack(
                    rx.link(
                        row["name"],
                        href="/sources/" + row["id"].to(str),
                        weight="bold",
                        size="3",
                        data_testid="source-name",
                    ),
                    rx.link(
                        row["link_label"],
                        href=row["url"],
                        is_external=True,
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="1",
                    min_width="0",
                ),
                rx.spacer(),
                rx.cond(
                    row["mine"] == "1",
                    rx.icon_button(
                        rx.icon("trash-2", size=16),
                        variant="ghost",
                        color_scheme="red",
                        aria_label="Перестать отслеживать",
                        title="Перестать отслеживать",
                        on_click=SourcesState.ask_remove(row["id"]),
                        data_testid="source-remove",
                    ),
                    rx.badge("только просмотр", variant="soft", color_scheme="gray"),
                ),
                width="100%",
                align="start",
                spacing="3",
            ),
            _status_badge(row),
            rx.cond(
                row["stale"] == "1",
                rx.callout(
                    "Данные устарели: " + row["stale_reason"].to(str),
                    icon="triangle-alert",
                    color_scheme="amber",
                    size="1",
                    width="100%",
                    data_testid="source-stale",
                ),
            ),
            rx.flex(
                _fact("Участники", row["members"], "source-members"),
                _fact("История с", row["history_start"], "source-history"),
                _fact("Последний сбор", row["last_collected"], "source-last-collected"),
                _fact("Подписчиков socstat", row["subscribers"], "source-subscribers"),
                wrap="wrap",
                spacing="4",
                width="100%",
            ),
            rx.cond(
                row["owners"] != "",
                rx.text("Отслеживают: " + row["owners"].to(str), size="1", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="source-card",
    )


def _add_form() -> rx.Component:
    return rx.card(
        form(
            rx.vstack(
                rx.heading("Добавить сообщества", size="4", as_="h2"),
                rx.text(
                    f"Ссылки или короткие имена сообществ ВКонтакте, по одной в строке "
                    f"(не больше {MAX_LINKS}), например: {', '.join(add_source_examples())}.",
                    size="2",
                    color_scheme="gray",
                    data_testid="add-hint",
                ),
                rx.text_area(
                    name="links",
                    value=SourcesState.links_text,
                    on_change=SourcesState.set_links_text,
                    placeholder="\n".join(add_source_examples()[:2]),
                    rows="4",
                    width="100%",
                    max_length=MAX_TEXT_LENGTH,
                    aria_label="Ссылки на сообщества",
                    data_testid="links-input",
                ),
                form_error(SourcesState.add_error, testid="add-error"),
                rx.button(
                    "Добавить",
                    type="submit",
                    loading=SourcesState.adding,
                    data_testid="add-submit",
                ),
                rx.cond(
                    SourcesState.add_results.length() > 0,
                    rx.vstack(
                        rx.foreach(SourcesState.add_results, _add_result),
                        spacing="1",
                        width="100%",
                        data_testid="add-results",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=SourcesState.add,
            width="100%",
        ),
        width="100%",
    )


def _add_result(result: rx.Var) -> rx.Component:
    color = rx.match(
        result["outcome"],
        (AddOutcome.ADDED, "green"),
        (AddOutcome.ALREADY, "blue"),
        "red",
    )
    return rx.hstack(
        rx.badge(result["label"], color_scheme=color),
        rx.text(result["link"], size="2", weight="medium", word_break="break-all"),
        rx.text(
            rx.cond(result["outcome"] == AddOutcome.ERROR, result["message"], result["name"]),
            size="2",
            color_scheme="gray",
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        data_testid="add-result",
        data_outcome=result["outcome"],
    )


def _refresh_bar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.button(
                rx.icon("refresh-cw", size=16),
                "Обновить сейчас",
                on_click=SourcesState.refresh_now,
                loading=SourcesState.refreshing,
                disabled=~SourcesState.has_rows,
                data_testid="refresh-now",
            ),
            rx.cond(
                SourcesState.refreshing,
                rx.text(SourcesState.refresh_progress, size="2", data_testid="refresh-progress"),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            SourcesState.refresh_result != "",
            rx.callout(
                SourcesState.refresh_result,
                icon=rx.cond(SourcesState.refresh_failed, "triangle-alert", "circle-check"),
                color_scheme=rx.cond(SourcesState.refresh_failed, "amber", "green"),
                width="100%",
                data_testid="refresh-result",
            ),
        ),
        width="100%",
        spacing="2",
    )


def _empty_state() -> rx.Component:
    return rx.callout(
        "Вы пока не отслеживаете ни одного сообщества. Вставьте ссылки в поле выше и "
        "нажмите «Добавить» — данные появятся после первого сбора (или нажмите «Обновить "
        "сейчас»).",
        icon="info",
        width="100%",
        data_testid="sources-empty",
    )


def _remove_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Перестать отслеживать?"),
            rx.alert_dialog.description(
                "«" + SourcesState.confirm_name + "» исчезнет из вашего списка. Уже собранные "
                "данные сохранятся; добавить источник можно снова в любой момент."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(
                        "Отмена",
                        variant="soft",
                        color_scheme="gray",
                        on_click=SourcesState.cancel_remove,
                    )
                ),
                rx.alert_dialog.action(
                    rx.button(
                        "Удалить",
                        color_scheme="red",
                        on_click=SourcesState.confirm_remove,
                        data_testid="remove-confirm",
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
        ),
        open=SourcesState.confirm_open,
    )


@page(route="/sources", title="Источники — socstat", on_load=protected(SourcesState.load))
def sources_page() -> rx.Component:
    return page_frame(
        "Источники",
        _add_form(),
        _refresh_bar(),
        rx.cond(
            SourcesState.has_rows,
            rx.grid(
                rx.foreach(SourcesState.rows, _source_card),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
                data_testid="sources-list",
            ),
            rx.cond(SourcesState.loaded, _empty_state()),
        ),
        _remove_dialog(),
    )
