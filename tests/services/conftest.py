"""Service-test fixtures: the project's VK sandbox on loopback and the real VK collector.

Tests that need a collector drive :class:`socstat.collectors.vk.VKCollector` over HTTP
against :class:`socstat.sandbox.SandboxServer` — never a scripted stand-in. The world is
small (10 communities, 7 days) and its clock frozen, so the data is deterministic and a
test reads the expected figures from the sandbox's ground truth (``server.truth(...)``).

``vk_sandbox`` is shared by the tests of a module and reset before each (clock, quotas,
faults, statistics); ``sandbox_factory`` starts a private server with other settings
(tokens, quotas) for one test. ``tests/ui/conftest.py`` re-exports these fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from socstat.collectors.base import Collector
from socstat.collectors.vk import VKCollector
from socstat.models import DailyStat, Source, User
from socstat.sandbox import SandboxConfig, SandboxServer, TokenSpec
from socstat.services.sources import AddResult, check_can_subscribe, resolve_links, subscribe

SANDBOX_NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # 12:00 MSK; frozen world clock
SANDBOX_TOKEN = "tok-community-0001"
SANDBOX_TOKENS = f"community:{SANDBOX_TOKEN}"  # 20 req/s: the client paces itself less


def sandbox_config(**overrides: object) -> SandboxConfig:
    values: dict = {
        "seed": 7,
        "communities": 10,
        "days": 7,
        "now": SANDBOX_NOW,
        "running_clock": False,
        "rate_limit": False,
        "tokens": [TokenSpec(SANDBOX_TOKEN, "community")],
        "slow_seconds": 0.2,
    }
    values.update(overrides)
    return SandboxConfig(**values)


def sandbox_collector(
    server: SandboxServer, tokens: str = SANDBOX_TOKENS, **options: object
) -> VKCollector:
    """The real VK collector pointed at ``server`` (tiny backoff: tests stay fast)."""
    values: dict = {"timeout": 5.0, "backoff_base": 0.01, "backoff_cap": 0.05, "max_retries": 3}
    values.update(options)
    return VKCollector(base_url=server.url, tokens=tokens, **values)


def open_communities(server: SandboxServer) -> list[dict]:
    """The sandbox's open communities (readable walls), in the sandbox's order."""
    return [c for c in server.communities() if c["status"] == "open"]


def world_now(server: SandboxServer) -> datetime:
    """The sandbox's world clock (pass it to the collection service as its `now`)."""
    return datetime.fromisoformat(server.clock()["now"])


@pytest.fixture(scope="module")
def shared_vk_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(sandbox_config()) as server:
        yield server


@pytest.fixture
def vk_sandbox(shared_vk_sandbox: SandboxServer) -> SandboxServer:
    """The module's sandbox with a fresh state: clock at SANDBOX_NOW, nothing served yet."""
    server = shared_vk_sandbox
    server.set_now(SANDBOX_NOW)
    server.set_faults(rate=0.0, faults={})
    server.reset_quotas()
    server.reset_stats()
    return server


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """Start a private sandbox: ``sandbox_factory(quotas={...}, tokens=[...])``."""
    servers: list[SandboxServer] = []

    def start(**overrides: object) -> SandboxServer:
        server = SandboxServer(sandbox_config(**overrides)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
async def vk_collector(vk_sandbox: SandboxServer) -> AsyncIterator[VKCollector]:
    collector = sandbox_collector(vk_sandbox)
    yield collector
    await collector.aclose()


async def add_sources(
    session: Session,
    *,
    actor: User,
    links: list[str],
    collector: Collector,
    user_id: int | None = None,
) -> list[AddResult]:
    """The two steps every caller takes to add sources (UI and CLI likewise): check the
    actor, resolve the links with no transaction open, subscribe and commit."""
    check_can_subscribe(session, actor=actor, user_id=user_id)
    session.commit()
    resolved = await resolve_links(collector, links)
    results = subscribe(session, actor=actor, resolved=resolved, user_id=user_id)
    session.commit()
    return results


KINDS = {"post": "posts", "video": "videos", "clip": "clips"}  # ContentItem kind → truth key


def assert_truth(
    session: Session, server: SandboxServer, *, only_recent_days: int | None = None
) -> None:
    """Every DailyStat equals the ground truth (engagement: only the last N days if given)."""
    session.expire_all()
    truth = server.truth()
    last_day = date.fromisoformat(truth["communities"][0]["days"][-1]["date"])
    sources = {s.external_id: s for s in session.exec(select(Source)).all()}
    stats = {(r.source_id, r.local_date, r.kind): r for r in session.exec(select(DailyStat)).all()}
    expected_rows = 0
    for community in truth["communities"]:
        source = sources[str(community["id"])]
        if not community["wall_accessible"]:  # closed/private/...: the truth is out of reach
            assert not [k for k in stats if k[0] == source.id], community["screen_name"]
            continue
        for day in community["days"]:
            local = date.fromisoformat(day["date"])
            for kind, key in KINDS.items():
                block = day[key]
                stat = stats.get((source.id, local, kind))
                where = f"{community['screen_name']} {local} {kind}"
                if block["count"] == 0:
                    assert stat is None, where
                    continue
                expected_rows += 1
                assert stat is not None, where
                assert stat.count == block["count"], where
                assert stat.views_unknown == block["views_unknown"], where
                if only_recent_days is not None and (last_day - local).days >= only_recent_days:
                    continue
                got = (stat.likes, stat.reposts, stat.comments, stat.views or 0)
                want = (block["likes"], block["reposts"], block["comments"], block["views"])
                assert got == want, where
    assert len(stats) == expected_rows
