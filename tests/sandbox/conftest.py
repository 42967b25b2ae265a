"""Fixtures: a real sandbox server on loopback and a small VK client helper."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from socstat.sandbox import SandboxConfig, SandboxServer

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


class VK:
    """Minimal synchronous VK API caller for tests."""

    def __init__(self, server: SandboxServer, token: str = "test-token") -> None:
        self.server = server
        self.token = token
        self.http = httpx.Client(base_url=server.url, timeout=10)

    def raw(self, method: str, **params: Any) -> dict:
        data = {"v": "5.199", "access_token": self.token, **params}
        return self.http.post(f"/method/{method}", data=data).json()

    def call(self, method: str, **params: Any) -> Any:
        body = self.raw(method, **params)
        assert "response" in body, body
        return body["response"]

    def error(self, method: str, **params: Any) -> dict:
        body = self.raw(method, **params)
        assert "error" in body, body
        return body["error"]


def make_config(**overrides: Any) -> SandboxConfig:
    base: dict[str, Any] = {"seed": 7, "communities": 40, "days": 30, "now": NOW}
    base.update(overrides)
    return SandboxConfig(**base)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(make_config(rate_limit=False)) as server:
        yield server


@pytest.fixture
def vk(sandbox: SandboxServer) -> Iterator[VK]:
    client = VK(sandbox)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def communities(sandbox: SandboxServer) -> list[dict]:
    return sandbox.communities()


def first_with(communities: list[dict], **attrs: Any) -> dict:
    return next(c for c in communities if all(c[k] == v for k, v in attrs.items()))
