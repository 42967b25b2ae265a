"""Обзор: the landing page — the signed-in user's sources at a glance."""

from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.formatting import integer, moment
from socstat.models.accounts import User
from socstat.services.authz import PermissionDenied
from socstat.services.overview import RECENT_DAYS, overview
from socstat.ui.auth import AuthState, protected
from socstat.ui.components.layout import page_frame
from socstat.ui.routing import page

_UNKNOWN = "—"
FIGURE_KEYS = ("sources", "active", "attention", "last_run", "posts", "views")


def load_summary(session: Session, actor: User) -> dict[str, str]:
    """Display strings of the actor's overview (only sources the actor may see)."""
    figures = overview(session, actor=actor)
    return {
        "sources": str(figures.sources),
        "active": str(figures.active),
        "attention": str(figures.needs_attention),
        "last_run": moment(figures.last_collected_at, actor.timezone),
        "posts": integer(figures.recent_posts),
        "views": integer(figures.recent_views),
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
