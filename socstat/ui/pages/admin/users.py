"""The "Пользователи" tab: list, filters, new user, per-user actions, teams of a user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.formatting import moment as format_moment
from socstat.models.accounts import Role, User
from socstat.services import admin
from socstat.ui.auth import ROLE_LABELS, AuthState
from socstat.ui.components.checklist import checklist_dialog, id_list, toggled
from socstat.ui.components.controls import WIDE_ONLY, pager, static_select
from socstat.ui.components.forms import form, section, text_of
from socstat.ui.components.paging import PagedListMixin
from socstat.ui.pages.admin.common import ALL, ROLE_ITEMS, admin_call, admin_change
from socstat.ui.viewmodels import parse_id


def _user_row(item: admin.AdminUser, tz: str | None) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "email": item.email,
        "name": item.name or "—",
        "role": item.role,
        "role_label": ROLE_LABELS.get(item.role, item.role),
        "blocked": item.blocked,
        "invited": item.invited,
        "confirmed": item.confirmed,
        "totp": item.totp_enabled,
        "teams": ", ".join(
            [t.name for t in item.teams] + [f"{name} (руководитель)" for name in item.led_teams]
        )
        or "—",
        "team_ids": [str(t.id) for t in item.teams],
        "last_login": format_moment(item.last_login_at, tz),
    }


class AdminUsersState(PagedListMixin, AuthState):
    users: list[dict[str, Any]] = []
    page_size: int = 25
    empty_label: str = "Нет пользователей"
    search: str = ""
    role_filter: str = ALL
    blocked_filter: str = ALL
    team_options: list[dict[str, str]] = []
    loading: bool = False
    created_password: str = ""
    created_email: str = ""
    new_mode: str = "invite"
    new_role: str = Role.ANALYST
    teams_user_id: str = ""
    teams_user_email: str = ""
    teams_selected: list[str] = []

    async def _reload(self) -> Any:
        search = self.search
        role = self.role_filter if self.role_filter in Role.ALL else None
        blocked = {"blocked": True, "active": False}.get(self.blocked_filter)
        offset, page_size = self.offset, self.page_size

        def _work(session: Session, actor: User) -> dict[str, Any]:
            page = admin.list_users(
                session,
                actor=actor,
                search=search,
                role=role,
                blocked=blocked,
                limit=page_size,
                offset=offset,
            )
            teams = admin.list_teams(session, actor=actor)
            return {
                "users": [_user_row(item, actor.timezone) for item in page.items],
                "total": page.total,
                "teams": [{"id": str(t.id), "label": t.name} for t in teams],
            }

        self.loading = True
        ok, result = await admin_call(self, _work)
        self.loading = False
        if not ok:
            return result
        self.users = result["users"]
        self.total = result["total"]
        self.team_options = result["teams"]
        return None

    @rx.event
    async def load(self) -> Any:
        self.created_password = ""
        self.teams_user_id = ""
        if not self.is_admin:  # set by the guard just before; the page shows "Нет доступа"
            return None
        return await self._reload()

    @rx.event
    async def apply_search(self, form: dict[str, Any]) -> Any:
        self.search = text_of(form, "search", 200).strip()
        self.offset = 0
        return await self._reload()

    @rx.event
    async def set_role_filter(self, value: str) -> Any:
        self.role_filter = value if value in Role.ALL else ALL
        self.offset = 0
        return await self._reload()

    @rx.event
    async def set_blocked_filter(self, value: str) -> Any:
        self.blocked_filter = value if value in ("blocked", "active") else ALL
        self.offset = 0
        return await self._reload()

    @rx.event
    def set_new_mode(self, value: str) -> None:
        self.new_mode = "create" if value == "create" else "invite"

    @rx.event
    def set_new_role(self, value: str) -> None:
        self.new_role = value if value in Role.ALL else Role.ANALYST

    @rx.event
    async def add_user(self, form: dict[str, Any]) -> Any:
        email = text_of(form, "new_email", 320).strip()
        name = text_of(form, "new_name", 200).strip()
        role = self.new_role if self.new_role in Role.ALL else Role.ANALYST
        ip = self._client_ip()
        create = self.new_mode == "create"
        add = admin.create_user if create else admin.invite_user
        self.created_password = ""
        ok, result = await admin_call(
            self, lambda s, a: add(s, actor=a, email=email, role=role, name=name, ip=ip)
        )
        if not ok:
            return result
        if create:
            self.created_password = result.password or ""
            self.created_email = result.user.email
            message = "Пользователь создан."
        else:
            message = f"Приглашение отправлено на {result.email}."
        failed = await self._reload()
        return failed or [
            rx.toast.success(message),
            rx.call_script("document.getElementById('new-user-form')?.reset()"),
        ]

    async def _user_action(
        self, user_id: Any, action: Callable[..., Any], message: str, **params: Any
    ) -> Any:
        """``action(session, actor=…, user_id=…, ip=…, **params)`` on the user of the row."""
        target = parse_id(user_id)
        if target is None:
            return rx.toast.error("Пользователь не найден.")
        ip = self._client_ip()
        return await admin_change(
            self,
            lambda s, a: action(s, actor=a, user_id=target, ip=ip, **params),
            self._reload,
            rx.toast.success(message),
        )

    @rx.event
    async def block(self, user_id: str) -> Any:
        message = "Пользователь заблокирован, его сеансы завершены."
        return await self._user_action(user_id, admin.block_user, message)

    @rx.event
    async def unblock(self, user_id: str) -> Any:
        return await self._user_action(user_id, admin.unblock_user, "Пользователь разблокирован.")

    @rx.event
    async def change_role(self, user_id: str, role: str) -> Any:
        if role not in Role.ALL:
            return rx.toast.error("Неизвестная роль.")
        message = f"Роль изменена: {ROLE_LABELS[role]}."
        return await self._user_action(user_id, admin.set_role, message, role=role)

    @rx.event
    async def reset_2fa(self, user_id: str) -> Any:
        message = "Двухфакторная защита сброшена."
        return await self._user_action(user_id, admin.reset_two_factor, message)

    @rx.event
    async def revoke_sessions(self, user_id: str) -> Any:
        message = "Сеансы пользователя завершены."
        return await self._user_action(user_id, admin.revoke_user_sessions, message)

    @rx.event
    async def resend_invitation(self, user_id: str) -> Any:
        message = "Приглашение отправлено повторно."
        return await self._user_action(user_id, admin.resend_invitation, message)

    @rx.event
    def open_teams(self, user: dict[str, Any]) -> None:
        if not isinstance(user, dict):
            return
        self.teams_user_id = str(user.get("id", ""))
        self.teams_user_email = str(user.get("email", ""))[:320]
        self.teams_selected = id_list(user, "team_ids")

    @rx.event
    def close_teams(self) -> None:
        self.teams_user_id = ""

    @rx.event
    def toggle_team(self, team_id: str) -> None:
        self.teams_selected = toggled(self.teams_selected, team_id)

    @rx.event
    async def save_teams(self) -> Any:
        ids = [i for i in (parse_id(t) for t in self.teams_selected) if i is not None]
        message = "Команды пользователя сохранены."
        result = await self._user_action(
            self.teams_user_id, admin.set_user_teams, message, team_ids=ids
        )
        self.teams_user_id = ""
        return result


# --- view ----------------------------------------------------------------------------


def _user_actions(user: rx.Var) -> rx.Component:
    uid = user["id"]
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                rx.icon("ellipsis"),
                variant="ghost",
                aria_label="Действия",
                data_testid="user-actions",
            )
        ),
        rx.menu.content(
            rx.cond(
                user["blocked"],
                rx.menu.item(
                    "Разблокировать",
                    on_click=AdminUsersState.unblock(uid),
                    data_testid="action-unblock",
                ),
                rx.menu.item(
                    "Заблокировать",
                    color_scheme="red",
                    on_click=AdminUsersState.block(uid),
                    data_testid="action-block",
                ),
            ),
            rx.menu.sub(
                rx.menu.sub_trigger("Роль"),
                rx.menu.sub_content(
                    *[
                        rx.menu.item(label, on_click=AdminUsersState.change_role(uid, key))
                        for key, label in ROLE_ITEMS
                    ]
                ),
            ),
            rx.menu.item("Команды…", on_click=AdminUsersState.open_teams(user)),
            rx.cond(
                user["invited"],
                rx.menu.item(
                    "Отправить приглашение ещё раз",
                    on_click=AdminUsersState.resend_invitation(uid),
                ),
            ),
            rx.menu.separator(),
            rx.menu.item("Сбросить 2FA", on_click=AdminUsersState.reset_2fa(uid)),
            rx.menu.item("Завершить все сеансы", on_click=AdminUsersState.revoke_sessions(uid)),
        ),
    )


# On a phone the table scrolls sideways: the less needed columns hide (WIDE_ONLY), and
# the actions column stays pinned to the right edge so its menu is always reachable.
_STICKY_RIGHT: dict[str, Any] = {
    "position": "sticky",
    "right": "0",
    "background_color": "var(--color-panel-solid)",
    "z_index": "1",
}


def _user_row_view(user: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(user["email"], weight="medium"),
                rx.text(user["name"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(user["role_label"]),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    user["blocked"],
                    rx.badge("заблокирован", color_scheme="red"),
                    rx.cond(user["confirmed"], rx.badge("активен", color_scheme="gray")),
                ),
                rx.cond(user["invited"], rx.badge("приглашён", color_scheme="blue")),
                rx.cond(
                    ~user["confirmed"].to(bool) & ~user["invited"].to(bool),
                    rx.badge("не подтверждён", color_scheme="amber"),
                ),
                rx.cond(user["totp"], rx.badge("2FA", color_scheme="green")),
                wrap="wrap",
                spacing="1",
            )
        ),
        rx.table.cell(user["teams"], display=WIDE_ONLY),
        rx.table.cell(user["last_login"], display=WIDE_ONLY),
        rx.table.cell(_user_actions(user), **_STICKY_RIGHT),
        data_testid="user-row",
        data_email=user["email"],
    )


def _new_user_form() -> rx.Component:
    return form(
        rx.flex(
            rx.input(
                name="new_email",
                placeholder="email@example.ru",
                type="email",
                required=True,
                data_testid="new-email",
                min_width="200px",
                flex="2",
            ),
            rx.input(name="new_name", placeholder="Имя", min_width="140px", flex="1"),
            static_select(
                ROLE_ITEMS, AdminUsersState.new_role, AdminUsersState.set_new_role, "new-role"
            ),
            static_select(
                [("invite", "Пригласить по почте"), ("create", "Создать с паролем")],
                AdminUsersState.new_mode,
                AdminUsersState.set_new_mode,
                "new-mode",
            ),
            rx.button("Добавить", type="submit", data_testid="new-user-submit"),
            wrap="wrap",
            gap="2",
            width="100%",
        ),
        id="new-user-form",
        on_submit=AdminUsersState.add_user,
        width="100%",
    )


def _created_password() -> rx.Component:
    return rx.cond(
        AdminUsersState.created_password != "",
        rx.callout(
            rx.text(
                "Пароль для ",
                AdminUsersState.created_email,
                " (показывается один раз): ",
                rx.code(AdminUsersState.created_password, data_testid="created-password"),
            ),
            icon="key-round",
            color_scheme="amber",
            width="100%",
        ),
    )


def _filters() -> rx.Component:
    return rx.flex(
        form(
            rx.hstack(
                rx.input(
                    name="search",
                    placeholder="Поиск по почте или имени",
                    default_value=AdminUsersState.search,
                    data_testid="user-search",
                    width="280px",
                ),
                rx.button(rx.icon("search"), type="submit", variant="soft", aria_label="Искать"),
                spacing="2",
            ),
            on_submit=AdminUsersState.apply_search,
        ),
        static_select(
            [(ALL, "Все роли"), *ROLE_ITEMS],
            AdminUsersState.role_filter,
            AdminUsersState.set_role_filter,
            "role-filter",
        ),
        static_select(
            [(ALL, "Все статусы"), ("active", "Активные"), ("blocked", "Заблокированные")],
            AdminUsersState.blocked_filter,
            AdminUsersState.set_blocked_filter,
            "blocked-filter",
        ),
        wrap="wrap",
        gap="2",
        width="100%",
    )


def _users_table() -> rx.Component:
    wide = ("Команды", "Последний вход")
    headers = [
        rx.table.column_header_cell(h, **({"display": WIDE_ONLY} if h in wide else {}))
        for h in ("Пользователь", "Роль", "Статус", *wide)
    ]
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *headers,
                    rx.table.column_header_cell("", aria_label="Действия", **_STICKY_RIGHT),
                )
            ),
            rx.table.body(rx.foreach(AdminUsersState.users, _user_row_view)),
            width="100%",
            size="1",
        ),
        width="100%",
        overflow_x="auto",
    )


def users_tab() -> rx.Component:
    return rx.vstack(
        section("Новый пользователь", _new_user_form()),
        _created_password(),
        _filters(),
        _users_table(),
        pager(
            AdminUsersState.page_label,
            AdminUsersState.has_prev,
            AdminUsersState.has_next,
            AdminUsersState.prev_page,
            AdminUsersState.next_page,
        ),
        checklist_dialog(
            title="Команды пользователя",
            description=AdminUsersState.teams_user_email,
            options=AdminUsersState.team_options,
            selected=AdminUsersState.teams_selected,
            on_toggle=AdminUsersState.toggle_team,
            is_open=AdminUsersState.teams_user_id != "",
            on_cancel=AdminUsersState.close_teams,
            on_save=AdminUsersState.save_teams,
            empty_text="Команд пока нет.",
        ),
        spacing="3",
        width="100%",
    )
