"""Sandbox fixtures for collector tests: a real VK-compatible HTTP server per module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from socstat.collectors.vk import VKCollector
from socstat.sandbox import SandboxConfig, SandboxServer, TokenSpec

NOW = datetime(2025, 3, 15, 9, 30, tzinfo=UTC)  # frozen world clock: stable engagement
TOKEN_A = "tok-community-aaaa-0001"
TOKEN_B = "tok-community-bbbb-0002"
COMMUNITY_TOKENS = f"community:{TOKEN_A},community:{TOKEN_B}"


def make_config(**overrides: object) -> SandboxConfig:
    options: dict = {
        "seed": 7,
        "communities": 30,
        "days": 30,
        "now": NOW,
        "tokens": [TokenSpec(TOKEN_A, "community"), TokenSpec(TOKEN_B, "community")],
    }
    options.update(overrides)
    return SandboxConfig(**options)


def make_collector(
    sandbox: SandboxServer, tokens: str = COMMUNITY_TOKENS, **options: object
) -> VKCollector:
    options = {"timeout": 3.0, "backoff_base": 0.05, "backoff_cap": 0.5, **options}
    return VKCollector(base_url=sandbox.url, tokens=tokens, **options)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """A shared, unmodified sandbox (tests must not change its clock, faults or quotas)."""
    with SandboxServer(make_config()) as server:
        yield server


@pytest.fixture
async def collector(sandbox: SandboxServer) -> AsyncIterator[VKCollector]:
    instance = make_collector(sandbox)
    yield instance
    await instance.aclose()


@pytest.fixture(scope="module")
def communities(sandbox: SandboxServer) -> list[dict]:
    return sandbox.communities()


def by_status(communities: list[dict], status: str) -> dict:
    return next(item for item in communities if item["status"] == status)
