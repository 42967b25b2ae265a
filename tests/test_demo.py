"""`socstat demo`: demo accounts and demo communities from the sandbox, idempotent."""

import asyncio

import pytest
from sqlmodel import select

from socstat.demo import seed_demo
from socstat.models import Source, Subscription, User
from socstat.services.demo_accounts import DemoRefused
from socstat.settings import reset_settings_cache
from tests.browser.conftest import free_port


@pytest.fixture
def demo_env(db, monkeypatch):
    monkeypatch.setenv("SOCSTAT_SANDBOX_PORT", str(free_port()))
    monkeypatch.setenv("SOCSTAT_VK_TOKENS", "")
    monkeypatch.setenv("SOCSTAT_ENV", "demo")
    reset_settings_cache()
    yield
    monkeypatch.undo()
    reset_settings_cache()


def test_seed_creates_users_sources_and_collects_once(demo_env, session):
    first = asyncio.run(seed_demo())
    roles = {c.role for c in first.credentials}
    assert roles == {"admin", "director", "analyst"}
    assert first.sources_added == 15
    assert first.collected == 15

    users = {u.email: u for u in session.exec(select(User)).all()}
    assert set(users) >= {"admin@socstat.local", "director@socstat.local"}
    analyst_sources = session.exec(
        select(Subscription).where(Subscription.user_id == users["analyst@socstat.local"].id)
    ).all()
    assert len(analyst_sources) == 11
    statuses = {s.status for s in session.exec(select(Source)).all()}
    assert "active" in statuses and len(statuses) > 1
    assert all(s.last_collected_at is not None for s in session.exec(select(Source)).all())

    second = asyncio.run(seed_demo())
    assert (second.sources_added, second.collected) == (0, 0)
    assert len(session.exec(select(Source)).all()) == 15


@pytest.mark.parametrize(
    "env",
    [
        {"SOCSTAT_ENV": "demo", "SOCSTAT_VK_TOKENS": "real-token"},
        {"SOCSTAT_ENV": "prod", "SOCSTAT_SECRET_KEY": "prod-secret-key-0123456789"},
        {"SOCSTAT_ENV": "test"},
    ],
)
def test_outside_demo_mode_seeding_is_refused_and_creates_nothing(db, monkeypatch, session, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    try:
        with pytest.raises(DemoRefused):
            asyncio.run(seed_demo())
    finally:
        monkeypatch.undo()
        reset_settings_cache()
    assert session.exec(select(User)).all() == []
    assert session.exec(select(Source)).all() == []


def test_add_source_hint_names_communities_of_the_demo_world(demo_env, session):
    """The examples under the add-source form can be added in demo mode (apiclub and club1
    are not in the demo world)."""
    from socstat.demo import add_source_examples, start_demo_sandbox
    from socstat.services.collection import make_collector
    from socstat.services.sources import AddOutcome
    from tests.services.conftest import add_sources

    add_source_examples.cache_clear()
    asyncio.run(seed_demo())
    analyst = session.exec(select(User).where(User.email == "analyst@socstat.local")).one()
    examples = list(add_source_examples())

    async def _add() -> list:
        collector = make_collector(session)
        try:
            return await add_sources(session, actor=analyst, links=examples, collector=collector)
        finally:
            await collector.aclose()

    server = start_demo_sandbox()
    try:
        results = asyncio.run(_add())
    finally:
        server.stop()
    assert len(examples) == 3 and "apiclub" not in " ".join(examples)
    assert [r.outcome for r in results] == [AddOutcome.ADDED] * 3, [r.message for r in results]
