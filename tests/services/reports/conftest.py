"""Report tests: a user tracking the sandbox's communities, collected over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlmodel import Session

from socstat.collectors.vk import VKCollector
from socstat.models import Role, User
from socstat.sandbox import SandboxServer
from socstat.services.collection import collect_due_sources
from socstat.services.sources import AddOutcome
from tests.services.conftest import add_sources, world_now


async def track_and_collect(
    session: Session, server: SandboxServer, collector: VKCollector, user: User
) -> None:
    links = [f"https://vk.com/{c['screen_name']}" for c in server.communities()]
    results = await add_sources(session, actor=user, links=links, collector=collector)
    assert [r.outcome for r in results] == [AddOutcome.ADDED] * len(links)
    server.reset_quotas()
    summary = await collect_due_sources(collector=collector, now=world_now(server))
    assert summary is not None and summary.sources_failed == 0
    session.expire_all()


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    def make(email: str, role: str = Role.ANALYST, **fields: object) -> User:
        user = User(email=email, role=role, confirmed_at=datetime.now().astimezone(), **fields)
        session.add(user)
        session.commit()
        return user

    return make
