"""The add-sources form, shared by «Источники» and the empty dashboard.

A state that shows the form mixes in :class:`AddSourcesMixin` next to ``AuthState``
(``class SourcesState(AuthState, AddSourcesMixin)``) and may override
``_sources_added`` to refresh its own view. Adding resolves the links with no database
session open, subscribes the actor only (``resolve_links`` → ``subscribe`` without
``user_id``), then — still in the background task, never in the request — runs the new
sources' first collection (``collect_first``) and calls ``_sources_added`` again.
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
from socstat.services.authz import PermissionDenied
from socstat.services.collection import make_collector
from socstat.services.sources import (
    AddOutcome,
    AddResult,
    ResolvedLink,
    check_can_subscribe,
    resolve_links,
    subscribe,
)
from socstat.services.sources.first_collection import collect_first, needing_first_collection
from socstat.ui.auth import AuthState, resolve_actor
from socstat.ui.components.forms import form, form_error
from socstat.ui.viewmodels import InputError

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


def result_view(result: AddResult) -> dict[str, str]:
    """One line of the form's results (strings only)."""
    return {
        "link": result.link,
        "outcome": result.outcome,
        "label": OUTCOME_LABELS.get(result.outcome, result.outcome),
        "message": result.message,
        "name": result.name,
        "source_id": str(result.source_id or ""),
    }


def add_links(
    session: Session, user: User, resolved: list[ResolvedLink], ip: str = ""
) -> list[AddResult]:
    """Subscribe the user to each resolved link's community; one result per link."""
    return subscribe(session, actor=user, resolved=resolved, ip=ip)


async def resolve(links: list[str]) -> list[ResolvedLink]:
    """Ask the platform about the links with a collector of our own (no DB session held)."""
    collector = await asyncio.to_thread(make_collector)
    try:
        return await resolve_links(collector, links)
    finally:
        await collector.aclose()


async def run_as(token: str | None, work: Callable[[Session, User], T]) -> T:
    """`AuthState._as_actor` for background events: same fresh resolution from the token,
    one DB session in a worker thread, but it does not touch the state (so it can run
    outside ``async with self``). Raises PermissionDenied like `_as_actor`."""

    def _run(session: Session) -> T:
        return work(session, resolve_actor(session, token, allow_unenrolled=False))

    return await run_in_session(_run)


class AddSourcesMixin(rx.State, mixin=True):
    """The form's vars and its background handler (mix into an ``AuthState`` subclass)."""

    links_text: str = ""
    add_error: str = ""
    add_results: list[dict[str, str]] = []
    adding: bool = False
    first_collecting: bool = False
    first_collected: bool = False  # done, and the page waits for the user to read the results

    @rx.event
    def set_links_text(self, value: Any) -> None:
        self.links_text = value[: MAX_TEXT_LENGTH + 1] if isinstance(value, str) else ""

    async def _sources_added(self, token: str | None, *, collected: bool) -> Any:
        """Called (outside ``async with self``) once something was added, and again after
        the first collection; ``collected``: nothing is left to collect. An event to send
        to the browser, or None."""
        return None

    @rx.event(background=True)
    async def add(self, form: dict[str, Any]) -> Any:
        raw = form.get("links", "") if isinstance(form, dict) else ""
        async with self:
            if self.adding:
                return
            self.add_results = []
            self.first_collected = False
            try:
                links = parse_links(raw)
            except InputError as exc:
                self.add_error = str(exc)
                return
            self.add_error = ""
            self.adding = True
            token, ip = self._session_token(), self._client_ip()  # type: ignore[attr-defined]
        try:
            user = await run_as(token, _may_subscribe)
            resolved = await resolve(links)
            results = await run_as(token, lambda s, u: add_links(s, u, resolved, ip))
        except PermissionDenied as exc:
            async with self:
                self.adding = False
                yield self._denied(exc)  # type: ignore[attr-defined]
            return
        except Exception:
            log.exception("adding sources failed")
            async with self:
                self.adding = False
                self.add_error = "Не удалось добавить источники. Попробуйте ещё раз позже."
            return
        new = needing_first_collection(results)
        async with self:
            self.adding = False
            self.add_results = [result_view(r) for r in results]
            self.first_collecting = bool(new)
            if all(r.outcome != AddOutcome.ERROR for r in results):
                self.links_text = ""
        if all(r.outcome == AddOutcome.ERROR for r in results):
            return
        yield await self._sources_added(token, collected=not new)
        if not new:
            return
        try:
            await collect_first(actor=user, source_ids=new)
        except Exception:
            log.exception("the first collection of %s failed", new)
        async with self:
            self.first_collecting = False
        yield await self._sources_added(token, collected=True)


def _may_subscribe(session: Session, user: User) -> User:
    """The actor, if they may add sources (PermissionDenied otherwise)."""
    check_can_subscribe(session, actor=user)
    return user


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


def add_sources_form(
    state: type[AddSourcesMixin], *, heading: str = "Добавить сообщества"
) -> rx.Component:
    """The card with the links field, the «Добавить» button and the per-link results."""
    examples = add_source_examples()
    return rx.card(
        form(
            rx.vstack(
                rx.heading(heading, size="4", as_="h2"),
                rx.text(
                    f"Ссылки или короткие имена сообществ ВКонтакте, по одной в строке "
                    f"(не больше {MAX_LINKS}), например: {', '.join(examples)}.",
                    size="2",
                    color_scheme="gray",
                    data_testid="add-hint",
                ),
                rx.text_area(
                    name="links",
                    value=state.links_text,
                    on_change=state.set_links_text,
                    placeholder="\n".join(examples[:2]),
                    rows="4",
                    width="100%",
                    max_length=MAX_TEXT_LENGTH,
                    aria_label="Ссылки на сообщества",
                    data_testid="links-input",
                ),
                form_error(state.add_error, testid="add-error"),
                rx.hstack(
                    rx.button(
                        "Добавить", type="submit", loading=state.adding, data_testid="add-submit"
                    ),
                    rx.cond(
                        state.first_collecting,
                        rx.text(
                            "Собираем данные новых сообществ…",
                            size="2",
                            color_scheme="gray",
                            data_testid="add-collecting",
                        ),
                    ),
                    rx.cond(
                        state.first_collected,
                        rx.button(
                            "Данные собраны — показать числа",
                            variant="soft",
                            type="button",
                            on_click=rx.call_script("window.location.reload()"),
                            data_testid="add-show-numbers",
                        ),
                    ),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(
                    state.add_results.length() > 0,
                    rx.vstack(
                        rx.foreach(state.add_results, _add_result),
                        spacing="1",
                        width="100%",
                        data_testid="add-results",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=state.add,
            width="100%",
        ),
        width="100%",
        data_testid="add-sources",
    )


class AddSourcesState(AuthState, AddSourcesMixin):
    """The form on its own (the empty dashboard): while the new sources' first collection
    runs the form says so under its results; then the page reloads, and its own on_load
    shows the numbers. When a line failed, the page stays with the results (a reload would
    hide which line and why) and offers the numbers with a button."""

    async def _sources_added(self, token: str | None, *, collected: bool) -> Any:
        if not collected:
            return None
        async with self:
            if any(r["outcome"] == AddOutcome.ERROR for r in self.add_results):
                self.first_collected = True
                return None
        return rx.call_script("window.location.reload()")
