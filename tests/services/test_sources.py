"""Adding, listing and unsubscribing sources, with authorization."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from socstat.models import AuditEvent, Role, Source, Subscription, Team, TeamMember, User
from socstat.services.authz import PermissionDenied
from socstat.services.sources import (
    AddOutcome,
    add_sources,
    get_source,
    list_sources,
    remove_subscription,
)
from tests.services.fake_collector import FakeCollector, community


def _user(session: Session, email: str, role: str = Role.ANALYST) -> User:
    user = User(email=email, role=role)
    session.add(user)
    session.commit()
    return user


@pytest.fixture
def collector() -> FakeCollector:
    return FakeCollector(communities={str(i): community(str(i)) for i in (1, 2, 3)})


async def test_add_dedups_sources_and_reports_each_link(session, collector) -> None:
    ann = _user(session, "ann@example.com")
    bob = _user(session, "bob@example.com")
    results = await add_sources(
        session,
        actor=ann,
        links=["https://vk.com/club1", "vk.com/nonexistent", "club2", "https://vk.com/club1"],
        collector=collector,
    )
    assert [r.outcome for r in results] == [
        AddOutcome.ADDED,
        AddOutcome.ERROR,
        AddOutcome.ADDED,
        AddOutcome.ALREADY,
    ]
    assert "nonexistent" in results[1].message
    assert results[3].message == "Уже отслеживается."
    again = await add_sources(session, actor=bob, links=["club1"], collector=collector)
    assert again[0].outcome == AddOutcome.ADDED
    assert again[0].source_id == results[0].source_id
    assert len(session.exec(select(Source)).all()) == 2
    assert len(session.exec(select(Subscription)).all()) == 3
    actions = session.exec(select(AuditEvent.action)).all()
    assert actions.count("source.add") == 3


async def test_admin_adds_for_another_user_analyst_cannot(session, collector) -> None:
    admin = _user(session, "admin@example.com", Role.ADMIN)
    ann = _user(session, "ann@example.com")
    bob = _user(session, "bob@example.com")
    results = await add_sources(
        session, actor=admin, links=["club3"], collector=collector, user_id=ann.id
    )
    assert results[0].outcome == AddOutcome.ADDED
    assert [r.id for r in list_sources(session, actor=ann)] == [results[0].source_id]
    assert list_sources(session, actor=admin)[0].mine is False
    with pytest.raises(PermissionDenied):
        await add_sources(session, actor=bob, links=["club1"], collector=collector, user_id=ann.id)


async def test_visibility_by_role(session, collector) -> None:
    ann = _user(session, "ann@example.com")
    bob = _user(session, "bob@example.com")
    director = _user(session, "dir@example.com", Role.DIRECTOR)
    admin = _user(session, "admin@example.com", Role.ADMIN)
    team = Team(name="SMM", director_id=director.id)
    session.add(team)
    session.commit()
    session.add(TeamMember(team_id=team.id, user_id=ann.id))
    session.commit()
    [one] = await add_sources(session, actor=ann, links=["club1"], collector=collector)
    [two] = await add_sources(session, actor=bob, links=["club2"], collector=collector)

    assert [r.id for r in list_sources(session, actor=ann)] == [one.source_id]
    assert [r.id for r in list_sources(session, actor=director)] == [one.source_id]
    assert {r.id for r in list_sources(session, actor=admin)} == {one.source_id, two.source_id}
    assert get_source(session, actor=director, source_id=one.source_id).subscribers == 1
    with pytest.raises(LookupError):
        get_source(session, actor=ann, source_id=two.source_id)
    # directors read their team's sources but cannot change their subscriptions
    with pytest.raises(PermissionDenied):
        remove_subscription(session, actor=director, source_id=one.source_id, user_id=ann.id)


async def test_remove_subscription_keeps_source(session, collector) -> None:
    ann = _user(session, "ann@example.com")
    admin = _user(session, "admin@example.com", Role.ADMIN)
    [added] = await add_sources(session, actor=ann, links=["club1"], collector=collector)
    remove_subscription(session, actor=ann, source_id=added.source_id)
    assert list_sources(session, actor=ann) == []
    assert session.get(Source, added.source_id) is not None
    with pytest.raises(LookupError):
        remove_subscription(session, actor=ann, source_id=added.source_id)
    await add_sources(session, actor=ann, links=["club1"], collector=collector)
    remove_subscription(session, actor=admin, source_id=added.source_id, user_id=ann.id)
    assert list_sources(session, actor=ann) == []


async def test_blocked_or_missing_actor_refused(session, collector) -> None:
    with pytest.raises(PermissionDenied):
        list_sources(session, actor=None)
    from socstat.models import utcnow

    ann = User(email="ann@example.com", blocked_at=utcnow())
    session.add(ann)
    session.commit()
    with pytest.raises(PermissionDenied):
        await add_sources(session, actor=ann, links=["club1"], collector=collector)
