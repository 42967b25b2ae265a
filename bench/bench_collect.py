"""Benchmark of VK collection against the sandbox (``make bench-collect``).

    .venv/bin/python -m bench.bench_collect [--communities 1000 --days 30 --nobatch 100]

The sandbox runs in a separate process (its CPU time must not be charged to the
collector) with one user token limited to 3 requests/s. Phases:

1. full collection: since = now − days for every community, execute batching on;
2. the sandbox clock moves one day forward, then an incremental collection
   (since = now − 3 days);
3. the full collection again WITHOUT batching (one call per request) on the first
   ``--nobatch`` communities only — at 3 calls/s the whole world would take too long.

Efficiency = (API calls ÷ 75) ÷ wall time, 75 calls/s being the ceiling of one token
(3 requests/s × 25 calls per execute). The table goes to stdout and to
``docs/benchmarks.md`` (section "## Сбор VK (make bench-collect)").
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import resource
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from socstat.collectors.base import CollectRequest
from socstat.collectors.vk import VKCollector
from socstat.sandbox.config import SandboxConfig, TokenSpec
from socstat.sandbox.runner import serve

TOKEN = "bench-user-token"
CEILING = 75.0  # calls per second of one user token: 3 requests/s × 25 calls
SECTION = "## Сбор VK (make bench-collect)"
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


@dataclass
class Phase:
    name: str
    communities: int
    seconds: float
    requests: int
    calls: int
    items: int
    incomplete: int
    errors: dict[str, int]
    peak_rss_mb: float

    @property
    def efficiency(self) -> float:
        return (self.calls / CEILING) / self.seconds if self.seconds else 0.0

    @property
    def calls_per_request(self) -> float:
        return self.calls / self.requests if self.requests else 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_sandbox(config: SandboxConfig) -> tuple[multiprocessing.Process, str]:
    port = _free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=serve, args=(config, "127.0.0.1", port), daemon=True
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("sandbox did not start")


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def _run_phase(name: str, url: str, ids: list[int], since: datetime, batch: bool) -> Phase:
    collector = VKCollector(base_url=url, tokens=TOKEN, timeout=30, batch=batch)
    requests = [CollectRequest(str(gid), since) for gid in ids]
    items = incomplete = 0
    start = time.perf_counter()
    try:
        async for result in collector.collect(requests):
            items += len(result.items)
            incomplete += not result.complete
    finally:
        seconds = time.perf_counter() - start
        await collector.aclose()
    usage = collector.usage
    return Phase(
        name, len(ids), seconds, usage.requests, usage.calls, items, incomplete,
        dict(usage.errors_by_code), _peak_rss_mb(),
    )  # fmt: skip


def _table(phases: list[Phase]) -> str:
    head = (
        "| Прогон | Сообществ | Время, с | HTTP-запросов | Вызовов API | Вызовов/запрос "
        "| Эффективность | Записей | Неполных | Ошибки VK/сети | Пик RSS, МБ |"
    )
    lines = [head, "|" + "---|" * 11]
    for p in phases:
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(p.errors.items())) or "—"
        lines.append(
            f"| {p.name} | {p.communities} | {p.seconds:.1f} | {p.requests} | {p.calls} "
            f"| {p.calls_per_request:.1f} | {p.efficiency:.3f} | {p.items} | {p.incomplete} "
            f"| {errors} | {p.peak_rss_mb:.0f} |"
        )
    return "\n".join(lines)


def _section(args: argparse.Namespace, phases: list[Phase], extrapolated: float) -> str:
    command = (
        f".venv/bin/python -m bench.bench_collect --communities {args.communities} "
        f"--days {args.days} --nobatch {args.nobatch}"
    )
    return "\n".join(
        [
            SECTION,
            "",
            f"Команда: `{command}` (или `make bench-collect`). "
            f"Запуск {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
            f"{platform.machine()}.",
            "",
            f"Песочница в отдельном процессе: {args.communities} сообществ, история "
            f"{args.days} дней, один пользовательский токен, лимит 3 запроса/с включён. "
            "Эффективность = (вызовы API ÷ 75) ÷ время; 75 вызовов/с — потолок одного токена "
            "(3 запроса/с × 25 вызовов в execute).",
            "",
            _table(phases),
            "",
            "* «Полный» — since = now − дней истории для каждого сообщества; "
            "«Инкрементальный» — после сдвига часов песочницы на сутки, since = now − 3 дня.",
            f"* «Без execute» — один вызов на запрос, только {args.nobatch} сообществ "
            f"(весь мир занял бы ≈ {extrapolated / 60:.0f} мин при той же скорости — "
            "экстраполяция по числу вызовов полного прогона).",
            _speedup(phases),
            "* Пик RSS — максимум резидентной памяти процесса-сборщика к концу прогона "
            "(накопительный: последующие строки не меньше предыдущих).",
            "",
        ]
    )


def _speedup(phases: list[Phase]) -> str:
    if len(phases) < 3 or not phases[2].seconds or not phases[0].seconds:
        return "* Сравнение без execute не запускалось."
    batched = phases[0].calls / phases[0].seconds
    single = phases[2].calls / phases[2].seconds
    return (
        f"* Скорость: {batched:.1f} вызовов/с с execute против {single:.1f} без него "
        f"(×{batched / single:.0f})."
    )


def _write_doc(section: str, heading: str = SECTION) -> None:
    """Replace the section that starts with ``heading`` in docs/benchmarks.md (or append)."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Бенчмарки\n"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        tail = text[end + 1 :] if end != -1 else ""
        text = text[:start] + section + ("\n" + tail if tail else "")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")


async def _bench(args: argparse.Namespace, url: str, now: datetime) -> list[Phase]:
    async with httpx.AsyncClient(base_url=url) as control:
        communities = (await control.get("/_sandbox/communities")).json()["items"]
        ids = [item["id"] for item in communities]
        phases = [
            await _run_phase("Полный, execute", url, ids, now - timedelta(days=args.days), True)
        ]
        print(_table(phases), flush=True)
        await control.post("/_sandbox/clock", json={"advance_seconds": 86400})
        now += timedelta(days=1)
        phases.append(
            await _run_phase("Инкрементальный, execute", url, ids, now - timedelta(days=3), True)
        )
        print(_table(phases[-1:]), flush=True)
        if args.nobatch:
            since = now - timedelta(days=args.days)
            phases.append(
                await _run_phase("Полный, без execute", url, ids[: args.nobatch], since, False)
            )
    return phases


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--nobatch", type=int, default=100, help="communities without execute")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)

    now = datetime.now(UTC).replace(microsecond=0)
    config = SandboxConfig(
        seed=args.seed,
        communities=args.communities,
        days=args.days,
        now=now,
        tokens=[TokenSpec(TOKEN, "user")],
        rate_limit=True,
    )
    process, url = _start_sandbox(config)
    try:
        phases = asyncio.run(_bench(args, url, now))
    finally:
        process.terminate()
        process.join(10)
    full = phases[0]
    extrapolated = full.calls / 3.0  # one call per request at 3 requests/s
    section = _section(args, phases, extrapolated)
    print()
    print(section)
    if not args.no_doc:
        _write_doc(section)


if __name__ == "__main__":
    main()
