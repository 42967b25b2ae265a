"""Adding, listing and unsubscribing sources, with authorization.

Links are resolved by the real VK collector against the project's VK sandbox over HTTP.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from socstat.collectors.vk import VKCollector
from socstat.models import AuditEvent, Role, Source, Subscription, Team, TeamMember, User
from socstat.sandbox import SandboxServer
from socstat.services.authz import PermissionDenied
from socstat.services.sources import (
    AddOutcome,
    get_source,
    list_sources,
    remove_subscription,
)
from tests.services.conftest import add_sources, open_communities


def _user(session: Session, email: str, role: str = Role.ANALYST) -> User:
    user = User(email=email, role=role)
    session.add(user)
    session.commit()
    return user


@pytest.fixture
def collector(vk_collector: VKCollector) -> VKCollector:
    return vk_collector


@pytest.fixture
def clubs(vk_sandbox: SandboxServer) -> list[dict]:
    """Three open communities of the sandbox (id, screen_name, name, ...)."""
    found = open_communities(vk_sandbox)[:3]
    assert len(found) == 3
    return found


def _link(club: dict) -> str:
    return f"https://vk.com/{club['screen_name']}"


async def test_add_dedups_sources_and_reports_each_link(session, collector, clubs) -> None:
    ann = _user(session, "ann@example.com")
    bob = _user(session, "bob@example.com")
    one, two = clubs[0], clubs[1]
    results = await add_sources(
        session,
        actor=ann,
        # the same community by its screen-name link, and later by its clubNNN id form
        links=[_link(one), "vk.com/nonexistent", f"club{two['id']}", f"vk.com/club{one['id']}"],
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
    assert results[3].source_id == results[0].source_id
    assert (results[0].name, results[2].name) == (one["name"], two["name"])
    again = await add_sources(session, actor=bob, links=[one["screen_name"]], collector=collector)
    assert again[0].outcome == AddOutcome.ADDED
    assert again[0].source_id == results[0].source_id
    sources = session.exec(select(Source)).all()
    assert sorted(s.external_id for s in sources) == sorted([str(one["id"]), str(two["id"])])
    assert len(session.exec(select(Subscription)).all()) == 3
    actions = session.exec(select(AuditEvent.action)).all()
    assert actions.count("source.add") == 3


async def test_admin_adds_for_another_user_analyst_cannot(session, collector, clubs) -> None:
    admin = _user(session, "admin@example.com", Role.ADMIN)
    ann = _user(session, "ann@example.com")
    bob = _user(session, "bob@example.com")
    results = await add_sources(
        session, actor=admin, links=[_link(clubs[2])], collector=collector, user_id=ann.id
    )
    assert results[0].outcome == AddOutcome.ADDED
    assert [r.id for r in list_sources(session, actor=ann)] == [results[0].source_id]
    assert list_sources(session, actor=admin)[0].mine is False
    with pytest.raises(PermissionDenied):
        await add_sources(
            session, actor=bob, links=[_link(clubs[0])], collector=collector, user_id=ann.id
        )


async def test_visibility_by_role(session, collector, clubs) -> None:
    ann = _user(session, "ann@example.com")
    bob = _user(session, "bob@example.com")
    director = _user(session, "dir@example.com", Role.DIRECTOR)
    admin = _user(session, "admin@example.com", Role.ADMIN)
    team = Team(name="SMM", director_id=director.id)
    session.add(team)
    session.commit()
    session.add(TeamMember(team_id=team.id, user_id=ann.id))
    session.commit()
    [one] = await add_sources(session, actor=ann, links=[_link(clubs[0])], collector=collector)
    [two] = await add_sources(session, actor=bob, links=[_link(clubs[1])], collector=collector)

    assert [r.id for r in list_sources(session, actor=ann)] == [one.source_id]
    assert [r.id for r in list_sources(session, actor=director)] == [one.source_id]
    assert {r.id for r in list_sources(session, actor=admin)} == {one.source_id, two.source_id}
    assert get_source(session, actor=director, source_id=one.source_id).subscribers == 1
    with pytest.raises(LookupError):
        get_source(session, actor=ann, source_id=two.source_id)
    # directors read their team's sources but cannot change their subscriptions
    with pytest.raises(PermissionDenied):
        remove_subscription(session, actor=director, source_id=one.source_id, user_id=ann.id)


async def test_remove_subscription_keeps_source(session, collector, clubs) -> None:
    ann = _user(session, "ann@example.com")
    admin = _user(session, "admin@example.com", Role.ADMIN)
    link = _link(clubs[0])
    [added] = await add_sources(session, actor=ann, links=[link], collector=collector)
    remove_subscription(session, actor=ann, source_id=added.source_id)
    assert list_sources(session, actor=ann) == []
    assert session.get(Source, added.source_id) is not None
    with pytest.raises(LookupError):
        remove_subscription(session, actor=ann, source_id=added.source_id)
    await add_sources(session, actor=ann, links=[link], collector=collector)
    remove_subscription(session, actor=admin, source_id=added.source_id, user_id=ann.id)
    assert list_sources(session, actor=ann) == []


async def test_blocked_or_missing_actor_refused(session, collector, clubs, vk_sandbox) -> None:
    with pytest.raises(PermissionDenied):
        list_sources(session, actor=None)
    from socstat.models import utcnow

    ann = User(email="ann@example.com", blocked_at=utcnow())
    session.add(ann)
    session.commit()
    with pytest.raises(PermissionDenied):
        await add_sources(session, actor=ann, links=[_link(clubs[0])], collector=collector)
    assert vk_sandbox.stats()["http_requests"] == 0  # refused before VK was asked
