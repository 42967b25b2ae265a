"""Обзор: the landing page — the signed-in user's sources at a glance."""

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.models.accounts import User
from socstat.services.analytics import Scope, installation_today, preset_period, scope_state, totals
from socstat.services.authz import PermissionDenied
from socstat.ui.auth import AuthState, protected
from socstat.ui.components.layout import page_frame
from socstat.ui.format import format_moment
from socstat.ui.pages.sources import format_int
from socstat.ui.routing import page

_UNKNOWN = "—"
FIGURE_KEYS = ("sources", "active", "attention", "last_run", "posts", "views")


RECENT_DAYS = 7


def load_summary(session: Session, actor: User) -> dict[str, str]:
    """Display strings of the actor's overview (only sources the actor may see)."""
    state = scope_state(session, actor=actor, scope=Scope())
    period = preset_period(f"{RECENT_DAYS}d", installation_today())
    posts = totals(session, actor=actor, scope=Scope(kinds=("post",)), period=period).current
    return {
        "sources": str(state.sources),
        "active": str(state.active),
        "attention": str(state.needs_attention),
        "last_run": format_moment(state.last_collected_at, actor.timezone),
        "posts": format_int(posts.posts),
        "views": format_int(posts.views.value),
    }


class HomeState(AuthState):
    summary: dict[str, str] = dict.fromkeys(FIGURE_KEYS, _UNKNOWN)

    @rx.event
    async def load(self) -> Any:
        try:
            self.summary = await self._as_actor(load_summary)
        except PermissionDenied as exc:
            return self._denied(exc)
        return None


def _figure(label: str, value: rx.Var, testid: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="7", data_testid=testid),
            spacing="1",
        ),
        min_width="200px",
    )


@page(route="/", title="Обзор — socstat", on_load=protected(HomeState.load))
def home() -> rx.Component:
    return page_frame(
        "Обзор",
        rx.flex(
            _figure("Источников", HomeState.summary["sources"], "figure-sources"),
            _figure("Активных", HomeState.summary["active"], "figure-active"),
            _figure("Требуют внимания", HomeState.summary["attention"], "figure-attention"),
            _figure("Последний сбор", HomeState.summary["last_run"], "figure-last-run"),
            _figure(f"Постов за {RECENT_DAYS} дней", HomeState.summary["posts"], "figure-posts"),
            _figure(
                f"Просмотров постов за {RECENT_DAYS} дней",
                HomeState.summary["views"],
                "figure-views",
            ),
            wrap="wrap",
            spacing="4",
        ),
        rx.link("Все источники →", href="/sources", data_testid="home-sources-link"),
    )
