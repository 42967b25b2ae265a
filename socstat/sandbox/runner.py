"""Run the sandbox with uvicorn: blocking (CLI) or in a background thread (tests, demo)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from socstat.sandbox.config import SandboxConfig
from socstat.sandbox.server import SandboxApp, create_app


class _DropNoiseFilter(logging.Filter):
    """Hide uvicorn's complaint about the deliberate silent connection drop."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "ASGI callable should return None" not in record.getMessage()


def _uvicorn_config(app: SandboxApp, host: str, port: int, log_level: str) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(_DropNoiseFilter())
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        lifespan="off",
        proxy_headers=False,
        access_log=False,
        log_level=log_level,
        timeout_keep_alive=30,
    )


def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the sandbox in the foreground until interrupted."""
    uvicorn.Server(_uvicorn_config(create_app(config), host, port, "info")).run()


class SandboxServer:
    """The sandbox on 127.0.0.1 in a background thread; use as a (async) context manager.

    ``url`` is the base URL: API calls go to ``f"{url}/method/<name>"``.
    """

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SandboxConfig()
        self.app = create_app(self.config)
        self.host = host
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._server = uvicorn.Server(_uvicorn_config(self.app, host, self.port, "warning"))
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None

    @property
    def state(self) -> Any:
        """The in-process SandboxState (read it only while no request is running)."""
        return self.app.state.sandbox

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> SandboxServer:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("sandbox server failed to start")
            time.sleep(0.01)
        self._client = httpx.Client(base_url=self.url, timeout=30)
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> SandboxServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    # ------------------------------------------------------------------ control helpers
    def _call(self, http_method: str, path: str, **kwargs: Any) -> Any:
        if self._client is None:
            raise RuntimeError("sandbox server is not running")
        response = self._client.request(http_method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def clock(self) -> dict:
        return self._call("GET", "/_sandbox/clock")

    def advance(self, seconds: float) -> dict:
        return self._call("POST", "/_sandbox/clock", json={"advance_seconds": seconds})

    def set_now(self, now: datetime | str) -> dict:
        value = now.isoformat() if isinstance(now, datetime) else now
        return self._call("POST", "/_sandbox/clock", json={"now": value})

    def truth(
        self, community: int | None = None, date_from: str | None = None, date_to: str | None = None
    ) -> dict:
        params = {"community": community, "from": date_from, "to": date_to}
        return self._call(
            "GET", "/_sandbox/truth", params={k: v for k, v in params.items() if v is not None}
        )

    def communities(self) -> list[dict]:
        return self._call("GET", "/_sandbox/communities")["items"]

    def stats(self) -> dict:
        return self._call("GET", "/_sandbox/stats")

    def reset_stats(self) -> dict:
        return self._call("POST", "/_sandbox/reset_stats")

    def reset_quotas(self) -> dict:
        return self._call("POST", "/_sandbox/reset_quotas")

    def set_faults(
        self,
        rate: float | None = None,
        faults: dict[str, float] | None = None,
        slow_seconds: float | None = None,
    ) -> dict:
        body = {"rate": rate, "faults": faults, "slow_seconds": slow_seconds}
        return self._call(
            "POST", "/_sandbox/faults", json={k: v for k, v in body.items() if v is not None}
        )

    def delete_posts(self, owner_id: int, post_ids: list[int]) -> dict:
        return self._call(
            "POST", "/_sandbox/delete_posts", json={"owner_id": owner_id, "post_ids": post_ids}
        )

    # async variants (run the sync call in a worker thread)
    async def aadvance(self, seconds: float) -> dict:
        return await asyncio.to_thread(self.advance, seconds)

    async def aset_now(self, now: datetime | str) -> dict:
        return await asyncio.to_thread(self.set_now, now)

    async def atruth(self, *args: Any, **kwargs: Any) -> dict:
        return await asyncio.to_thread(self.truth, *args, **kwargs)

    async def astats(self) -> dict:
        return await asyncio.to_thread(self.stats)

    async def aset_faults(self, *args: Any, **kwargs: Any) -> dict:
        return await asyncio.to_thread(self.set_faults, *args, **kwargs)
