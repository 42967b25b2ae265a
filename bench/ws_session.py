"""One browser-like Reflex session over a websocket, for the load benchmark.

Speaks what the built frontend speaks (``.web/utils/state.js``, checked against the frames
Chromium sends on a /dashboard visit): Engine.IO 4 over a websocket at
``/_event/?EIO=4&transport=websocket&token=<tab token>``, socket.io packets in the
``/_event`` namespace, the page's boot event in the CONNECT packet — ``hydrate_and_load``
with the router data and, as a freshly loaded page sends it, the hashes of the compiled
initial state (so the backend sends only what differs from it), next to the frontend's state
schema — then ``["event", {name, payload, router_data}]`` per user action. Components that
load data when they mount (the header's bell) send their events once the signed-in layout
shows. The backend answers with ``["event", {delta, events}]`` updates: state deltas, and
the frontend events (``_call_script``, ``_redirect``, toasts) a browser would run; a
``replaceState`` of the page's URL becomes the router data of the next events, as in a
browser. The session cookie goes in the handshake's ``Cookie`` header, as a browser sends it.

python-socketio's asyncio client needs aiohttp, which is not installed here, so this is a
small client on ``wsproto`` (a dependency of the backend's server stack) and asyncio streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"
HYDRATED = "is_hydrated_rx_state_"
SIGNED_IN = "signed_in_rx_state_"
REPLACED_URL = re.compile(r"replaceState\(null, '', \"([^\"]*)\"\)")


@dataclass(frozen=True)
class Frontend:
    """What the compiled frontend sends besides the user's events: its initial state's
    hashes and state schema (the boot event), and the handlers that components of the
    signed-in layout call when they mount (``auth_state`` is where ``signed_in`` lives)."""

    hashes: tuple[str, ...]
    state_schema: str
    auth_state: str
    on_mount: tuple[str, ...] = ()


class SessionError(Exception):
    """The backend refused, dropped or did not answer the session."""


@dataclass
class Update:
    """One ``event`` message from the backend."""

    delta: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def scripts(self) -> list[str]:
        return [
            str(e.get("payload", {}).get("javascript_code", ""))
            for e in self.events
            if e.get("name") == "_call_script"
        ]

    def hydrated(self) -> bool:
        return self.delta.get(ROOT_STATE, {}).get(HYDRATED) is True

    def replaced_url(self) -> str | None:
        """The URL a ``window.history.replaceState`` script of this update sets."""
        for script in self.scripts():
            if match := REPLACED_URL.search(script):
                return match.group(1)
        return None

    def problem(self) -> str | None:
        """What a user would see as a failure: sent back to sign-in, or an error toast."""
        for event in self.events:
            text = json.dumps(event, ensure_ascii=False)
            if event.get("name") == "_redirect" and "/login" in text:
                return "redirect to /login"
            if "toast" in text and "error" in text:
                return f"error toast: {text[:200]}"
        return None


def router_data(path: str) -> dict[str, Any]:
    """As the browser fills it in: React Router's pathname has a trailing slash."""
    pathname, _, query = path.partition("?")
    pathname = pathname if pathname.endswith("/") else pathname + "/"
    data: dict[str, Any] = {
        "pathname": pathname,
        "asPath": pathname + (f"?{query}" if query else ""),
    }
    if query:
        data["query"] = dict(part.partition("=")[::2] for part in query.split("&"))
    return data


class ReflexSession:
    """A browser tab: one tab token, one websocket at a time."""

    def __init__(self, host: str, port: int, frontend: Frontend, cookie: str = "") -> None:
        self.host, self.port, self.cookie = host, port, cookie
        self.frontend = frontend
        self.token = str(uuid.uuid4())
        self.path = "/"
        self._mounted = False
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._updates: asyncio.Queue[Update | SessionError] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._text: list[str] = []

    # --- the wire ----------------------------------------------------------------------

    def _write(self, packet: str) -> None:
        assert self._writer is not None
        self._writer.write(self._ws.send(Message(data=packet)))

    async def _handshake(self, seconds: float) -> None:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), seconds
        )
        query = urlencode({"EIO": "4", "transport": "websocket", "token": self.token})
        headers = [(b"cookie", self.cookie.encode())] if self.cookie else []
        self._writer.write(
            self._ws.send(
                Request(
                    host=f"{self.host}:{self.port}",
                    target=f"{NAMESPACE}/?{query}",
                    extra_headers=headers,
                )
            )
        )
        while True:
            data = await asyncio.wait_for(self._reader.read(65536), seconds)
            if not data:
                raise SessionError("closed during the websocket handshake")
            self._ws.receive_data(data)
            for event in self._ws.events():
                if isinstance(event, AcceptConnection):
                    return
                if isinstance(event, RejectConnection):
                    raise SessionError(f"websocket refused: HTTP {event.status_code}")

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                data = await self._reader.read(1 << 20)
                if not data:
                    raise SessionError("the backend closed the websocket")
                self._ws.receive_data(data)
                for event in self._ws.events():
                    if isinstance(event, TextMessage):
                        self._text.append(event.data)
                        if event.message_finished:
                            self._packet("".join(self._text))
                            self._text = []
                    elif isinstance(event, Ping):
                        assert self._writer is not None
                        self._writer.write(self._ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        raise SessionError(f"websocket closed: {event.code} {event.reason}")
        except (SessionError, OSError) as exc:
            error = exc if isinstance(exc, SessionError) else SessionError(str(exc))
            self._updates.put_nowait(error)

    def _packet(self, packet: str) -> None:
        """Engine.IO: 0 open, 2 ping (answer 3), 4 message; socket.io inside a message."""
        if packet == "2":
            self._write("3")
            return
        if not packet.startswith("4"):
            return
        kind, rest = packet[1:2], packet[2:]
        if not rest.startswith(NAMESPACE + ","):
            return
        rest = rest[len(NAMESPACE) + 1 :]
        if kind == "4":  # CONNECT_ERROR
            self._updates.put_nowait(SessionError(f"connect refused: {rest[:200]}"))
        elif kind == "2":  # EVENT
            name, *args = json.loads(rest)
            if name == "event" and args:
                update = Update(
                    delta=args[0].get("delta") or {}, events=args[0].get("events") or []
                )
                self._as_browser(update)
                self._updates.put_nowait(update)
            elif name in ("reload", "state_mismatch"):
                self._updates.put_nowait(SessionError(f"backend asked to {name}"))

    def _as_browser(self, update: Update) -> None:
        """What the page does on its own with an update: mount the signed-in layout's
        components (their on_mount events) and take the URL a script replaced."""
        if url := update.replaced_url():
            self.path = url
        signed_in = update.delta.get(self.frontend.auth_state, {}).get(SIGNED_IN)
        if signed_in is True and not self._mounted:
            self._mounted = True
            for handler in self.frontend.on_mount:
                self._emit(handler, {})

    def _emit(self, handler: str, payload: dict[str, Any]) -> None:
        event = {"name": handler, "payload": payload, "router_data": router_data(self.path)}
        self._write(f"42{NAMESPACE},{json.dumps(['event', event])}")

    # --- what a page does ---------------------------------------------------------------

    async def open(self, path: str, seconds: float = 60) -> list[Update]:
        """Load ``path`` (connect with its boot event); the updates until the page's
        on_load chain has finished (``is_hydrated``)."""
        await self.close()
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._updates = asyncio.Queue()
        self.path = path
        self._mounted = False
        await self._handshake(seconds)
        self._pump = asyncio.create_task(self._read_loop())
        boot = {
            "name": f"{ROOT_STATE}.hydrate_and_load",
            "payload": {"hashes": list(self.frontend.hashes)},  # a loaded page's first connect
            "router_data": router_data(path),
        }
        auth = {"event": boot, "state_schema": self.frontend.state_schema}
        self._write(f"40{NAMESPACE},{json.dumps(auth)}")
        return await self.wait(Update.hydrated, seconds)

    async def send(
        self, handler: str, payload: dict[str, Any], done: Callable[[Update], bool], seconds: float
    ) -> list[Update]:
        """Send an event to ``handler`` (full name) and wait until an update meets ``done``."""
        self._emit(handler, payload)
        return await self.wait(done, seconds)

    async def wait(self, done: Callable[[Update], bool], seconds: float) -> list[Update]:
        seen: list[Update] = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SessionError(f"no answer in {seconds:.0f} s")
            try:
                item = await asyncio.wait_for(self._updates.get(), left)
            except TimeoutError:
                raise SessionError(f"no answer in {seconds:.0f} s") from None
            if isinstance(item, SessionError):
                raise item
            seen.append(item)
            if (problem := item.problem()) is not None:
                raise SessionError(problem)
            if done(item):
                return seen

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        if self._writer is not None:
            with contextlib.suppress(Exception):  # a connection already gone
                self._writer.write(self._ws.send(CloseConnection(code=1000)))
            self._writer.close()
            self._writer = None
