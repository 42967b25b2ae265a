"""The built app on a free port against a fresh database, driven by Debian's Chromium."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest

from socstat.settings import PROJECT_ROOT
from tests.dbutil import create_scratch_database, drop_scratch_database

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT = 420


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing (apt-get install chromium)")
    pytest.skip("Chromium is not installed (apt-get install chromium)")


class RunningApp:
    def __init__(self, url: str, env: dict[str, str], log: Path) -> None:
        self.url = url
        self.env = env
        self.log = log

    def socstat(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """Run the socstat CLI against the app's database."""
        return subprocess.run(
            [sys.executable, "-m", "socstat", *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@dataclass(frozen=True)
class CapturedEmail:
    to: list[str]
    subject: str
    body: str


class SmtpCapture:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[CapturedEmail] = []
        self._lock = threading.Lock()
        self.host = "127.0.0.1"
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed: Message = message_from_bytes(envelope.content, policy=default_policy)
        body_part = parsed.get_body(preferencelist=("plain",)) if parsed.is_multipart() else parsed
        body = body_part.get_content() if body_part is not None else ""
        with self._lock:
            self.messages.append(
                CapturedEmail(
                    to=[addr.lower() for addr in envelope.rcpt_tos],
                    subject=str(parsed.get("Subject", "")),
                    body=body,
                )
            )
        return "250 OK"

    def wait_for(
        self, to: str, *, subject_contains: str = "", timeout: float = 60
    ) -> CapturedEmail:
        """The newest message to ``to`` (and with the subject part), waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [
                    m for m in self.messages if to.lower() in m.to and subject_contains in m.subject
                ]
            if found:
                return found[-1]
            time.sleep(0.2)
        raise AssertionError(f"no email to {to} ({subject_contains!r}) within {timeout}s")

    def link(self, to: str, path: str, *, subject_contains: str = "", timeout: float = 60) -> str:
        """The path+query of the first link to ``path`` in the newest email to ``to``."""
        message = self.wait_for(to, subject_contains=subject_contains, timeout=timeout)
        match = re.search(rf"https?://[^/\s]+({re.escape(path)}\?token=[\w\-]+)", message.body)
        assert match, f"no {path} link in: {message.body}"
        return match.group(1)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpCapture]:
    """The SMTP server the app process sends its emails to (SOCSTAT_SMTP_HOST/PORT)."""
    from aiosmtpd.controller import Controller

    capture = SmtpCapture()
    controller = Controller(capture, hostname="127.0.0.1", port=free_port())
    controller.start()
    capture.port = controller.port
    try:
        yield capture
    finally:
        controller.stop()


def app_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        PATH=f"{venv_bin}:{env.get('PATH', '')}",
        REFLEX_USE_NPM="1",
        REFLEX_CHECK_LATEST_VERSION="0",
        REFLEX_TELEMETRY_ENABLED="false",
        SOCSTAT_DATABASE_URL=database_url,
        SOCSTAT_DATA_DIR=str(data_dir),
        SOCSTAT_SANDBOX_PORT=str(free_port()),
        SOCSTAT_ENV="test",
        SOCSTAT_OUTBOX_INTERVAL_SECONDS="1",  # the outbox job delivers the emails tests read
    )
    return env


def wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"the app did not start in {STARTUP_TIMEOUT}s:\n{log.read_text()[-4000:]}")


def private_web_dir(workdir: Path) -> Path | None:
    """A build folder of this test session's own, so parallel runs (or `make run`) never
    rebuild each other's frontend; node_modules is shared read-only. None on a fresh
    checkout (no .web yet): then the project's .web is used and created."""
    shared = PROJECT_ROOT / ".web"
    if not (shared / "node_modules").is_dir():
        return None
    private = workdir / "web"
    shutil.copytree(shared, private, ignore=shutil.ignore_patterns("node_modules", "build"))
    (private / "node_modules").symlink_to(shared / "node_modules")
    return private


def start_app(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """The built app (``reflex run --env prod``, frontend and backend on ``port``) in its
    own process group, its output in ``log``. Also used by bench/bench_dashboard_browser."""
    with log.open("w") as log_file:
        return subprocess.Popen(
            [
                str(Path(sys.executable).parent / "reflex"),
                "run",
                "--env",
                "prod",
                "--single-port",
                "--frontend-port",
                str(port),
                "--backend-port",
                str(port),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_app(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def running_app(
    tmp_path_factory: pytest.TempPathFactory, smtp_server: SmtpCapture
) -> Iterator[RunningApp]:
    _require_chromium()
    workdir = tmp_path_factory.mktemp("app")
    database_url = create_scratch_database(os.environ["SOCSTAT_DATABASE_URL"])
    port = free_port()
    env = app_env(database_url, workdir / "data")
    env.update(
        SOCSTAT_SMTP_HOST=smtp_server.host,
        SOCSTAT_SMTP_PORT=str(smtp_server.port),
        SOCSTAT_BASE_URL=f"http://127.0.0.1:{port}",
    )
    web_dir = private_web_dir(workdir)
    if web_dir is not None:
        env["REFLEX_WEB_WORKDIR"] = str(web_dir)
    app = RunningApp(f"http://127.0.0.1:{port}", env, workdir / "app.log")
    migrated = app.socstat("migrate")
    assert migrated.returncode == 0, migrated.stderr
    process = start_app(env, port, app.log)
    try:
        wait_healthy(app.url, process, app.log)
        yield app
    finally:
        stop_app(process)
        drop_scratch_database(database_url)


@pytest.fixture(scope="session")
def browser(running_app: RunningApp) -> Iterator[object]:
    from playwright.sync_api import expect, sync_playwright

    # CI machines have two cores shared with the app and its build: give assertions room.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, running_app: RunningApp):
    """Factory: a fresh browser context (own cookies/storage) with the given viewport."""
    contexts = []

    def _open(width: int = 1280, height: int = 800):
        context = browser.new_context(
            viewport={"width": width, "height": height}, base_url=running_app.url, locale="ru-RU"
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


TEST_PASSWORD = "Kx9#mQ2!vLp7-zR"


@pytest.fixture
def signed_in_page(new_page, running_app: RunningApp):
    """Factory: a fresh browser context signed in as a new user of ``role`` (created with
    the CLI); returns ``(page, email)``. The password is ``TEST_PASSWORD``."""
    import uuid

    from playwright.sync_api import expect

    def _open(role: str = "analyst", width: int = 1280, height: int = 800):
        email = f"{role}-{uuid.uuid4().hex[:10]}@example.org"
        created = running_app.socstat(
            "users", "create", "--email", email, "--role", role, "--password-stdin",
            stdin=TEST_PASSWORD + "\n",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        page = new_page(width, height)
        page.goto("/login")
        page.get_by_test_id("input-email").fill(email)
        page.get_by_test_id("input-password").fill(TEST_PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_role("heading", name="Обзор")).to_be_visible()
        return page, email

    return _open
