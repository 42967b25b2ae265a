"""A real SMTP server on loopback (aiosmtpd) that collects messages, for email tests.

Use the ``smtp_server`` fixture (import it into the test module): it starts a server on a
free port, points SOCSTAT_SMTP_HOST/PORT at it and yields an ``SmtpSink``. Nothing is sent
inline: ``SmtpSink.wait_for`` runs the outbox deliverer first (as the scheduler would).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from socstat.settings import reset_settings_cache


class SmtpSink:
    """aiosmtpd handler keeping every received message (after ``delay`` seconds each)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[EmailMessage] = []
        self.delay = delay
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        """Messages addressed to ``address``."""
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(
        self, count: int, timeout: float = 5.0, *, deliver: bool = True
    ) -> list[EmailMessage]:
        """The messages once ``count`` have arrived (or at ``timeout``). With ``deliver``
        the outbox is drained first, as the scheduler's outbox job would do."""
        if deliver:
            from socstat.services.delivery import deliver_due

            deliver_due()
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    @staticmethod
    def body(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def link(self, message: EmailMessage, path: str) -> str:
        """The first link to ``path`` (e.g. "/confirm") in a message."""
        found = re.search(
            r"https?://\S+" + re.escape(path) + r"\?token=[\w\-]+", self.body(message)
        )
        assert found, f"no {path} link in: {self.body(message)!r}"
        return found.group(0)

    def token(self, message: EmailMessage, path: str) -> str:
        return self.link(message, path).split("token=", 1)[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """Start/stop an aiosmtpd server on a fixed loopback port (restartable)."""

    def __init__(self, port: int | None = None, delay: float = 0.0) -> None:
        self.port = port or free_port()
        self.sink = SmtpSink(delay)
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def point_settings_at(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("SOCSTAT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SOCSTAT_SMTP_PORT", str(port))
    monkeypatch.setenv("SOCSTAT_SMTP_FROM", "socstat@test.local")
    reset_settings_cache()


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    """A running SMTP server that socstat's settings point at; yields the message sink."""
    server = SmtpServer()
    server.start()
    point_settings_at(monkeypatch, server.port)
    try:
        yield server.sink
    finally:
        server.stop()
        monkeypatch.undo()
        reset_settings_cache()


@pytest.fixture
def smtp_controller(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A NOT yet started server the settings point at (start()/stop() it in the test)."""
    server = SmtpServer()
    point_settings_at(monkeypatch, server.port)
    try:
        yield server
    finally:
        server.stop()
        monkeypatch.undo()
        reset_settings_cache()
