"""Two web instances sharing state through Redis (issue #12, «Several web instances»).

Two Reflex backends (``reflex run --env prod --single-port``, scheduler off, one worker
each) on their own ports, with ``REFLEX_REDIS_URL`` on a Redis database of this test's, the
same database and the same frontend (built by each with ``REFLEX_API_URL`` naming the
proxy's port, so the page's websocket goes through the proxy as behind Caddy). In front, a
TCP forwarder on loopback plays the reverse proxy: every new connection goes to the
backend it currently points at. The browser only ever talks to the proxy, so its tab keeps
one origin, one cookie jar and one Reflex tab token while the backend behind it changes.

The password step of a 2FA sign-in runs on backend A; the tab leaves, A is stopped and
the proxy points at B. Only the Reflex state (in Redis) knows the half-signed-in session (a
backend-only var), so B showing the code step — and accepting the code — proves the state
is shared; the pages after it show the user's data, served by B alone. Mail rate limits
counted on A refuse the next request on B: the ``limits`` counters are in Redis too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest

from socstat.settings import PROJECT_ROOT
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    RunningApp,
    _require_chromium,
    app_env,
    free_port,
    private_web_dir,
    wait_healthy,
)
from tests.dbutil import create_scratch_database, drop_scratch_database

pytestmark = pytest.mark.timeout(900)  # two backends build their frontend first
REDIS_URL = "redis://127.0.0.1:6379/11"  # this test's own database, flushed before and after
PASSWORD = "Kx9#mQ2!vLp7-zR"
ENABLE_2FA = """
import sys, pyotp
from sqlmodel import select
from socstat.db import session_scope
from socstat.models import User
from socstat.services import twofactor
with session_scope() as session:
    user = session.exec(select(User).where(User.email == sys.argv[1])).one()
    secret = twofactor.begin_enrolment(session, user=user).secret
    twofactor.confirm_enrolment(session, user=user, code=pyotp.TOTP(secret).now())
print(secret)
"""


class SwitchingProxy:
    """A TCP forwarder on loopback: each new connection goes to the current upstream
    port; :meth:`point_at` changes it and drops the open connections (as when a replica
    goes away behind a reverse proxy)."""

    def __init__(self, upstream: int) -> None:
        self.port = free_port()
        self.upstream = upstream
        self._open: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def _call(self, coroutine):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> None:
        self._thread.start()

        async def serve() -> None:
            self._server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)

        self._call(serve())

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return
        self._open.update((writer, up_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, RuntimeError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._open.difference_update((writer, up_writer))

    def point_at(self, upstream: int) -> None:
        async def switch() -> None:
            self.upstream = upstream
            for writer in list(self._open):
                writer.close()

        self._call(switch())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._open):
                writer.close()

        self._call(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


@dataclass
class Backend:
    app: RunningApp
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def _start(workdir: Path, env: dict[str, str]) -> Backend:
    port = free_port()
    env = {
        **env,
        "SOCSTAT_SANDBOX_PORT": str(free_port()),
        # its own folder, as on another machine (`reflex run` empties it as it starts;
        # without Redis the states stay in the process's memory)
        "REFLEX_STATES_WORKDIR": str(workdir / "states"),
    }
    web_dir = private_web_dir(workdir)
    if web_dir is not None:
        env["REFLEX_WEB_WORKDIR"] = str(web_dir)
    app = RunningApp(f"http://127.0.0.1:{port}", env, workdir / "app.log")
    command = [
        str(Path(sys.executable).parent / "reflex"), "run", "--env", "prod", "--single-port",
        "--frontend-port", str(port), "--backend-port", str(port),
    ]  # fmt: skip
    with app.log.open("w") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return Backend(app, process)


def _port(backend: Backend) -> int:
    return int(backend.app.url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def redis_db() -> Iterator[object]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail("Redis does not answer at 127.0.0.1:6379")
        pytest.skip("Redis does not answer at 127.0.0.1:6379")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def two_backends(
    tmp_path_factory: pytest.TempPathFactory, redis_db: object
) -> Iterator[tuple[SwitchingProxy, Backend, Backend]]:
    _require_chromium()
    database_url = create_scratch_database(os.environ["SOCSTAT_DATABASE_URL"])
    root = tmp_path_factory.mktemp("two-backends")
    proxy = SwitchingProxy(upstream=0)
    env = app_env(database_url, root / "data")
    env.update(
        REFLEX_REDIS_URL=REDIS_URL,
        REFLEX_API_URL=f"http://localhost:{proxy.port}",  # the page's websocket: the proxy
        SOCSTAT_BASE_URL=f"http://127.0.0.1:{proxy.port}",
        SOCSTAT_SCHEDULER="off",  # web replicas; `socstat worker` runs the jobs
        GRANIAN_WORKERS="1",  # with Redis Reflex would start 2 × cores + 1 workers each
    )
    backends: list[Backend] = []
    try:
        migrated = subprocess.run(
            [sys.executable, "-m", "socstat", "migrate"],
            env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert migrated.returncode == 0, migrated.stderr
        backends.append(_start(root / "a", env))
        if "REFLEX_WEB_WORKDIR" not in backends[0].app.env:  # it builds the shared .web first
            wait_healthy(backends[0].app.url, backends[0].process, backends[0].app.log)
        backends.append(_start(root / "b", env))
        for backend in backends:
            wait_healthy(backend.app.url, backend.process, backend.app.log)
        proxy.upstream = _port(backends[0])
        proxy.start()
        yield proxy, backends[0], backends[1]
    finally:
        for backend in backends:
            backend.stop()
        proxy.stop()
        drop_scratch_database(database_url)


def _until_states_saved(redis: Any) -> None:
    """Until no event holds a state lock. Reflex sends an event's update to the browser
    before it saves the state and releases the lock: stopping A right after the code form
    showed could lose that state (seen once in a loaded CI run)."""
    deadline = time.monotonic() + 15
    while redis.keys("*_lock"):
        assert time.monotonic() < deadline, "a state lock was never released"
        time.sleep(0.05)


def _until_sockets_closed(redis: Any) -> None:
    """Until A has forgotten every websocket. Reflex records which instance holds a tab's
    socket; a tab coming back while a record of its token remains (a backend killed before
    it could drop it) gets a new token and so a fresh state — the cookie session survives
    that, a half-finished sign-in does not (docs/deployment.md)."""
    deadline = time.monotonic() + 15
    while redis.keys("token_manager_socket_record_*"):
        assert time.monotonic() < deadline, "a websocket record was never dropped"
        time.sleep(0.05)


def test_a_user_signed_in_through_one_backend_keeps_working_through_the_other(
    two_backends: tuple[SwitchingProxy, Backend, Backend], redis_db
) -> None:
    from playwright.sync_api import expect, sync_playwright

    proxy, backend_a, backend_b = two_backends
    email = f"twin-{uuid.uuid4().hex[:10]}@example.org"
    created = backend_a.app.socstat(
        "users", "create", "--email", email, "--role", "analyst", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    enabled = subprocess.run(
        [sys.executable, "-c", ENABLE_2FA, email],
        env=backend_a.app.env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert enabled.returncode == 0, enabled.stderr
    secret = enabled.stdout.strip().splitlines()[-1]
    flooded = f"flood-{uuid.uuid4().hex[:10]}@example.org"

    def in_browser() -> None:
        """Sync Playwright in a thread of its own: the session's other browser tests may
        have left an asyncio loop in this one, where sync Playwright refuses to start."""
        expect.set_options(timeout=30_000)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            context = browser.new_context(
                base_url=f"http://127.0.0.1:{proxy.port}", locale="ru-RU",
                viewport={"width": 1280, "height": 800},
            )  # fmt: skip
            context.set_default_timeout(30_000)

            def request_reset(outcome: str) -> None:
                """A password-reset request for ``flooded`` in a tab of its own (a fresh Reflex
                state: a reused tab would first show its previous answer)."""
                tab = context.new_page()
                tab.goto("/reset")
                tab.get_by_test_id("input-email").fill(flooded)
                tab.get_by_test_id("reset-request").click()
                expect(tab.get_by_test_id(outcome)).to_be_visible()
                if outcome == "error-email":
                    expect(tab.get_by_test_id(outcome)).to_have_text(re.compile("Слишком много"))
                tab.close()

            page = context.new_page()
            try:
                # Through A: three password-reset requests for one address (the limit is 3/hour
                # per recipient), then the password step of the sign-in.
                for _ in range(3):
                    request_reset("form-info")
                page.goto("/login")
                page.get_by_test_id("input-email").fill(email)
                page.get_by_test_id("input-password").fill(PASSWORD)
                page.get_by_test_id("login-submit").click()
                expect(page.get_by_test_id("code-form")).to_be_visible()
                _until_states_saved(redis_db)
                page.goto("about:blank")
                _until_sockets_closed(redis_db)

                # A goes away; the proxy sends everything to B from now on.
                backend_a.stop()
                proxy.point_at(_port(backend_b))
                page.goto("/login")
                # The half-signed-in session lives only in the Reflex state: B has it from Redis.
                expect(page.get_by_test_id("code-form")).to_be_visible()
                page.get_by_test_id("input-code").fill(pyotp.TOTP(secret).at(int(time.time()) + 30))
                page.get_by_test_id("code-submit").click()
                expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
                page.goto("/profile")
                expect(page.get_by_test_id("profile-email")).to_have_text(email)
                page.reload()
                expect(page.get_by_test_id("profile-email")).to_have_text(email)

                # B counts on from A's three requests: the fourth is refused.
                request_reset("error-email")
            finally:
                context.close()
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(in_browser).result()
    assert backend_a.process.poll() is not None  # B alone served the second half
    assert redis_db.keys("*socstat-mail*")  # type: ignore[attr-defined]
