"""The "Команды" tab: create, rename, director, members, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.models.accounts import Role, User
from socstat.services import admin
from socstat.ui.auth import AuthState
from socstat.ui.components.checklist import checklist_dialog, id_list, toggled
from socstat.ui.components.controls import option_select
from socstat.ui.components.forms import form, section, text_of
from socstat.ui.pages.admin.common import NONE, admin_call, admin_change, user_option
from socstat.ui.viewmodels import parse_id


def _team_row(team: admin.TeamView) -> dict[str, Any]:
    director = team.director
    return {
        "id": str(team.id),
        "name": team.name,
        "director_id": str(director.id) if director else NONE,
        "director": (director.name or director.email) if director else "не назначен",
        "members": ", ".join(m.name or m.email for m in team.members) or "нет участников",
        "member_ids": [str(m.id) for m in team.members],
    }


class AdminTeamsState(AuthState):
    teams: list[dict[str, Any]] = []
    directors: list[dict[str, str]] = []
    people: list[dict[str, str]] = []
    new_director: str = NONE
    members_team_id: str = ""
    members_team_name: str = ""
    members_selected: list[str] = []

    async def _reload(self) -> Any:
        def _work(session: Session, actor: User) -> dict[str, Any]:
            teams = admin.list_teams(session, actor=actor)
            users = admin.list_users(session, actor=actor, limit=500).items
            return {
                "teams": [_team_row(t) for t in teams],
                "directors": [
                    user_option(u) for u in users if u.role in (Role.DIRECTOR, Role.ADMIN)
                ],
                "people": [user_option(u) for u in users if not u.blocked],
            }

        ok, result = await admin_call(self, _work)
        if not ok:
            return result
        self.teams = result["teams"]
        self.directors = [{"id": NONE, "label": "Без руководителя"}, *result["directors"]]
        self.people = result["people"]
        return None

    @rx.event
    async def load(self) -> Any:
        self.members_team_id = ""
        if not self.is_admin:
            return None
        return await self._reload()

    @rx.event
    def set_new_director(self, value: str) -> None:
        self.new_director = value if parse_id(value) else NONE

    async def _team_action(self, work: Callable[[Session, User], Any], message: str) -> Any:
        return await admin_change(self, work, self._reload, rx.toast.success(message))

    @rx.event
    async def create_team(self, form: dict[str, Any]) -> Any:
        name = text_of(form, "team_name", 200).strip()
        director = parse_id(self.new_director)
        ip = self._client_ip()
        result = await self._team_action(
            lambda s, a: admin.create_team(s, actor=a, name=name, director_id=director, ip=ip),
            "Команда создана.",
        )
        self.new_director = NONE
        return [result, rx.call_script("document.getElementById('new-team-form')?.reset()")]

    @rx.event
    async def rename_team(self, form: dict[str, Any]) -> Any:
        team_id = parse_id(text_of(form, "team_id", 32))
        name = text_of(form, "name", 200).strip()
        if team_id is None:
            return rx.toast.error("Команда не найдена.")
        ip = self._client_ip()
        return await self._team_action(
            lambda s, a: admin.rename_team(s, actor=a, team_id=team_id, name=name, ip=ip),
            "Команда переименована.",
        )

    @rx.event
    async def set_director(self, team_id: str, director_id: str) -> Any:
        team = parse_id(team_id)
        if team is None:
            return rx.toast.error("Команда не найдена.")
        director = parse_id(director_id)
        ip = self._client_ip()
        return await self._team_action(
            lambda s, a: admin.set_team_director(
                s, actor=a, team_id=team, director_id=director, ip=ip
            ),
            "Руководитель команды изменён.",
        )

    @rx.event
    async def delete_team(self, team_id: str) -> Any:
        team = parse_id(team_id)
        if team is None:
            return rx.toast.error("Команда не найдена.")
        ip = self._client_ip()
        return await self._team_action(
            lambda s, a: admin.delete_team(s, actor=a, team_id=team, ip=ip), "Команда удалена."
        )

    @rx.event
    def open_members(self, team: dict[str, Any]) -> None:
        if not isinstance(team, dict):
            return
        self.members_team_id = str(team.get("id", ""))
        self.members_team_name = str(team.get("name", ""))[:200]
        self.members_selected = id_list(team, "member_ids")

    @rx.event
    def close_members(self) -> None:
        self.members_team_id = ""

    @rx.event
    def toggle_member(self, user_id: str) -> None:
        self.members_selected = toggled(self.members_selected, user_id)

    @rx.event
    async def save_members(self) -> Any:
        team = parse_id(self.members_team_id)
        ids = [i for i in (parse_id(u) for u in self.members_selected) if i is not None]
        self.members_team_id = ""
        if team is None:
            return rx.toast.error("Команда не найдена.")
        ip = self._client_ip()
        return await self._team_action(
            lambda s, a: admin.set_team_members(s, actor=a, team_id=team, member_ids=ids, ip=ip),
            "Состав команды сохранён.",
        )


# --- view ----------------------------------------------------------------------------


def _team_card(team: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            form(
                rx.hstack(
                    rx.input(
                        name="name",
                        default_value=team["name"],
                        key=team["name"],
                        flex="1",
                        aria_label="Название",
                    ),
                    rx.el.input(type="hidden", name="team_id", value=team["id"]),
                    rx.button("Переименовать", type="submit", variant="soft"),
                    width="100%",
                ),
                on_submit=AdminTeamsState.rename_team,
                width="100%",
            ),
            rx.flex(
                rx.text("Руководитель:", size="2"),
                option_select(
                    AdminTeamsState.directors,
                    team["director_id"],
                    lambda v: AdminTeamsState.set_director(team["id"], v),
                    "team-director",
                ),
                wrap="wrap",
                gap="2",
                align="center",
            ),
            rx.text("Участники: ", team["members"], size="2"),
            rx.hstack(
                rx.button(
                    "Изменить состав",
                    variant="soft",
                    on_click=AdminTeamsState.open_members(team),
                ),
                rx.button(
                    "Удалить",
                    variant="soft",
                    color_scheme="red",
                    on_click=AdminTeamsState.delete_team(team["id"]),
                ),
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        data_testid="team-card",
    )


def _new_team_form() -> rx.Component:
    return form(
        rx.flex(
            rx.input(
                name="team_name",
                placeholder="Название",
                required=True,
                min_width="200px",
                flex="1",
            ),
            option_select(
                AdminTeamsState.directors,
                AdminTeamsState.new_director,
                AdminTeamsState.set_new_director,
                "new-team-director",
            ),
            rx.button("Создать", type="submit"),
            wrap="wrap",
            gap="2",
            width="100%",
        ),
        id="new-team-form",
        on_submit=AdminTeamsState.create_team,
        width="100%",
    )


def teams_tab() -> rx.Component:
    return rx.vstack(
        section("Новая команда", _new_team_form()),
        rx.cond(
            AdminTeamsState.teams.length() > 0,
            rx.foreach(AdminTeamsState.teams, _team_card),
            rx.text("Команд пока нет.", color_scheme="gray"),
        ),
        checklist_dialog(
            title="Состав команды",
            description=AdminTeamsState.members_team_name,
            options=AdminTeamsState.people,
            selected=AdminTeamsState.members_selected,
            on_toggle=AdminTeamsState.toggle_member,
            is_open=AdminTeamsState.members_team_id != "",
            on_cancel=AdminTeamsState.close_members,
            on_save=AdminTeamsState.save_members,
        ),
        spacing="3",
        width="100%",
    )
