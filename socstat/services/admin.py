"""Administration of users and teams. Every function is admin-only and audited.

Results are plain dicts for the UI. ``AdminError`` carries a Russian message for
invalid requests; ``PermissionDenied`` (from authz) for a non-admin actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_
from sqlmodel import Session, col, select

from socstat.models.accounts import Role, Team, TeamMember, User
from socstat.models.base import utcnow
from socstat.services import accounts, audit, sessions, twofactor
from socstat.services.accounts import AccountError, user_to_dict
from socstat.services.authz import require_admin
from socstat.services.passwords import generate_password


class AdminError(AccountError):
    """An invalid admin request; ``str(exc)`` is a Russian message."""


@dataclass(frozen=True)
class UserPage:
    items: list[dict[str, Any]]
    total: int


@dataclass(frozen=True)
class CreatedUser:
    """A new user; ``password`` is set only when it was generated (show it once)."""

    user: dict[str, Any]
    password: str | None = None


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AdminError("Пользователь не найден.")
    return user


def _team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise AdminError("Команда не найдена.")
    return team


def _teams_of(session: Session, user_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    result: dict[int, list[dict[str, Any]]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return result
    rows = session.exec(
        select(TeamMember.user_id, Team.id, Team.name)
        .join(Team, col(Team.id) == col(TeamMember.team_id))
        .where(col(TeamMember.user_id).in_(user_ids))
        .order_by(col(Team.name))
    ).all()
    for user_id, team_id, name in rows:
        result[user_id].append({"id": team_id, "name": name})
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
        result[director_id].append(name)
    return result


def _admin_user_dicts(session: Session, users: list[User]) -> list[dict[str, Any]]:
    ids = [u.id for u in users if u.id is not None]
    teams, led = _teams_of(session, ids), _led_teams_of(session, ids)
    return [
        {**user_to_dict(u), "teams": teams.get(u.id or 0, []), "led_teams": led.get(u.id or 0, [])}
        for u in users
    ]


# --- users ----------------------------------------------------------------------------


def list_users(
    session: Session,
    *,
    actor: User | None,
    search: str = "",
    role: str | None = None,
    blocked: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> UserPage:
    """Users matching a search in email/name, a role and the blocked state; by email.
    Each item: id, email, name, role, confirmed, invited, blocked, totp_enabled,
    created_at, last_login_at, teams [{id, name}] (member of), led_teams [name] (director of)."""
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
    limit = max(1, min(int(limit), 500))
    users = session.exec(
        query.order_by(col(User.email)).limit(limit).offset(max(0, int(offset)))
    ).all()
    return UserPage(items=_admin_user_dicts(session, list(users)), total=int(total))


def get_user(session: Session, *, actor: User | None, user_id: int) -> dict[str, Any]:
    """One user as a dict (as in ``list_users``) plus ``active_sessions``."""
    require_admin(actor)
    user = _user(session, user_id)
    [result] = _admin_user_dicts(session, [user])
    result["active_sessions"] = len(sessions.list_active_sessions(session, user=user))
    return result


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
    audit.record(
        session,
        actor=actor,
        action="user.created",
        target_type="user",
        target_id=user.id or "",
        details=_via({"email": user.email, "role": role}, operator=operator),
        ip=ip,
    )
    return CreatedUser(user=user_to_dict(user), password=password if generated else None)


def invite_user(
    session: Session, *, actor: User | None, email: str, role: str, name: str = "", ip: str = ""
) -> dict[str, Any]:
    """Create an account without a password and email an invitation link (72 h)."""
    admin = require_admin(actor)
    user = accounts.create_user_record(
        session, email=email, role=role, name=name, password=None, confirmed=False
    )
    accounts.send_invitation(session, user=user, invited_by=admin)
    audit.record(
        session,
        actor=actor,
        action="user.invited",
        target_type="user",
        target_id=user.id or "",
        details={"email": user.email, "role": role},
        ip=ip,
    )
    return user_to_dict(user)


def resend_invitation(session: Session, *, actor: User | None, user_id: int, ip: str = "") -> None:
    """Send a fresh invitation link to an account that has not set a password yet."""
    admin = require_admin(actor)
    user = _user(session, user_id)
    if user.password_hash is not None:
        raise AdminError("Пользователь уже задал пароль.")
    accounts.send_invitation(session, user=user, invited_by=admin)
    audit.record(
        session,
        actor=actor,
        action="user.invited",
        target_type="user",
        target_id=user_id,
        details={"email": user.email, "resend": True},
        ip=ip,
    )


def set_role(
    session: Session,
    *,
    actor: User | None,
    user_id: int,
    role: str,
    ip: str = "",
    operator: bool = False,
) -> dict[str, Any]:
    """Change a user's role. An admin cannot demote themself, and nobody can demote the
    last active admin. ``operator``: as in ``create_user`` (the CLI)."""
    admin = None if operator else require_admin(actor)
    if role not in Role.ALL:
        raise AdminError("Неизвестная роль.")
    user = _user(session, user_id)
    if admin is not None and user.id == admin.id and role != Role.ADMIN:
        raise AdminError("Нельзя снять роль администратора с самого себя.")
    old = user.role
    if old == Role.ADMIN and role != Role.ADMIN and _is_last_active_admin(session, user):
        raise AdminError("Нельзя снять роль с последнего администратора.")
    if old != role:
        user.role = role
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="user.role_changed",
            target_type="user",
            target_id=user_id,
            details=_via({"old": old, "new": role}, operator=operator),
            ip=ip,
        )
    return user_to_dict(user)


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


def _via(details: dict[str, Any], *, operator: bool) -> dict[str, Any]:
    return {**details, "via": "cli"} if operator else details


def block_user(
    session: Session, *, actor: User | None, user_id: int, ip: str = ""
) -> dict[str, Any]:
    """Block a user: every session stops working at once (not oneself)."""
    admin = require_admin(actor)
    user = _user(session, user_id)
    if user.id == admin.id:
        raise AdminError("Нельзя заблокировать собственную учётную запись.")
    if user.blocked_at is None:
        user.blocked_at = utcnow()
        session.add(user)
        count = sessions.revoke_user_sessions(session, user_id=user_id)
        audit.record(
            session,
            actor=actor,
            action="user.blocked",
            target_type="user",
            target_id=user_id,
            details={"sessions_revoked": count},
            ip=ip,
        )
    return user_to_dict(user)


def unblock_user(
    session: Session, *, actor: User | None, user_id: int, ip: str = ""
) -> dict[str, Any]:
    """Lift a block."""
    require_admin(actor)
    user = _user(session, user_id)
    if user.blocked_at is not None:
        user.blocked_at = None
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="user.unblocked",
            target_type="user",
            target_id=user_id,
            ip=ip,
        )
    return user_to_dict(user)


def reset_two_factor(session: Session, *, actor: User | None, user_id: int, ip: str = "") -> None:
    """Turn off a user's 2FA (lost phone); their sessions are revoked."""
    require_admin(actor)
    user = _user(session, user_id)
    twofactor.clear_two_factor(session, user=user)
    sessions.revoke_user_sessions(session, user_id=user_id)
    audit.record(
        session, actor=actor, action="auth.2fa_reset", target_type="user", target_id=user_id, ip=ip
    )


def revoke_user_sessions(
    session: Session, *, actor: User | None, user_id: int, ip: str = ""
) -> int:
    """End every session of a user; returns how many."""
    require_admin(actor)
    _user(session, user_id)
    count = sessions.revoke_user_sessions(session, user_id=user_id)
    audit.record(
        session,
        actor=actor,
        action="user.sessions_revoked",
        target_type="user",
        target_id=user_id,
        details={"sessions": count},
        ip=ip,
    )
    return count


def set_user_teams(
    session: Session, *, actor: User | None, user_id: int, team_ids: list[int], ip: str = ""
) -> list[dict[str, Any]]:
    """Make the user a member of exactly these teams; returns [{id, name}]."""
    require_admin(actor)
    _user(session, user_id)
    wanted = {int(t) for t in team_ids}
    for team_id in wanted:
        _team(session, team_id)
    _replace_memberships(
        session,
        stale=col(TeamMember.user_id) == user_id,
        pairs=[(team_id, user_id) for team_id in wanted],
    )
    audit.record(
        session,
        actor=actor,
        action="user.teams_changed",
        target_type="user",
        target_id=user_id,
        details={"team_ids": sorted(wanted)},
        ip=ip,
    )
    return _teams_of(session, [user_id])[user_id]


# --- teams ----------------------------------------------------------------------------


def _team_dict(session: Session, team: Team) -> dict[str, Any]:
    director = session.get(User, team.director_id) if team.director_id else None
    members = session.exec(
        select(User)
        .join(TeamMember, col(TeamMember.user_id) == col(User.id))
        .where(TeamMember.team_id == team.id)
        .order_by(col(User.email))
    ).all()
    return {
        "id": team.id,
        "name": team.name,
        "director": user_to_dict(director) if director else None,
        "members": [user_to_dict(m) for m in members],
        "created_at": team.created_at,
    }


def list_teams(session: Session, *, actor: User | None) -> list[dict[str, Any]]:
    """Every team: id, name, director (user dict or None), members (user dicts)."""
    require_admin(actor)
    teams = session.exec(select(Team).order_by(col(Team.name))).all()
    return [_team_dict(session, team) for team in teams]


def _clean_team_name(session: Session, name: str, *, exclude_id: int | None = None) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise AdminError("Укажите название команды (до 200 символов).")
    existing = session.exec(select(Team).where(Team.name == name)).first()
    if existing is not None and existing.id != exclude_id:
        raise AdminError("Команда с таким названием уже есть.")
    return name


def _check_director(session: Session, director_id: int | None) -> None:
    if director_id is None:
        return
    director = _user(session, director_id)
    if director.role not in (Role.DIRECTOR, Role.ADMIN):
        raise AdminError("Руководителем команды может быть только пользователь с ролью «директор».")


def create_team(
    session: Session,
    *,
    actor: User | None,
    name: str,
    director_id: int | None = None,
    member_ids: list[int] | None = None,
    ip: str = "",
) -> dict[str, Any]:
    """Create a team with an optional director and members."""
    require_admin(actor)
    name = _clean_team_name(session, name)
    _check_director(session, director_id)
    team = Team(name=name, director_id=director_id)
    session.add(team)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="team.created",
        target_type="team",
        target_id=team.id or "",
        details={"name": name, "director_id": director_id},
        ip=ip,
    )
    if member_ids:
        set_team_members(session, actor=actor, team_id=team.id or 0, member_ids=member_ids, ip=ip)
    return _team_dict(session, team)


def rename_team(
    session: Session, *, actor: User | None, team_id: int, name: str, ip: str = ""
) -> dict[str, Any]:
    """Rename a team."""
    require_admin(actor)
    team = _team(session, team_id)
    old = team.name
    team.name = _clean_team_name(session, name, exclude_id=team_id)
    session.add(team)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="team.renamed",
        target_type="team",
        target_id=team_id,
        details={"old": old, "new": team.name},
        ip=ip,
    )
    return _team_dict(session, team)


def set_team_director(
    session: Session, *, actor: User | None, team_id: int, director_id: int | None, ip: str = ""
) -> dict[str, Any]:
    """Pick (or clear with None) the team's director; must have the director role."""
    require_admin(actor)
    team = _team(session, team_id)
    _check_director(session, director_id)
    old = team.director_id
    team.director_id = director_id
    session.add(team)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="team.director_changed",
        target_type="team",
        target_id=team_id,
        details={"old": old, "new": director_id},
        ip=ip,
    )
    return _team_dict(session, team)


def _replace_memberships(
    session: Session, *, stale: ColumnElement[bool], pairs: list[tuple[int, int]]
) -> None:
    """Delete the memberships matching ``stale`` and add ``(team_id, user_id)`` pairs."""
    session.execute(delete(TeamMember).where(stale))
    session.add_all(TeamMember(team_id=t, user_id=u) for t, u in sorted(pairs))
    session.flush()


def set_team_members(
    session: Session, *, actor: User | None, team_id: int, member_ids: list[int], ip: str = ""
) -> dict[str, Any]:
    """Make exactly these users the team's members."""
    require_admin(actor)
    team = _team(session, team_id)
    wanted = {int(m) for m in member_ids}
    for user_id in wanted:
        _user(session, user_id)
    _replace_memberships(
        session,
        stale=col(TeamMember.team_id) == team_id,
        pairs=[(team_id, user_id) for user_id in wanted],
    )
    audit.record(
        session,
        actor=actor,
        action="team.members_changed",
        target_type="team",
        target_id=team_id,
        details={"member_ids": sorted(wanted)},
        ip=ip,
    )
    return _team_dict(session, team)


def delete_team(session: Session, *, actor: User | None, team_id: int, ip: str = "") -> None:
    """Delete a team (its users stay)."""
    require_admin(actor)
    team = _team(session, team_id)
    session.execute(delete(TeamMember).where(col(TeamMember.team_id) == team_id))
    session.delete(team)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="team.deleted",
        target_type="team",
        target_id=team_id,
        details={"name": team.name},
        ip=ip,
    )
