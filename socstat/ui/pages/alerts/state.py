"""The /alerts page's state and plain logic: the user's own alert rules — list,
create/edit with validation and a 30-day preview, enable/disable, delete, history.

Every handler acts as the freshly resolved user through the alerts service, which
checks ownership (another user's rule id is "not found"); the state keeps strings only.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.formatting import moment as format_moment
from socstat.formatting import number as format_number
from socstat.models import User, utcnow
from socstat.services import alerts
from socstat.services.authz import PermissionDenied
from socstat.ui.auth import AuthState

KINDS = {"any": "все типы", "post": "посты", "video": "видео", "clip": "клипы"}
STATES = {
    "fired": "сработало",
    "resolved": "снова в норме",
    "skipped": "пропущено",
    "undelivered": "не доставлено",
}
COLORS = {"fired": "red", "resolved": "green", "undelivered": "orange"}
FIELDS = (
    "name", "rule_type", "scope", "source_id", "tag", "metric", "kind", "comparison",
    "threshold", "window", "quiet_from", "quiet_to",
)  # fmt: skip
EMPTY_FORM = {
    "name": "",
    "rule_type": "threshold",
    "scope": "mine",
    "source_id": "",
    "tag": "",
    "metric": "views",
    "kind": "any",
    "comparison": "ge",
    "threshold": "",
    "window": "day",
    "quiet_from": "",
    "quiet_to": "",
}
_NUMBER = re.compile(r"^-?\d{1,12}([.,]\d{1,6})?$")


class InputError(ValueError):
    """Bad input from the browser (Russian message)."""


def rule_fields(values: dict[str, str], channels: list[str], notify_resolved: bool) -> dict:
    """The service's keyword arguments from the form's strings."""
    raw = values.get("threshold", "").strip().replace(" ", "").replace("\u202f", "")
    if not _NUMBER.match(raw):
        raise InputError("Порог должен быть числом (например 100000 или 1,5).")
    source = values.get("source_id", "")
    if values.get("scope") == "source" and not source.isdigit():
        raise InputError("Выберите источник.")
    kind = values.get("kind", "any")
    return {
        "name": values.get("name", "")[:200],
        "rule_type": values.get("rule_type", ""),
        "scope": values.get("scope", ""),
        "source_id": int(source) if source.isdigit() and len(source) <= 10 else None,
        "tag": values.get("tag", "")[:100],
        "metric": values.get("metric", ""),
        "kind": None if kind == "any" else kind,
        "comparison": values.get("comparison", ""),
        "threshold": float(raw.replace(",", ".")),
        "window": values.get("window", ""),
        "channels": [c for c in channels if c in alerts.CHANNELS],
        "quiet_from": values.get("quiet_from", "")[:5],
        "quiet_to": values.get("quiet_to", "")[:5],
        "notify_resolved": notify_resolved,
    }


def _page_data(session: Session, user: User) -> dict[str, Any]:
    rules = alerts.list_alert_rules(session, actor=user, own_only=True)
    return {
        "rules": [
            {
                "id": str(r.id),
                "name": r.name or r.description,
                "description": r.description,
                "channels": ", ".join(alerts.CHANNELS[c] for c in r.channels),
                "enabled": "1" if r.enabled else "",
                "last": format_moment(r.last_triggered_at, user.timezone),
            }
            for r in rules
        ],
        "sources": [
            {"id": str(c.id), "name": c.name} for c in alerts.source_choices(session, actor=user)
        ],
        "tags": alerts.user_tags(session, user_id=user.id or 0),
    }


def _rule_form(session: Session, user: User, rule_id: int) -> dict[str, Any]:
    rule = alerts.get_alert_rule(session, actor=user, rule_id=rule_id)
    if rule.owner_id != user.id:
        raise LookupError("Правило не найдено.")
    values = {
        "name": rule.name,
        "rule_type": rule.rule_type,
        "scope": rule.scope,
        "source_id": str(rule.source_id or ""),
        "tag": rule.tag,
        "metric": rule.metric,
        "kind": rule.kind or "any",
        "comparison": rule.comparison,
        "threshold": f"{rule.threshold:g}",
        "window": rule.window,
        "quiet_from": rule.quiet_from,
        "quiet_to": rule.quiet_to,
    }
    return {"values": values, "channels": rule.channels, "notify_resolved": rule.notify_resolved}


def _history(session: Session, user: User, rule_id: int) -> list[dict[str, str]]:
    rule = alerts.get_alert_rule(session, actor=user, rule_id=rule_id)
    if rule.owner_id != user.id:
        raise LookupError("Правило не найдено.")
    entries = alerts.rule_history(session, actor=user, rule_id=rule_id)
    return [
        {
            "state": STATES.get(e.state, e.state),
            "color": COLORS.get(e.state, "gray"),
            "when": format_moment(e.created_at, user.timezone),
            "what": ""
            if e.channel
            else " · ".join(filter(None, [e.source_name, e.window_label, format_number(e.value)])),
            "reason": e.reason,
        }
        for e in entries
    ]


def _preview(session: Session, user: User, fields: dict) -> dict[str, Any]:
    result = alerts.preview_rule(session, actor=user, now=utcnow(), **fields)
    summary = (
        f"За 30 дней сработало бы {len(result.hits)} раз(а) из {result.checked} проверок."
        if result.checked
        else "За 30 дней проверять нечего: нет данных по выбранным источникам."
    )
    if result.skipped:
        summary += (
            f" Пропущено из-за неизвестных данных: {result.skipped} ({'; '.join(result.reasons)})."
        )
    hits = [
        {"source": h.source_name, "label": h.label, "value": format_number(h.value)}
        for h in result.hits[:50]
    ]
    return {"summary": summary, "hits": hits}


def _rule_id(raw: Any) -> int:
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 10:
        return int(raw)
    raise InputError("Неверный номер правила.")


class AlertsState(AuthState):
    rules: list[dict[str, str]] = []
    sources: list[dict[str, str]] = []
    tags: list[str] = []
    loaded: bool = False
    form_open: bool = False
    editing_id: str = ""
    values: dict[str, str] = dict(EMPTY_FORM)
    channels: list[str] = ["inapp"]
    notify_resolved: bool = False
    error: str = ""
    error_link: str = ""
    preview_summary: str = ""
    preview_hits: list[dict[str, str]] = []
    history_id: str = ""
    history: list[dict[str, str]] = []

    async def _run(self, work: Any) -> Any:
        """Run ``work(session, user)`` as the actor; errors become the form's message."""
        self.error, self.error_link = "", ""
        try:
            return True, await self._as_actor(work)
        except alerts.AlertRuleError as exc:
            self.error, self.error_link = str(exc), exc.link
        except (InputError, LookupError) as exc:
            self.error = str(exc).strip("'\"")
        return False, None

    async def _reload(self) -> None:
        data = await self._as_actor(_page_data)
        self.rules, self.sources, self.tags = data["rules"], data["sources"], data["tags"]
        self.loaded = True

    @rx.event
    async def load(self) -> Any:
        # A form left open on an earlier visit would come back half-filled.
        self.form_open, self.error, self.error_link = False, "", ""
        try:
            await self._reload()
        except PermissionDenied as exc:
            return self._denied(exc)
        return None

    @rx.event
    def new_rule(self) -> None:
        self.values = dict(EMPTY_FORM)
        self.channels, self.notify_resolved = ["inapp"], False
        self.editing_id, self.form_open = "", True
        self.error = self.error_link = self.preview_summary = ""
        self.preview_hits = []

    @rx.event
    def close_form(self) -> None:
        self.form_open = False

    @rx.event
    def set_value(self, name: Any, value: Any) -> None:
        if name in FIELDS and isinstance(value, str):
            self.values = {**self.values, name: value[:200]}
            self.preview_summary, self.preview_hits = "", []

    @rx.event
    def toggle_channel(self, channel: Any, checked: Any) -> None:
        if channel not in alerts.CHANNELS:
            return
        rest = [c for c in self.channels if c != channel]
        self.channels = [*rest, channel] if checked is True else rest

    @rx.event
    def set_notify_resolved(self, checked: Any) -> None:
        self.notify_resolved = checked is True

    def _fields(self) -> dict:
        return rule_fields(dict(self.values), list(self.channels), self.notify_resolved)

    @rx.event
    async def preview(self) -> Any:
        try:
            fields = self._fields()
        except InputError as exc:
            self.error = str(exc)
            return None
        try:
            ok, data = await self._run(lambda s, u: _preview(s, u, fields))
        except PermissionDenied as exc:
            return self._denied(exc)
        if ok:
            self.preview_summary, self.preview_hits = data["summary"], data["hits"]
        return None

    @rx.event
    async def save(self) -> Any:
        try:
            fields = self._fields()
            rule_id = _rule_id(self.editing_id) if self.editing_id else None
        except InputError as exc:
            self.error = str(exc)
            return None

        def _work(session: Session, user: User) -> None:
            if rule_id is None:
                alerts.create_alert_rule(session, actor=user, **fields)
            else:
                alerts.update_alert_rule(session, actor=user, rule_id=rule_id, **fields)

        try:
            ok, _ = await self._run(_work)
            if ok:
                self.form_open = False
                await self._reload()
                return rx.toast.success("Правило сохранено.")
        except PermissionDenied as exc:
            return self._denied(exc)
        return None

    async def _for_rule(self, raw_id: Any, action: Callable[[int], Awaitable[None]]) -> Any:
        """``action(rule_id)`` for the rule id the browser sent: a malformed id is ignored,
        a denial answered."""
        try:
            await action(_rule_id(raw_id))
        except InputError:
            return None
        except PermissionDenied as exc:
            return self._denied(exc)
        return None

    @rx.event
    async def edit(self, raw_id: Any) -> Any:
        async def action(rule_id: int) -> None:
            ok, data = await self._run(lambda s, u: _rule_form(s, u, rule_id))
            if ok:
                self.values = {**EMPTY_FORM, **data["values"]}
                self.channels, self.notify_resolved = data["channels"], data["notify_resolved"]
                self.editing_id, self.form_open = str(rule_id), True
                self.preview_summary, self.preview_hits = "", []

        return await self._for_rule(raw_id, action)

    @rx.event
    async def toggle_enabled(self, raw_id: Any, enabled: Any) -> Any:
        async def action(rule_id: int) -> None:
            await self._run(
                lambda s, u: alerts.set_alert_rule_enabled(
                    s, actor=u, rule_id=rule_id, enabled=enabled is True
                )
            )
            await self._reload()

        return await self._for_rule(raw_id, action)

    @rx.event
    async def delete(self, raw_id: Any) -> Any:
        async def action(rule_id: int) -> None:
            await self._run(lambda s, u: alerts.delete_alert_rule(s, actor=u, rule_id=rule_id))
            await self._reload()

        return await self._for_rule(raw_id, action)

    @rx.event
    async def show_history(self, raw_id: Any) -> Any:
        async def action(rule_id: int) -> None:
            ok, rows = await self._run(lambda s, u: _history(s, u, rule_id))
            if ok:
                self.history_id, self.history = str(rule_id), rows

        return await self._for_rule(raw_id, action)
