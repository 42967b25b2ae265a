"""Load on one backend (``make bench-load``): /healthz under a load generator for a fixed time.

Starts the Reflex backend alone (``reflex run --env prod --backend-only``) on a loopback
port against a fresh database (PostgreSQL when it answers at 127.0.0.1:5432, else SQLite),
then drives ``/healthz`` with ``wrk`` when it is installed, else with a bounded asyncio
httpx loop: requests/s, p50/p99 latency, errors. Traffic goes to 127.0.0.1 only and stops
after ``--seconds``. Writes its section of docs/benchmarks.md and ends with one summary line.

The websocket part of the issue (N sessions driving the dashboard's events) is not here yet.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.bench_collect import _write_doc
from bench.bench_pipeline import PG_URL, _postgres_answers

SECTION = "## Нагрузка на /healthz (make bench-load)"
BENCH_DB = "socstat_bench_load"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LoadResult:
    tool: str
    seconds: float
    connections: int
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fresh_database(sqlite: bool) -> str:
    if sqlite or not _postgres_answers():
        return f"sqlite:///{tempfile.mkdtemp(prefix='socstat-load-')}/load.db"
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=BENCH_DB).render_as_string(hide_password=False)


def _start_backend(database_url: str, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "SOCSTAT_DATABASE_URL": database_url,
        "SOCSTAT_DATA_DIR": tempfile.mkdtemp(prefix="socstat-load-"),
        "SOCSTAT_ENV": "prod",
        "SOCSTAT_SECRET_KEY": "bench-load-secret-key-0123456789",
        "SOCSTAT_SCHEDULER": "off",
        "REFLEX_USE_NPM": "1",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "REFLEX_TELEMETRY_ENABLED": "false",
    }
    subprocess.run(
        [sys.executable, "-m", "socstat", "migrate"], env=env, cwd=PROJECT_ROOT, check=True
    )
    reflex = str(Path(sys.executable).parent / "reflex")
    command = [reflex, "run", "--env", "prod", "--backend-only", "--backend-port", str(port)]
    with log.open("w") as out:
        return subprocess.Popen(
            command, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the backend exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"the backend did not answer /healthz in {timeout:.0f} s")


def _run_wrk(url: str, seconds: int, connections: int) -> LoadResult:
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", f"{url}/healthz"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = done.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors += int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    return LoadResult(
        "wrk", seconds, connections, requests, errors,
        _wrk_ms(out, "50%"), _wrk_ms(out, "99%"),
    )  # fmt: skip


def _wrk_ms(out: str, percentile: str) -> float:
    match = re.search(rf"{re.escape(percentile)}\s+([\d.]+)(us|ms|s)", out)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


async def _run_httpx(url: str, seconds: int, connections: int) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:

        async def loop() -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    response = await client.get("/healthz")
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        await asyncio.gather(*(loop() for _ in range(connections)))
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

    return LoadResult(
        "httpx", seconds, connections, len(latencies) + errors, errors, pick(0.5), pick(0.99)
    )


def _section(result: LoadResult, database: str, load: float) -> str:
    return "\n".join(
        [
            SECTION,
            "",
            "Команда: `make bench-load` (`python -m bench.bench_load --seconds 30 --connections "
            f"{result.connections}`). Один Reflex-бэкенд (`reflex run --env prod --backend-only`), "
            f"база {database}, генератор нагрузки `{result.tool}` на той же 2-ядерной машине.",
            "",
            "| запросов/с | p50, мс | p99, мс | ошибок | всего запросов | длительность |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {result.rps:.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} | {result.errors} "
            f"| {result.requests} | {result.seconds} с |",
            "",
            "Каждый ответ `/healthz` делает `SELECT 1` в базе (в отдельном потоке). Генератор и "
            "сервер делят два ядра, так что цифра — нижняя граница. Средняя загрузка машины "
            f"(loadavg за 1 мин) перед замером: {load:.1f}.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30, choices=range(1, 301), metavar="1..300")
    parser.add_argument("--connections", type=int, default=32, choices=range(1, 513), metavar="N")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    database_url = _fresh_database(args.sqlite)
    database = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="socstat-load-log-")) / "backend.log"
    process = _start_backend(database_url, port, log)
    load = os.getloadavg()[0]
    try:
        _wait_healthy(url, process)
        if shutil.which("wrk"):
            result = _run_wrk(url, args.seconds, args.connections)
        else:
            result = asyncio.run(_run_httpx(url, args.seconds, args.connections))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    if not args.no_doc:
        _write_doc(_section(result, database, load), SECTION)
    print(
        f"bench-load /healthz ({result.tool}, {database}, {result.connections} connections, "
        f"{result.seconds} s): {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, errors {result.errors}"
    )
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
