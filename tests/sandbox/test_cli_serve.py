"""`socstat sandbox serve` as a user runs it: a real process that answers over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from socstat.settings import PROJECT_ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sandbox_serve_command_answers_over_http() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "socstat",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--communities",
            "3",
            "--days",
            "2",
        ],
        cwd=PROJECT_ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = None
        deadline = time.monotonic() + 60
        while answer is None and time.monotonic() < deadline and process.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert process.poll() is None, process.communicate()[1]
        assert answer is not None and answer.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert "Traceback" not in err, err


def test_sandbox_serve_bad_argument_is_one_line_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "socstat", "sandbox", "serve", "--seed", "9" * 30],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
