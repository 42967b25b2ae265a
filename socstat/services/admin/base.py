"""What the admin use cases share: the error type, the typed results, finding a user or
a team by id, and the audit entry every change writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from socstat.models.accounts import Team, User
from socstat.services import audit
from socstat.services.accounts import AccountError, UserView


class AdminError(AccountError):
    """An invalid admin request; ``str(exc)`` is a Russian message."""


@dataclass(frozen=True)
class TeamRef:
    """A team a user belongs to."""

    id: int
    name: str


@dataclass(frozen=True)
class AdminUser(UserView):
    """A user as the admin sees it: the plain view plus the teams they are a member of,
    the names of the teams they direct and, from ``get_user`` only, how many sessions
    they have open (None where not counted)."""

    teams: tuple[TeamRef, ...] = ()
    led_teams: tuple[str, ...] = ()
    active_sessions: int | None = None


@dataclass(frozen=True)
class UserPage:
    """One page of ``list_users`` and how many users match in all."""

    items: list[AdminUser]
    total: int


@dataclass(frozen=True)
class CreatedUser:
    """A new user; ``password`` is set only when it was generated (show it once)."""

    user: UserView
    password: str | None = None


@dataclass(frozen=True)
class RoleChange:
    """The user after ``set_role`` and the role they had before."""

    user: UserView
    old_role: str


@dataclass(frozen=True)
class TeamView:
    """A team with its director (None when not named) and members, by email."""

    id: int
    name: str
    director: UserView | None
    members: tuple[UserView, ...]


def user_row(session: Session, user_id: int) -> User:
    """The user with this id, or AdminError."""
    user = session.get(User, user_id)
    if user is None:
        raise AdminError("Пользователь не найден.")
    return user


def team_row(session: Session, team_id: int) -> Team:
    """The team with this id, or AdminError."""
    team = session.get(Team, team_id)
    if team is None:
        raise AdminError("Команда не найдена.")
    return team


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    target: User | Team,
    ip: str,
    details: dict[str, Any] | None = None,
    operator: bool = False,
) -> None:
    """The audit entry of an admin change to ``target``; ``operator``: made by the
    server's operator from the shell (the CLI), noted as ``via=cli``."""
    if operator:
        details = {**(details or {}), "via": "cli"}
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="user" if isinstance(target, User) else "team",
        target_id=target.id or "",
        details=details,
        ip=ip,
    )
