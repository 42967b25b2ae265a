"""Who may see and do what: roles, teams and the acting user.

Every function takes the acting user (``actor``). Blocked users are refused everywhere:
:func:`require_active` is called by every check here.
"""

from __future__ import annotations

from sqlmodel import Session, select

from socstat.models.accounts import Role, Team, TeamMember, User


class PermissionDenied(Exception):
    """The acting user may not do this; ``str(exc)`` is a Russian message for the UI."""

    def __init__(self, message: str = "Недостаточно прав для этого действия.") -> None:
        super().__init__(message)


def require_active(actor: User | None) -> User:
    """The actor itself when signed in and not blocked; PermissionDenied otherwise."""
    if actor is None or actor.id is None:
        raise PermissionDenied("Войдите в систему.")
    if actor.blocked_at is not None:
        raise PermissionDenied("Учётная запись заблокирована.")
    return actor


def require_role(actor: User | None, *roles: str) -> User:
    """The actor when active and holding one of ``roles``; PermissionDenied otherwise."""
    user = require_active(actor)
    if user.role not in roles:
        raise PermissionDenied()
    return user


def require_admin(actor: User | None) -> User:
    """Shorthand for ``require_role(actor, Role.ADMIN)``."""
    return require_role(actor, Role.ADMIN)


def is_admin(actor: User | None) -> bool:
    """True for an active admin."""
    return actor is not None and actor.blocked_at is None and actor.role == Role.ADMIN


def directed_team_ids(session: Session, *, director_id: int) -> set[int]:
    """Ids of the teams the user directs."""
    rows = session.exec(select(Team.id).where(Team.director_id == director_id)).all()
    return {row for row in rows if row is not None}


def team_member_ids(session: Session, *, director_id: int) -> set[int]:
    """Ids of the members of every team the user directs."""
    teams = directed_team_ids(session, director_id=director_id)
    if not teams:
        return set()
    rows = session.exec(select(TeamMember.user_id).where(TeamMember.team_id.in_(teams))).all()
    return set(rows)


def visible_user_ids(session: Session, actor: User | None) -> set[int] | None:
    """Whose data the actor may read: analyst {self}; director self + team members;
    admin None (everyone)."""
    user = require_active(actor)
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.DIRECTOR:
        return {user.id, *team_member_ids(session, director_id=user.id)}
    return {user.id}


def can_read_user_data(session: Session, actor: User | None, owner_id: int) -> bool:
    """True when the actor may read the data (sources, reports, stats) of ``owner_id``."""
    try:
        visible = visible_user_ids(session, actor)
    except PermissionDenied:
        return False
    return visible is None or owner_id in visible


def can_write_user_data(session: Session, actor: User | None, owner_id: int) -> bool:
    """True when the actor may change the data of ``owner_id``: their own, or any as admin.
    Directors only read their team members' data."""
    if actor is None or actor.blocked_at is not None or actor.id is None:
        return False
    return actor.id == owner_id or actor.role == Role.ADMIN


def ensure_can_read_user_data(session: Session, actor: User | None, owner_id: int) -> None:
    """PermissionDenied unless :func:`can_read_user_data`."""
    require_active(actor)
    if not can_read_user_data(session, actor, owner_id):
        raise PermissionDenied("Нет доступа к данным этого пользователя.")


def ensure_can_write_user_data(session: Session, actor: User | None, owner_id: int) -> None:
    """PermissionDenied unless :func:`can_write_user_data`."""
    require_active(actor)
    if not can_write_user_data(session, actor, owner_id):
        raise PermissionDenied("Нет прав на изменение данных этого пользователя.")


def can_manage_user(session: Session, actor: User | None, target: User) -> bool:
    """True when the actor may administer ``target`` (role, block, 2FA reset): admins only."""
    return is_admin(actor)
