"""The notification bell in the header of every page: unread count, link to the centre."""

from __future__ import annotations

from typing import Any

import reflex as rx

from socstat.services.alerts import unread_count
from socstat.services.authz import PermissionDenied
from socstat.ui.auth import AuthState


class BellState(AuthState):
    unread: int = 0

    @rx.var
    def badge(self) -> str:
        return "99+" if self.unread > 99 else str(self.unread)

    @rx.event
    async def refresh(self) -> Any:
        """Re-read the actor's unread count (the bell mounts with every page)."""
        if not self._session_token():
            self.unread = 0
            return None
        try:
            self.unread = await self._as_actor(lambda s, u: unread_count(s, actor=u))
        except PermissionDenied:
            self.unread = 0
        return None


def bell(testid: str = "bell", *, refreshes: bool = True) -> rx.Component:
    """The bell; ``refreshes``: it re-reads the count when mounted (one bell per page
    should: the desktop and the phone header are both in the page, one of them hidden)."""
    return rx.cond(
        AuthState.signed_in,
        rx.link(
            rx.box(
                rx.icon("bell", size=20),
                rx.cond(
                    BellState.unread > 0,
                    rx.badge(
                        BellState.badge,
                        color_scheme="red",
                        variant="solid",
                        radius="full",
                        size="1",
                        position="absolute",
                        top="-8px",
                        right="-12px",
                        data_testid=f"{testid}-badge",
                    ),
                ),
                position="relative",
                padding="4px",
            ),
            href="/notifications",
            aria_label="Уведомления",
            color=rx.color("gray", 12),
            data_testid=testid,
            **({"on_mount": BellState.refresh} if refreshes else {}),
        ),
    )
