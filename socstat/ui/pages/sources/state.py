"""The sources page's state (its plain logic is in ``view``).

Authorization (re-checked in every handler, from the session token):
* the list is ``sources.listing.source_cards`` (analyst: own; director: own + team,
  read-only; admin: everything) with the other subscribers the actor may know about;
* adding is the shared form (``ui/components/add_sources``): the actor subscribes only
  themselves, and the new sources' first collection runs in its background task;
* tags change on the actor's OWN subscription only (``sources.tags``), and so do the
  content kinds it counts (``sources.kinds``; saved at once through ``form_action``);
* removing removes the actor's OWN subscription only (``remove_subscription`` without
  ``user_id``), also for admins — the source and its data stay;
* "Обновить сейчас" collects the sources the actor subscribes to (for every role);
  ``collect_sources(actor=...)`` re-checks that the actor may manage each of them. One
  refresh per user at a time: an in-process set plus the run journal (another worker).

The filters and the sort live in the URL (``?q=…&status=…&tag=…&sort=…&desc=1``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from typing import Any

import reflex as rx

from socstat.db import run_in_session
from socstat.models import User
from socstat.services.authz import PermissionDenied
from socstat.services.collection import (
    CollectionBusy,
    RunSummary,
    Trigger,
    collect_sources,
    make_collector,
)
from socstat.services.errors import FieldError
from socstat.services.sources.listing import (
    ListSort,
    StatusFilter,
)
from socstat.services.sources.refresh import running_manual_run
from socstat.ui.auth import AuthState
from socstat.ui.components.add_sources import AddSourcesMixin, run_as
from socstat.ui.components.forms import form_action
from socstat.ui.pages.sources.view import (
    ALL,
    change_kinds,
    change_tag,
    list_view,
    refresh_plan,
    remove_source,
    summary_text,
)
from socstat.ui.viewmodels import InputError, parse_source_id

log = logging.getLogger(__name__)

ROUTE = "/sources"
WATCH_SECONDS = 3.0
WATCH_LIMIT = 200  # ten minutes of WATCH_SECONDS

# Users with a refresh in progress in this process (the event loop is single-threaded:
# checking and adding happen without an await in between, so no lock is needed).
_REFRESHING: set[int] = set()


# --- state ---------------------------------------------------------------------------


class SourcesState(AuthState, AddSourcesMixin):
    own_cards: list[dict[str, str]] = []
    other_cards: list[dict[str, str]] = []
    card_tags: dict[str, list[str]] = {}
    card_kinds: dict[str, list[str]] = {}
    # form_action's: the kinds control being saved ("kinds-<source id>") and its error
    saving: str = ""
    errors: dict[str, str] = {}
    tag_options: list[str] = []
    others_heading: str = ""
    total: int = 0
    problems: list[str] = []
    search: str = ""
    status: str = ALL
    tag: str = ALL
    sort: str = ListSort.NAME
    descending: bool = False
    query: str = ""
    any_collecting: bool = False
    watching: bool = False
    _shown_version: int = 0  # counts the lists shown (a background re-read checks it)
    loaded: bool = False
    tag_error_id: str = ""
    tag_error: str = ""
    refreshing: bool = False
    refresh_total: int = 0
    refresh_done: int = 0
    refresh_result: str = ""
    refresh_failed: bool = False
    confirm_open: bool = False
    confirm_id: str = ""
    confirm_name: str = ""

    @rx.var
    def has_cards(self) -> bool:
        return len(self.own_cards) + len(self.other_cards) > 0

    @rx.var
    def refresh_progress(self) -> str:
        if not self.refreshing:
            return ""
        return f"Обновляется: {self.refresh_done} из {self.refresh_total}…"

    def _params(self) -> dict[str, str]:
        return {
            "q": self.search,
            "status": "" if self.status == ALL else self.status,
            "tag": "" if self.tag == ALL else self.tag,
            "sort": self.sort,
            "desc": "1" if self.descending else "",
        }

    def _apply(self, view: dict[str, Any]) -> None:
        for key, value in view.items():
            setattr(self, key, value)
        self.loaded = True
        self._shown_version += 1

    async def _show(self, params: dict[str, str]) -> list[Any]:
        """Show the list for ``params``; the events to send (the URL, the watcher)."""
        try:
            view = await self._as_actor(partial(list_view, params=params))
        except PermissionDenied as exc:
            return [self._denied(exc)]
        self._apply(view)
        url = ROUTE + (f"?{self.query}" if self.query else "")
        events = [rx.call_script(f"window.history.replaceState(null, '', {json.dumps(url)})")]
        if self.any_collecting and not self.watching:
            events.append(SourcesState.watch)
        return events

    async def _reload(self, token: str | None) -> bool:
        """Re-read the list (from a background task); whether a card is collecting."""
        async with self:
            params, version = self._params(), self._shown_version
        view = await run_as(token, partial(list_view, params=params))
        async with self:
            # a list shown meanwhile (the user changed a card's kinds, say) is newer than
            # this read: showing it would undo the change on screen until the next re-read
            if self._shown_version == version:
                self._apply(view)
            return self.any_collecting

    async def _sources_added(self, token: str | None, *, collected: bool) -> Any:
        collecting = await self._reload(token)
        return SourcesState.watch if collecting else None

    @rx.event
    async def load(self) -> Any:
        self.tag_error_id = ""
        self.errors = {}
        return await self._show(self._query_params())

    @rx.event(background=True)
    async def watch(self) -> Any:
        """While a card shows a collection in progress, re-read the list every few seconds
        (the collection may run here, in another process or in the scheduler)."""
        async with self:
            if self.watching:
                return
            self.watching = True
            token = self._session_token()
        try:
            for _ in range(WATCH_LIMIT):
                await asyncio.sleep(WATCH_SECONDS)
                if not await self._reload(token):
                    break
        except PermissionDenied:
            pass
        finally:
            async with self:
                self.watching = False

    @rx.event
    async def set_search(self, value: Any) -> Any:
        self.search = value[:100] if isinstance(value, str) else ""
        return await self._show(self._params())

    @rx.event
    async def set_sort(self, value: Any) -> Any:
        if value not in ListSort.LABELS:
            return None
        self.sort = value
        self.descending = value != ListSort.NAME  # numbers: the largest first
        return await self._show(self._params())

    @rx.event
    async def toggle_direction(self) -> Any:
        self.descending = not self.descending
        return await self._show(self._params())

    @rx.event
    async def set_status(self, value: Any) -> Any:
        if value != ALL and value not in StatusFilter.LABELS:
            return None
        self.status = value
        return await self._show(self._params())

    @rx.event
    async def set_tag_filter(self, value: Any) -> Any:
        self.tag = value[:100] if isinstance(value, str) and value else ALL
        return await self._show(self._params())

    async def _change_tag(self, raw_id: Any, tag: Any, *, add: bool) -> Any:
        ip = self._client_ip()
        self.tag_error_id = str(raw_id)[:12] if isinstance(raw_id, str | int) else ""
        self.tag_error = ""
        try:
            await self._as_actor(lambda s, u: change_tag(s, u, raw_id, tag, add=add, ip=ip))
        except PermissionDenied as exc:
            return self._denied(exc)
        except (FieldError, InputError) as exc:
            self.tag_error = str(exc)
            return None
        return await self._show(self._params())

    @rx.event
    async def add_tag(self, form: Any) -> Any:
        if not isinstance(form, dict):
            return None
        return await self._change_tag(form.get("source_id"), form.get("tag"), add=True)

    @rx.event
    async def remove_tag(self, source_id: Any, tag: Any) -> Any:
        return await self._change_tag(source_id, tag, add=False)

    @rx.event
    async def set_kinds(self, source_id: Any, kinds: Any) -> Any:
        """Save the content kinds a card's (own) subscription counts; the numbers reload."""
        raw = str(source_id)[:12] if isinstance(source_id, str | int) else ""
        ip = self._client_ip()

        async def reload(changed: bool) -> None:
            if changed:
                self._apply(await self._as_actor(partial(list_view, params=self._params())))

        form = f"kinds-{raw}"
        async for event in form_action(
            self,
            form,
            lambda s, u: change_kinds(s, u, source_id, kinds, ip=ip),
            fields={"kinds": form},
            after=reload,
        ):
            yield event

    @rx.event
    def ask_remove(self, source_id: Any) -> None:
        try:
            parsed = str(parse_source_id(source_id))
        except InputError:
            return
        row = next((r for r in self.own_cards if r["id"] == parsed), None)
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
        except PermissionDenied as exc:
            return self._denied(exc)
        except InputError as exc:
            return rx.toast.error(str(exc))
        return [rx.toast.success(message), *await self._show(self._params())]

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
        async with self:
            self.refreshing = False
            if summary is None:
                self.refresh_failed = True
                self.refresh_result = error
            else:
                self.refresh_failed = summary.sources_failed > 0 or bool(summary.error)
                self.refresh_result = summary_text(summary)
        try:
            collecting = await self._reload(token)
        except PermissionDenied as exc:
            async with self:
                return self._denied(exc)
        return SourcesState.watch if collecting else None

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
                progress = await run_in_session(lambda s: running_manual_run(s, actor=user))
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
