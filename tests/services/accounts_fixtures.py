"""Helpers shared by the account, authz, admin and 2FA tests."""

from __future__ import annotations

from sqlmodel import Session

from socstat.models.accounts import Role, Team, TeamMember, User
from socstat.services.accounts import create_user_record

PASSWORD = "Correct-Horse-Battery-9"


def make_user(
    session: Session,
    email: str,
    role: str = Role.ANALYST,
    *,
    password: str = PASSWORD,
    confirmed: bool = True,
    name: str = "",
) -> User:
    user = create_user_record(
        session, email=email, role=role, password=password, confirmed=confirmed, name=name
    )
    session.commit()
    return user


def make_team(session: Session, name: str, director: User | None, *members: User) -> Team:
    team = Team(name=name, director_id=director.id if director else None)
    session.add(team)
    session.flush()
    for member in members:
        session.add(TeamMember(team_id=team.id or 0, user_id=member.id or 0))
    session.commit()
    return team
