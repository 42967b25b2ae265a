"""Analytics fixtures: data written through the collection's write path (persist_result),
so local days, DailyStat and counter snapshots are what a real collection leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from socstat.collectors.base import CommunityInfo, ContentRecord, SourceResult
from socstat.models import Role, Source, Subscription, Team, TeamMember, User
from socstat.services.collection import persist_result

MSK = ZoneInfo("Europe/Moscow")


def msk(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment given in Moscow time, as UTC."""
    return datetime.combine(day, time(hour, minute), MSK).astimezone(UTC)


def item(
    external_id: str, at: datetime, kind: str = "post", **figures: int | None
) -> ContentRecord:
    return ContentRecord(kind=kind, external_id=external_id, published_at=at, **figures)


def collect(
    session: Session,
    source: Source,
    *,
    at: datetime,
    members: int | None,
    items: tuple[ContentRecord, ...] = (),
    deleted: tuple[str, ...] = (),
) -> None:
    """One successful collection of ``source`` at ``at`` that saw ``members`` and ``items``."""
    info = CommunityInfo(
        external_id=source.external_id,
        screen_name=source.screen_name,
        name=source.name,
        url=source.url,
        members_count=members,
    )
    result = SourceResult(
        external_id=source.external_id, info=info, items=list(items), deleted_posts=list(deleted)
    )
    persist_result(session, source_id=source.id, result=result, now=at)
    session.commit()


def add_source(
    session: Session, owner: User, external_id: str, *, history_start: date, **flags: object
) -> Source:
    source = Source(
        external_id=external_id,
        screen_name=f"club{external_id}",
        name=f"Сообщество {external_id}",
        url=f"https://vk.com/club{external_id}",
        history_start=history_start,
    )
    session.add(source)
    session.commit()
    subscribe(session, owner, source, **flags)
    return source


def subscribe(session: Session, owner: User, source: Source, **flags: object) -> None:
    session.add(Subscription(user_id=owner.id, source_id=source.id, **flags))
    session.commit()


@dataclass
class People:
    ann: User  # analyst in dora's team
    bob: User  # analyst, no team
    dora: User  # director of "Отдел А"
    dan: User  # director of another team
    admin: User
    team: Team
    other_team: Team


@pytest.fixture
def people(session: Session) -> People:
    users = {
        name: User(email=f"{name}@example.com", role=role, name=name.title())
        for name, role in (
            ("ann", Role.ANALYST),
            ("bob", Role.ANALYST),
            ("dora", Role.DIRECTOR),
            ("dan", Role.DIRECTOR),
            ("admin", Role.ADMIN),
        )
    }
    session.add_all(users.values())
    session.commit()
    team = Team(name="Отдел А", director_id=users["dora"].id)
    other = Team(name="Отдел Б", director_id=users["dan"].id)
    session.add_all([team, other])
    session.commit()
    session.add(TeamMember(team_id=team.id, user_id=users["ann"].id))
    session.commit()
    return People(**users, team=team, other_team=other)
