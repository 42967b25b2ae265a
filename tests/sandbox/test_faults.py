"""Fault injection: every kind is observable by httpx, and faults never charge quota."""

from __future__ import annotations

import json

import httpx
import pytest

from socstat.sandbox import SandboxServer
from tests.sandbox.conftest import make_config

PARAMS = {"v": "5.199", "access_token": "t"}


@pytest.fixture(scope="module")
def faulty() -> SandboxServer:
    config = make_config(rate_limit=False, quotas={"wall.get": 1000}, slow_seconds=1.0)
    with SandboxServer(config) as server:
        yield server


def _post(server: SandboxServer, gid: int, timeout: float = 5.0) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=timeout) as http:
        return http.post("/method/wall.get", data={**PARAMS, "owner_id": -gid, "count": 5})


def _open_id(server: SandboxServer) -> int:
    return next(c["id"] for c in server.communities() if c["wall_accessible"])


@pytest.mark.parametrize("kind,code", [("error10", 10), ("error9", 9)])
def test_api_error_faults(faulty: SandboxServer, kind: str, code: int) -> None:
    faulty.set_faults(rate=0.0, faults={kind: 1.0})
    try:
        body = _post(faulty, _open_id(faulty)).json()
    finally:
        faulty.set_faults(rate=0.0, faults={})
    assert body["error"]["error_code"] == code


@pytest.mark.parametrize("kind", ["http500", "http502", "http503"])
def test_http_faults(faulty: SandboxServer, kind: str) -> None:
    faulty.set_faults(faults={kind: 1.0})
    try:
        response = _post(faulty, _open_id(faulty))
    finally:
        faulty.set_faults(faults={})
    assert response.status_code == int(kind[4:])


def test_drop_truncate_slow(faulty: SandboxServer) -> None:
    gid = _open_id(faulty)
    faulty.reset_quotas()
    faulty.set_faults(faults={"drop": 1.0})
    with pytest.raises(httpx.RemoteProtocolError):
        _post(faulty, gid)
    faulty.set_faults(faults={"truncate": 1.0})
    response = _post(faulty, gid)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    faulty.set_faults(faults={"slow": 1.0}, slow_seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        _post(faulty, gid, timeout=0.3)
    faulty.set_faults(faults={})
    assert "response" in _post(faulty, gid).json()
    stats = faulty.stats()
    assert stats["totals"]["faults"]["drop"] >= 1 and stats["totals"]["faults"]["slow"] >= 1
    assert stats["quota_used"]["t"]["wall.get"] == 1  # only the clean call was charged


def test_fault_rate_mix_is_deterministic() -> None:
    def outcomes() -> list[str]:
        with SandboxServer(make_config(rate_limit=False, fault_rate=0.5, slow_seconds=0)) as s:
            s.set_faults(faults={})
            gid, seen = _open_id(s), []
            for _ in range(30):
                try:
                    response = _post(s, gid)
                    seen.append(f"{response.status_code}:{response.content[:20]!r}")
                except httpx.TransportError as exc:
                    seen.append(type(exc).__name__)
            return seen

    first = outcomes()
    assert first == outcomes()
    assert len(set(first)) > 3


def test_faults_endpoint_validation(faulty: SandboxServer) -> None:
    with httpx.Client(base_url=faulty.url) as http:
        assert http.post("/_sandbox/faults", json={"faults": {"nope": 0.1}}).status_code == 400
        assert http.post("/_sandbox/faults", json={"rate": 2}).status_code == 400
        assert http.get("/_sandbox/faults").json()["rate"] == 0.0
