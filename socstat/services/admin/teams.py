"""Teams: the list, creating, renaming, the director, the members (from the team's side
and from the user's), deleting. A team's director must have the director (or admin)
role."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from socstat.models.accounts import Role, Team, TeamMember, User
from socstat.services.accounts import UserView
from socstat.services.admin.base import AdminError, TeamRef, TeamView, record, team_row, user_row
from socstat.services.admin.users import teams_of
from socstat.services.authz import require_admin


def _team_view(session: Session, team: Team) -> TeamView:
    director = session.get(User, team.director_id) if team.director_id else None
    members = session.exec(
        select(User)
        .join(TeamMember, col(TeamMember.user_id) == col(User.id))
        .where(TeamMember.team_id == team.id)
        .order_by(col(User.email))
    ).all()
    return TeamView(
        id=team.id or 0,
        name=team.name,
        director=UserView.of(director) if director else None,
        members=tuple(UserView.of(m) for m in members),
    )


def list_teams(session: Session, *, actor: User | None) -> list[TeamView]:
    """Every team, by name."""
    require_admin(actor)
    teams = session.exec(select(Team).order_by(col(Team.name))).all()
    return [_team_view(session, team) for team in teams]


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
    director = user_row(session, director_id)
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
) -> TeamView:
    """Create a team with an optional director and members."""
    require_admin(actor)
    name = _clean_team_name(session, name)
    _check_director(session, director_id)
    team = Team(name=name, director_id=director_id)
    session.add(team)
    session.flush()
    record(
        session,
        actor=actor,
        action="team.created",
        target=team,
        details={"name": name, "director_id": director_id},
        ip=ip,
    )
    if member_ids:
        set_team_members(session, actor=actor, team_id=team.id or 0, member_ids=member_ids, ip=ip)
    return _team_view(session, team)


def _change_team(
    session: Session,
    *,
    actor: User | None,
    team: Team,
    action: str,
    details: dict[str, Any],
    ip: str,
) -> TeamView:
    session.add(team)
    session.flush()
    record(session, actor=actor, action=action, target=team, details=details, ip=ip)
    return _team_view(session, team)


def rename_team(
    session: Session, *, actor: User | None, team_id: int, name: str, ip: str = ""
) -> TeamView:
    """Rename a team."""
    require_admin(actor)
    team = team_row(session, team_id)
    old = team.name
    team.name = _clean_team_name(session, name, exclude_id=team_id)
    details = {"old": old, "new": team.name}
    return _change_team(
        session, actor=actor, team=team, action="team.renamed", details=details, ip=ip
    )


def set_team_director(
    session: Session, *, actor: User | None, team_id: int, director_id: int | None, ip: str = ""
) -> TeamView:
    """Pick (or clear with None) the team's director; must have the director role."""
    require_admin(actor)
    team = team_row(session, team_id)
    _check_director(session, director_id)
    details = {"old": team.director_id, "new": director_id}
    team.director_id = director_id
    return _change_team(
        session, actor=actor, team=team, action="team.director_changed", details=details, ip=ip
    )


def _replace_memberships(
    session: Session,
    *,
    actor: User | None,
    target: User | Team,
    others: set[int],
    action: str,
    ip: str,
) -> None:
    """Make ``others`` (teams of a user, or users of a team) exactly the memberships of
    ``target``, and audit it."""
    if isinstance(target, User):
        stale, key = col(TeamMember.user_id) == target.id, "team_ids"
        pairs = [(team_id, target.id or 0) for team_id in others]
    else:
        stale, key = col(TeamMember.team_id) == target.id, "member_ids"
        pairs = [(target.id or 0, user_id) for user_id in others]
    session.execute(delete(TeamMember).where(stale))
    session.add_all(TeamMember(team_id=t, user_id=u) for t, u in sorted(pairs))
    session.flush()
    record(session, actor=actor, action=action, target=target, details={key: sorted(others)}, ip=ip)


def set_team_members(
    session: Session, *, actor: User | None, team_id: int, member_ids: list[int], ip: str = ""
) -> TeamView:
    """Make exactly these users the team's members."""
    require_admin(actor)
    team = team_row(session, team_id)
    wanted = {int(m) for m in member_ids}
    for user_id in wanted:
        user_row(session, user_id)
    _replace_memberships(
        session, actor=actor, target=team, others=wanted, action="team.members_changed", ip=ip
    )
    return _team_view(session, team)


def set_user_teams(
    session: Session, *, actor: User | None, user_id: int, team_ids: list[int], ip: str = ""
) -> list[TeamRef]:
    """Make the user a member of exactly these teams; returns them by name."""
    require_admin(actor)
    user = user_row(session, user_id)
    wanted = {int(t) for t in team_ids}
    for team_id in wanted:
        team_row(session, team_id)
    _replace_memberships(
        session, actor=actor, target=user, others=wanted, action="user.teams_changed", ip=ip
    )
    return teams_of(session, [user_id])[user_id]


def delete_team(session: Session, *, actor: User | None, team_id: int, ip: str = "") -> None:
    """Delete a team (its users stay)."""
    require_admin(actor)
    team = team_row(session, team_id)
    session.execute(delete(TeamMember).where(col(TeamMember.team_id) == team_id))
    session.delete(team)
    session.flush()
    record(
        session, actor=actor, action="team.deleted", target=team, details={"name": team.name}, ip=ip
    )
