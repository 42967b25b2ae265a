"""Demo mode: without VK tokens the built-in sandbox plays the VK API.

The same deterministic world (seed and size below) is served by the app's lifespan task
and used by `socstat demo` to seed sources, so the demo data stays consistent.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
from sqlmodel import select

from socstat.db import session_scope
from socstat.sandbox.config import SandboxConfig
from socstat.sandbox.runner import SandboxServer
from socstat.sandbox.world import World
from socstat.settings import get_settings

log = logging.getLogger(__name__)

DEMO_SEED = 20261122
DEMO_COMMUNITIES = 40
DEMO_HISTORY_DAYS = 120


def demo_sandbox_config() -> SandboxConfig:
    return SandboxConfig(seed=DEMO_SEED, communities=DEMO_COMMUNITIES, days=DEMO_HISTORY_DAYS)


@cache
def add_source_examples() -> tuple[str, ...]:
    """Links the add-source hint suggests: in demo mode open communities of the demo
    world that no demo user tracks (the last ones; the demo users get the first), else
    real VK communities."""
    if not get_settings().demo_mode:
        return ("https://vk.com/apiclub", "club1")
    world = World(DEMO_SEED, DEMO_COMMUNITIES, DEMO_HISTORY_DAYS, initial_now=time.time())
    opened = [c.screen_name for c in world.communities if c.status == "open"]
    first, *rest = opened[-3:]
    return (f"https://vk.com/{first}", *rest)


def start_demo_sandbox() -> SandboxServer | None:
    """Serve the demo VK sandbox on the configured port; None if not in demo mode or taken."""
    settings = get_settings()
    if not settings.demo_mode or settings.vk_api_url:
        return None
    try:
        server = SandboxServer(demo_sandbox_config(), port=settings.sandbox_port)
    except OSError as exc:
        log.warning("demo VK sandbox not started on port %s: %s", settings.sandbox_port, exc)
        return None
    server.start()
    log.info("demo VK sandbox serving at %s", server.url)
    return server


@contextlib.asynccontextmanager
async def demo_sandbox_lifespan(app: Any = None) -> AsyncIterator[None]:
    server = start_demo_sandbox()
    try:
        yield
    finally:
        if server is not None:
            server.stop()


# --- seeding demo data (`socstat demo`, run by `make run`) ------------------------------

# Open communities per demo user, plus a few closed/deleted/... ones for the analyst so
# that every status can be seen.
DEMO_OPEN_SOURCES = {"analyst@socstat.local": 8, "director@socstat.local": 4}
DEMO_SPECIAL_SOURCES = 3


@dataclass
class DemoSeed:
    credentials: list[Any] = field(default_factory=list)
    sources_added: int = 0
    collected: int = 0


def _demo_links(base_url: str) -> dict[str, list[str]]:
    """Which sandbox communities each demo user tracks."""
    response = httpx.get(f"{base_url}/_sandbox/communities", timeout=30)
    response.raise_for_status()
    items = response.json()["items"]
    opened = [item["url"] for item in items if item["status"] == "open"]
    special = [item["url"] for item in items if item["status"] != "open"]
    plan, offset = {}, 0
    for email, count in DEMO_OPEN_SOURCES.items():
        plan[email] = opened[offset : offset + count]
        offset += count
    plan["analyst@socstat.local"] += special[:DEMO_SPECIAL_SOURCES]
    return plan


def _sandbox_answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/_sandbox/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def _subscribe_demo_users(plan: dict[str, list[str]]) -> tuple[int, list[int]]:
    """Give each demo user without sources their communities; returns (added, source ids)."""
    from socstat.models import Subscription
    from socstat.services import accounts
    from socstat.services.collection import make_collector
    from socstat.services.sources import AddOutcome, resolve_links, subscribe

    added, source_ids = 0, []
    collector = make_collector()
    try:
        for email, links in plan.items():
            with session_scope() as session:
                user = accounts.get_user_by_email(session, email=email)
                if user is None:
                    continue
                tracked = session.exec(
                    select(Subscription.source_id).where(Subscription.user_id == user.id)
                ).all()
                if tracked:
                    source_ids += list(tracked)
                    continue
            resolved = await resolve_links(collector, links)
            with session_scope() as session:
                user = accounts.get_user_by_email(session, email=email)
                results = subscribe(session, actor=user, resolved=resolved)
            added += sum(r.outcome == AddOutcome.ADDED for r in results)
            source_ids += [r.source_id for r in results if r.source_id is not None]
    finally:
        await collector.aclose()
    return added, source_ids


async def _collect_new(source_ids: list[int]) -> int:
    from socstat.models import Source
    from socstat.services.collection import (
        CollectionBusy,
        Trigger,
        collect_sources,
        make_collector,
    )

    with session_scope() as session:
        fresh = [sid for sid in source_ids if session.get(Source, sid).last_collected_at is None]
    if not fresh:
        return 0
    collector = make_collector()
    try:
        summary = await collect_sources(
            source_ids=fresh, collector=collector, trigger=Trigger.MANUAL
        )
    except CollectionBusy:  # the scheduler is collecting them already
        return 0
    finally:
        await collector.aclose()
    return summary.sources_ok + summary.sources_partial


async def seed_demo() -> DemoSeed:
    """Demo accounts, then demo communities from the sandbox, collected once.

    Raises DemoRefused (creating nothing) outside demo mode. Idempotent: a second run
    adds nothing and collects only what was never collected.
    """
    from socstat.services.demo_accounts import ensure_demo_users

    seed = DemoSeed()
    with session_scope() as session:
        seed.credentials = ensure_demo_users(session)
    base_url = get_settings().effective_vk_api_url
    server = None if _sandbox_answers(base_url) else start_demo_sandbox()
    try:
        seed.sources_added, source_ids = await _subscribe_demo_users(_demo_links(base_url))
        seed.collected = await _collect_new(source_ids)
    finally:
        if server is not None:
            server.stop()
    return seed
