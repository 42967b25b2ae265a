"""Users as the admin manages them: the filtered list, one user, creating a user (also
the operator's path from the CLI), changing a role, and the admin the CLI acts as."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from socstat.models.accounts import Role, Team, TeamMember, User
from socstat.services import accounts, sessions
from socstat.services.accounts import UserView
from socstat.services.admin.base import (
    AdminError,
    AdminUser,
    CreatedUser,
    RoleChange,
    TeamRef,
    UserPage,
    record,
    user_row,
)
from socstat.services.authz import require_admin
from socstat.services.passwords import generate_password

MAX_PAGE = 500


def teams_of(session: Session, user_ids: list[int]) -> dict[int, list[TeamRef]]:
    """The teams each of these users is a member of, by name."""
    result: dict[int, list[TeamRef]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return result
    rows = session.exec(
        select(TeamMember.user_id, Team.id, Team.name)
        .join(Team, col(Team.id) == col(TeamMember.team_id))
        .where(col(TeamMember.user_id).in_(user_ids))
        .order_by(col(Team.name))
    ).all()
    for user_id, team_id, name in rows:
        result[user_id].append(TeamRef(id=team_id or 0, name=name))
    return result


def _led_teams_of(session: Session, user_ids: list[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return result
    rows = session.exec(
        select(Team.director_id, Team.name)
        .where(col(Team.director_id).in_(user_ids))
        .order_by(col(Team.name))
    ).all()
    for director_id, name in rows:
        result[director_id or 0].append(name)
    return result


def _admin_users(session: Session, users: list[User]) -> list[AdminUser]:
    ids = [u.id for u in users if u.id is not None]
    teams, led = teams_of(session, ids), _led_teams_of(session, ids)
    return [
        AdminUser.of(
            u, teams=tuple(teams.get(u.id or 0, [])), led_teams=tuple(led.get(u.id or 0, []))
        )
        for u in users
    ]


def list_users(
    session: Session,
    *,
    actor: User | None,
    search: str = "",
    role: str | None = None,
    blocked: bool | None = None,
    limit: int = 50,
    offset: int = 0,
    operator: bool = False,
) -> UserPage:
    """Users matching a search in email/name, a role and the blocked state; by email, at
    most ``MAX_PAGE`` a page. ``operator``: the server's operator from the shell (the
    CLI) — no admin actor needed."""
    if not operator:
        require_admin(actor)
    query = select(User)
    text = search.strip().replace("%", "").replace("_", "")
    if text:
        # SQLite's lower() only folds ASCII: also match the typed and capitalised forms.
        variants = {text.lower(), text, text.capitalize(), text.title()}
        query = query.where(
            or_(
                col(User.email).like(f"%{text.lower()}%"),
                func.lower(col(User.name)).like(f"%{text.lower()}%"),
                *(col(User.name).like(f"%{v}%") for v in variants),
            )
        )
    if role:
        query = query.where(User.role == role)
    if blocked is True:
        query = query.where(col(User.blocked_at).is_not(None))
    elif blocked is False:
        query = query.where(col(User.blocked_at).is_(None))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    limit = max(1, min(int(limit), MAX_PAGE))
    users = session.exec(
        query.order_by(col(User.email)).limit(limit).offset(max(0, int(offset)))
    ).all()
    return UserPage(items=_admin_users(session, list(users)), total=int(total))


def get_user(session: Session, *, actor: User | None, user_id: int) -> AdminUser:
    """One user (as in ``list_users``) with the number of their active sessions."""
    require_admin(actor)
    user = user_row(session, user_id)
    [found] = _admin_users(session, [user])
    active = len(sessions.list_active_sessions(session, user=user))
    return AdminUser.of(user, teams=found.teams, led_teams=found.led_teams, active_sessions=active)


def create_user(
    session: Session,
    *,
    actor: User | None,
    email: str,
    role: str,
    name: str = "",
    password: str | None = None,
    ip: str = "",
    operator: bool = False,
) -> CreatedUser:
    """Create a confirmed user; with no password one is generated and returned once.
    ``operator``: called by the server's operator from the shell (the CLI, which also
    creates the first admin) — no admin actor needed, audited with ``via=cli``."""
    if not operator:
        require_admin(actor)
    generated = password is None
    password = password if password is not None else generate_password()
    user = accounts.create_user_record(
        session, email=email, role=role, name=name, password=password, confirmed=True
    )
    record(
        session,
        actor=actor,
        action="user.created",
        target=user,
        details={"email": user.email, "role": role},
        ip=ip,
        operator=operator,
    )
    return CreatedUser(user=UserView.of(user), password=password if generated else None)


def set_role(
    session: Session,
    *,
    actor: User | None,
    user_id: int,
    role: str,
    ip: str = "",
    operator: bool = False,
) -> RoleChange:
    """Change a user's role. An admin cannot demote themself, and nobody can demote the
    last active admin. ``operator``: as in ``create_user`` (the CLI)."""
    admin = None if operator else require_admin(actor)
    if role not in Role.ALL:
        raise AdminError("Неизвестная роль.")
    user = user_row(session, user_id)
    if admin is not None and user.id == admin.id and role != Role.ADMIN:
        raise AdminError("Нельзя снять роль администратора с самого себя.")
    old = user.role
    if old == Role.ADMIN and role != Role.ADMIN and _is_last_active_admin(session, user):
        raise AdminError("Нельзя снять роль с последнего администратора.")
    if old != role:
        user.role = role
        session.add(user)
        session.flush()
        record(
            session,
            actor=actor,
            action="user.role_changed",
            target=user,
            details={"old": old, "new": role},
            ip=ip,
            operator=operator,
        )
    return RoleChange(user=UserView.of(user), old_role=old)


def find_user_id(
    session: Session, *, actor: User | None, email: str, operator: bool = False
) -> int:
    """The id of the user with this email (any case); AdminError when there is none.
    ``operator``: as in ``create_user`` (the CLI)."""
    if not operator:
        require_admin(actor)
    user = accounts.get_user_by_email(session, email=email)
    if user is None:
        raise AdminError(f"Пользователь {accounts.normalize_email(email)} не найден.")
    return user.id or 0


def first_active_admin(session: Session) -> User | None:
    """The oldest active admin: whom the CLI acts as when no ``--as`` is given."""
    return session.exec(
        select(User)
        .where(User.role == Role.ADMIN, col(User.blocked_at).is_(None))
        .order_by(col(User.id))
    ).first()


def _is_last_active_admin(session: Session, user: User) -> bool:
    others = (
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, col(User.blocked_at).is_(None), User.id != user.id)
    )
    return user.blocked_at is None and session.exec(others).one() == 0
