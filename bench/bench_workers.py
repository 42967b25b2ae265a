"""Collection across worker processes: 1 worker × 1 token vs N workers × N tokens
(``make bench-collect``).

    .venv/bin/python -m bench.bench_workers [--communities 1000 --days 30 --workers 3]

The same world as bench_pipeline (user tokens at 3 requests/s each) collected by real
``socstat worker`` processes into a fresh PostgreSQL database: first one worker with one
token, then N workers with N tokens (a fresh database each time, the sandbox's quotas
reset). Every worker talks to a sandbox process of its own serving the same world (same
seed and clock): one Python process answering N tokens' requests would be the bottleneck,
and VK is not one. The sandboxes are warmed first (``POST /_sandbox/warm``: the world
generated and every wall item encoded), since generating VK's data is not work of the
machine being measured. Time = from the first run's start to the last
run's end in the journal (process start-up is not collection); the stored daily
aggregates are checked against the sandbox truth. CPU seconds per 1000 communities of
the workers (start-up included), the sandboxes and PostgreSQL's backends of the bench
database (/proc, Linux) do not depend on the machine's load the way the time does. The
table goes to stdout and docs/benchmarks.md; ``uptime`` is printed next to it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from bench.bench_collect import CEILING, _start_sandbox, _write_doc
from bench.bench_pipeline import (
    BENCH_DB,
    _add_sources,
    _configure,
    _fresh_database,
    _mismatches,
    _postgres_answers,
    _settled_days,
)
from socstat.sandbox.config import SandboxConfig, TokenSpec

SECTION = "## Сбор несколькими воркерами (make bench-collect)"
TOKENS = [f"bench-worker-token-{i}" for i in range(1, 9)]
TIMEOUT_SECONDS = 900


@dataclass
class Scenario:
    workers: int
    seconds: float
    runs: int
    requests: int
    calls: int
    collected: int
    twice: int
    wrong: int
    cpu: dict[str, float] = field(default_factory=dict)  # process group → CPU seconds

    @property
    def efficiency(self) -> float:
        """Calls per second as a share of what the workers' tokens allow together."""
        return (self.calls / (CEILING * self.workers)) / self.seconds if self.seconds else 0.0


def _start_workers(database_url: str, sandbox_urls: list[str], days: int) -> list:  # type: ignore[type-arg]
    """One worker per sandbox, each with the token of its index."""
    data_dir = tempfile.mkdtemp(prefix="socstat-bench-workers-")
    return [
        subprocess.Popen(
            [sys.executable, "-m", "socstat", "worker"],
            env={
                **os.environ,
                "SOCSTAT_DATABASE_URL": database_url,
                "SOCSTAT_VK_API_URL": url,
                "SOCSTAT_VK_TOKENS": TOKENS[index],
                "SOCSTAT_BACKFILL_DAYS": str(days),
                "SOCSTAT_COLLECT_POLL_SECONDS": "1",
                "SOCSTAT_LOG_LEVEL": "WARNING",
                "SOCSTAT_DATA_DIR": data_dir,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index, url in enumerate(sandbox_urls)
    ]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (0 when it is gone or not on Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pids() -> list[int]:
    """PostgreSQL backends connected to the bench database (but this one)."""
    from sqlalchemy import text

    from socstat.db import session_scope

    with session_scope() as session:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
        return list(session.execute(text(query), {"db": BENCH_DB}).scalars())


def _journal(total: int) -> tuple[bool, Scenario]:
    """(done, figures so far) from the run journal."""
    from sqlalchemy import func
    from sqlmodel import select

    from socstat.db import session_scope
    from socstat.models import CollectionRun, CollectionRunSource, RunStatus

    with session_scope() as session:
        runs = session.exec(select(CollectionRun)).all()
        per_source = session.exec(
            select(CollectionRunSource.source_id, func.count()).group_by(
                CollectionRunSource.source_id
            )
        ).all()
    finished = [r for r in runs if r.finished_at is not None]
    seconds = 0.0
    if finished:
        end = max(r.finished_at for r in finished if r.finished_at is not None)
        seconds = (end - min(r.started_at for r in runs)).total_seconds()
    done = len(per_source) == total and not any(r.status == RunStatus.RUNNING for r in runs)
    figures = Scenario(
        0, seconds, len(runs), sum(r.requests for r in runs), sum(r.calls for r in runs),
        len(per_source), sum(1 for _sid, n in per_source if n > 1), 0,
    )  # fmt: skip
    return done, figures


def _scenario(sandboxes: list, args: argparse.Namespace, now: datetime) -> Scenario:  # type: ignore[type-arg]
    urls = [url for _process, url in sandboxes]
    workers = len(urls)
    database_url = _fresh_database(sqlite=False)
    _configure(database_url, urls[0], args.days)
    from socstat.migrations import upgrade_database

    upgrade_database()
    for url in urls:
        httpx.post(f"{url}/_sandbox/reset_quotas", timeout=60)
    sandbox_cpu = [_cpu_seconds(process.pid) for process, _url in sandboxes]
    with httpx.Client(base_url=urls[0], timeout=120) as control:
        communities = control.get("/_sandbox/communities").json()["items"]
        _add_sources([c["id"] for c in communities])
        processes = _start_workers(database_url, urls, args.days)
        backends: dict[int, float] = {}
        try:
            deadline = time.monotonic() + TIMEOUT_SECONDS
            done, figures = _journal(len(communities))
            while not done:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{workers} worker(s): not done in {TIMEOUT_SECONDS} s")
                time.sleep(0.5)
                backends.update((pid, _cpu_seconds(pid)) for pid in _backend_pids())
                done, figures = _journal(len(communities))
            backends.update((pid, _cpu_seconds(pid)) for pid in _backend_pids())
            figures.cpu = {
                "workers": sum(_cpu_seconds(process.pid) for process in processes),
                "sandboxes": sum(
                    _cpu_seconds(process.pid) - before
                    for (process, _url), before in zip(sandboxes, sandbox_cpu, strict=True)
                ),
                "postgres": sum(backends.values()),
            }
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
        truth = control.get("/_sandbox/truth").json()
    figures.workers = workers
    figures.wrong = _mismatches(truth, _settled_days(now, args.days), with_likes=True)
    return figures


def _table(scenarios: list[Scenario]) -> str:
    base = scenarios[0].seconds
    lines = [
        "| Воркеров × токенов | Время, с | Доля от 1 × 1 | Запусков (пачек) | HTTP-запросов "
        "| Вызовов API | Эффективность | Собрано / дважды | Расхождений с истиной "
        "| CPU, с на 1000 сообществ: воркеры / песочницы / PostgreSQL |",
        "|" + "---|" * 10,
    ]
    for s in scenarios:
        per_thousand = 1000 / max(1, s.collected)
        cpu = " / ".join(
            f"{s.cpu.get(name, 0.0) * per_thousand:.1f}"
            for name in ("workers", "sandboxes", "postgres")
        )
        lines.append(
            f"| {s.workers} × {s.workers} | {s.seconds:.1f} | {s.seconds / base:.2f} | {s.runs} "
            f"| {s.requests} | {s.calls} | {s.efficiency:.3f} | {s.collected} / {s.twice} "
            f"| {s.wrong} | {cpu} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=3, choices=range(2, len(TOKENS) + 1))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    if not _postgres_answers():
        sys.exit("bench_workers: PostgreSQL must answer at 127.0.0.1:5432")

    now = datetime.now(UTC).replace(microsecond=0)
    config = SandboxConfig(
        seed=args.seed,
        communities=args.communities,
        days=args.days,
        now=now,
        tokens=[TokenSpec(token, "user") for token in TOKENS],
        rate_limit=True,
    )
    sandboxes = [_start_sandbox(config) for _ in range(args.workers)]
    try:
        for _process, url in sandboxes:
            httpx.post(f"{url}/_sandbox/warm", timeout=600)
        scenarios = [_scenario(sandboxes[:1], args, now)]
        print(_table(scenarios), flush=True)
        scenarios.append(_scenario(sandboxes, args, now))
    finally:
        for process, _url in sandboxes:
            process.terminate()
            process.join(10)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    command = (
        f".venv/bin/python -m bench.bench_workers --communities {args.communities} "
        f"--days {args.days} --workers {args.workers}"
    )
    section = "\n".join(
        [
            SECTION,
            "",
            f"Команда: `{command}` (или `make bench-collect`). "
            f"Запуск {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, база: PostgreSQL.",
            f"Нагрузка машины сразу после замера (`uptime`): `{load}`.",
            "",
            f"Процессы `socstat worker` собирают мир песочницы ({args.communities} сообществ, "
            f"{args.days} дней) в чистую базу: сначала один воркер с одним токеном, затем "
            f"{args.workers} воркера с {args.workers} токенами (пользовательские, 3 запроса/с "
            "каждый). У каждого воркера своя песочница с тем же миром (одно Python-приложение, "
            "отвечающее за все токены, само стало бы узким местом; у VK его нет); песочницы "
            "заранее прогреты (`POST /_sandbox/warm`: мир сгенерирован, записи стен "
            "закодированы — работа VK не должна занимать измеряемую машину). Воркер "
            "берёт токен и забирает просроченные источники пачками (`FOR UPDATE SKIP "
            "LOCKED` с арендой; пачка — доля воркера от доступного сейчас, воркеры считаются "
            "по идущим запускам), одна запись журнала на пачку. "
            "Время — от начала первой пачки до конца последней по журналу (без запуска "
            "процессов). Эффективность — вызовов API в секунду от потолка токенов воркеров "
            "(75 вызовов/с на токен).",
            "",
            _table(scenarios),
            "",
            "* «Дважды» — источники, собранные больше одного раза (должно быть 0); "
            "«Расхождений» — дни с числом постов или лайками не как в истине песочницы "
            "(читаемые стены, завершённые дни истории).",
            "* CPU — секунды процессора (user + system, /proc) на 1000 сообществ: процессы "
            "воркеров (с их запуском), песочницы и backend-процессы PostgreSQL базы бенчмарка. "
            "От нагрузки машины они зависят меньше, чем время.",
            "* Доля около 1/N получается, только пока сбор упирается в лимит токенов. Если "
            "нагрузка машины (`uptime`) выше числа ядер, worker-ы, PostgreSQL и песочница "
            "делят процессор, сбор упирается в него, и доля ближе к 1.",
            "",
        ]
    )
    print()
    print(section)
    if not args.no_doc:
        _write_doc(section, SECTION)


if __name__ == "__main__":
    main()
