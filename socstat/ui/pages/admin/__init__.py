"""Администрирование: users, teams, system settings and the audit trail (admins only).

One module per tab, each with its state beside its components. Every handler goes
through :func:`~socstat.ui.pages.admin.common.admin_call`, which resolves the actor from
the session token and lets the services refuse non-admins (``PermissionDenied``). The
page only renders its tabs for ``AuthState.is_admin``, but that is cosmetic.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from socstat.ui.auth import AuthState, protected
from socstat.ui.components.layout import page_frame
from socstat.ui.pages.admin.audit import AdminAuditState, audit_tab
from socstat.ui.pages.admin.channels import AdminChannelsState
from socstat.ui.pages.admin.outbox import AdminOutboxState, outbox_tab
from socstat.ui.pages.admin.settings import AdminSettingsState, settings_tab
from socstat.ui.pages.admin.teams import AdminTeamsState, teams_tab
from socstat.ui.pages.admin.users import AdminUsersState, users_tab
from socstat.ui.routing import page

__all__ = [
    "AdminAuditState",
    "AdminChannelsState",
    "AdminSettingsState",
    "AdminTabsState",
    "AdminTeamsState",
    "AdminUsersState",
]
TABS = ("users", "teams", "settings", "outbox", "audit")


class AdminTabsState(rx.State):
    """The open tab; ``/admin?tab=settings`` opens one directly (links from other pages)."""

    tab: str = "users"

    @rx.event
    def open_requested(self) -> Any:
        requested = self.router.url.query_parameters.get("tab", "")
        self.tab = requested if requested in TABS else "users"
        return AdminOutboxState.load if self.tab == "outbox" else None  # loads on click

    @rx.event
    def set_tab(self, value: str) -> None:
        if value in TABS:
            self.tab = value


def _no_access() -> rx.Component:
    return rx.callout(
        "Нет доступа: раздел доступен только администраторам.",
        icon="shield-x",
        color_scheme="red",
        data_testid="no-access",
    )


@page(
    route="/admin",
    title="Администрирование — socstat",
    on_load=protected(
        AdminTabsState.open_requested,
        AdminUsersState.load,
        AdminTeamsState.load,
        AdminSettingsState.load,
        AdminChannelsState.load,
        AdminAuditState.load,
    ),
)
def admin_page() -> rx.Component:
    return page_frame(
        "Администрирование",
        rx.cond(
            AuthState.is_admin,
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Пользователи", value="users"),
                    rx.tabs.trigger("Команды", value="teams", on_click=AdminTeamsState.load),
                    rx.tabs.trigger("Настройки", value="settings"),
                    rx.tabs.trigger("Исходящие", value="outbox", on_click=AdminOutboxState.load),
                    rx.tabs.trigger("Журнал аудита", value="audit", on_click=AdminAuditState.load),
                    # a phone wraps the tabs onto a second line instead of cutting them
                    flex_wrap="wrap",
                    data_testid="admin-tabs",
                ),
                rx.tabs.content(users_tab(), value="users", padding_top="16px"),
                rx.tabs.content(teams_tab(), value="teams", padding_top="16px"),
                rx.tabs.content(settings_tab(), value="settings", padding_top="16px"),
                rx.tabs.content(outbox_tab(), value="outbox", padding_top="16px"),
                rx.tabs.content(audit_tab(), value="audit", padding_top="16px"),
                value=AdminTabsState.tab,
                on_change=AdminTabsState.set_tab,
                width="100%",
            ),
            rx.cond(AuthState.signed_in, _no_access(), rx.spinner()),
        ),
    )
