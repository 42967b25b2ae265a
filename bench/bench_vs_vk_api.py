"""`socstat collect --all` side by side with vk_api's execute pool (``make bench-collect``).

    .venv/bin/python -m bench.bench_vs_vk_api [--communities 200 --days 30]

One sandbox world (a separate process, one user token limited to 3 requests/s) is read
twice, each time by a fresh process and both timed from process start to exit:

1. `socstat collect --all` on a fresh SQLite database where every community is tracked
   (first collection: everything published since local midnight `--days` days ago);
2. the same reading with vk_api (https://github.com/python273/vk_api): its
   ``VkRequestsPool`` packs the calls into ``execute`` requests of 25 and its ``VkApi``
   keeps to 3 requests/s. First round: ``groups.getById`` and the first ``wall.get`` page of
   every community; then the next page of every community whose wall has not reached the
   start date yet, until none is left. Only the API address is changed (to the sandbox),
   and every chunk is sent in the `return [API.…, …]` form of execute (see the worker).

Both programs run from compiled bytecode: vk_api's modules were compiled by pip when it
was installed, socstat's are compiled before the measurement (a first run does the same
unless PYTHONDONTWRITEBYTECODE is set; compiling costs socstat ~0.1 s of every start).

The table goes to stdout and to ``docs/benchmarks.md`` (section below).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.bench_collect import _start_sandbox, _write_doc
from socstat.sandbox.config import SandboxConfig, TokenSpec

TOKEN = "bench-user-token"
SECTION = "## socstat collect --all против vk_api (make bench-collect)"
ROOT = Path(__file__).resolve().parent.parent
MSK = ZoneInfo("Europe/Moscow")


@dataclass
class Result:
    name: str
    seconds: float
    requests: int
    calls: int
    posts: int
    run_seconds: float | None = None  # socstat's own figure: the run without process start


def _since(days: int) -> datetime:
    today = datetime.now(MSK).date()
    return datetime.combine(today - timedelta(days=days), datetime.min.time(), tzinfo=MSK)


def _socstat(url: str, ids: list[int], days: int) -> Result:
    work = Path(tempfile.mkdtemp(prefix="socstat-bench-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SOCSTAT_")},
        "SOCSTAT_ENV": "dev",
        "SOCSTAT_DATA_DIR": str(work),
        "SOCSTAT_DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
        "SOCSTAT_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "SOCSTAT_VK_API_URL": url,
        "SOCSTAT_VK_TOKENS": TOKEN,
        "SOCSTAT_BACKFILL_DAYS": str(days),
    }

    def run(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "socstat", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise RuntimeError(f"socstat {args[0]} failed: {done.stdout}{done.stderr}")
        return done.stdout

    run("migrate")
    run("users", "create", "--email", "bench@example.org", "--role", "admin",
        "--password-stdin", stdin="Kx7-sandbox-measure-42\n")  # fmt: skip
    run("sources", "add", *(f"club{gid}" for gid in ids))
    start = time.perf_counter()
    out = run("collect", "--all")
    seconds = time.perf_counter() - start
    figures = re.search(r"запросов (\d+), вызовов API (\d+)", out)
    posts = re.search(r"публикации: новых (\d+)", out)
    inside = re.search(r"длительность: ([\d.]+) с", out)
    if figures is None or posts is None or inside is None:
        raise RuntimeError(f"unexpected output of socstat collect: {out}")
    requests, calls = int(figures[1]), int(figures[2])
    return Result(
        "socstat collect --all", seconds, requests, calls, int(posts[1]), float(inside[1])
    )


def _vk_api(url: str, ids: list[int], days: int) -> Result:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_vs_vk_api", "--vk-api-worker", url,
         "--days", str(days), *map(str, ids)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"the vk_api reader failed: {done.stderr[-3000:]}")
    seconds = time.perf_counter() - start
    requests, calls, posts = (int(x) for x in done.stdout.split())
    return Result("vk_api VkRequestsPool", seconds, requests, calls, posts)


def vk_api_worker(url: str, ids: list[int], days: int) -> None:
    """Runs in its own process: read every wall down to the start date with vk_api."""
    import requests
    import vk_api
    import vk_api.requests_pool

    # The sandbox parses the `return [API.x(...), ...]` form of execute, not vk_api's
    # loop program for a pool of one method: use the list form for every chunk (same
    # 25 calls per request, same number of requests).
    vk_api.requests_pool.check_one_method = lambda pool: False

    class ToSandbox(requests.Session):
        def request(self, method, target, *args, **kwargs):  # type: ignore[no-untyped-def]
            target = target.replace("https://api.vk.ru", url)
            return super().request(method, target, *args, **kwargs)

    session = vk_api.VkApi(token=TOKEN, api_version="5.199", session=ToSandbox())
    since = _since(days).timestamp()
    counter = {"requests": 0}
    original = session.method

    def counted(method, values=None, **kwargs):  # type: ignore[no-untyped-def]
        counter["requests"] += 1
        return original(method, values, **kwargs)

    session.method = counted  # type: ignore[method-assign]
    calls = posts = 0
    offsets = dict.fromkeys(ids, 0)
    first = True
    while offsets:
        with vk_api.VkRequestsPool(session) as pool:
            pages = {}
            for gid, offset in offsets.items():
                if first:
                    pool.method("groups.getById", {"group_id": gid, "fields": "members_count"})
                    calls += 1
                params = {"owner_id": -gid, "count": 100, "offset": offset}
                pages[gid] = pool.method("wall.get", params)
                calls += 1
        first = False
        following = {}
        for gid, page in pages.items():
            items = page.result["items"]
            dates = [i["date"] for i in items if not i.get("is_pinned")]
            posts += sum(1 for i in items if i["date"] >= since)
            if dates and min(dates) >= since and offsets[gid] + 100 < page.result["count"]:
                following[gid] = offsets[gid] + 100
        offsets = following
    print(counter["requests"], calls, posts)


def _compile_socstat() -> None:
    """Byte-compile socstat as vk_api is (see the module doc)."""
    command = [sys.executable, "-m", "compileall", "-q", str(ROOT / "socstat")]
    subprocess.run(command, check=True, capture_output=True)


def _table(results: list[Result]) -> str:
    lines = [
        "| Способ | Время, с | Из них сбор, с | HTTP-запросов | Вызовов API "
        "| Вызовов/запрос | Записей |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        run = f"{r.run_seconds:.1f}" if r.run_seconds is not None else "—"
        lines.append(
            f"| {r.name} | {r.seconds:.1f} | {run} | {r.requests} | {r.calls} "
            f"| {r.calls / r.requests:.1f} | {r.posts} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--vk-api-worker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("ids", nargs="*", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.vk_api_worker:
        vk_api_worker(args.vk_api_worker, args.ids, args.days)
        return

    config = SandboxConfig(
        seed=args.seed,
        communities=args.communities,
        days=args.days + 5,
        now=datetime.now(UTC).replace(microsecond=0),
        tokens=[TokenSpec(TOKEN, "user")],
        rate_limit=True,
    )
    _compile_socstat()
    process, url = _start_sandbox(config)
    try:
        communities = httpx.get(f"{url}/_sandbox/communities").json()["items"]
        ids = [c["id"] for c in communities if c["status"] == "open"]
        results = [_socstat(url, ids, args.days), _vk_api(url, ids, args.days)]
    finally:
        process.terminate()
        process.join(10)
    ratio = results[0].seconds / results[1].seconds
    command = (
        f".venv/bin/python -m bench.bench_vs_vk_api --communities {args.communities} "
        f"--days {args.days}"
    )
    section = "\n".join(
        [
            SECTION,
            "",
            f"Команда: `{command}` (или `make bench-collect`). "
            f"Запуск {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
            "",
            f"Один мир песочницы ({args.communities} сообществ, из них открытых {len(ids)}; "
            "один пользовательский токен, 3 запроса/с), первый сбор за "
            f"{args.days} дней. Время — от запуска процесса до его выхода (у socstat это "
            "`socstat collect --all` на свежей базе SQLite, со всей записью в базу). "
            "Обе программы запускаются из скомпилированного байт-кода (у vk_api его "
            "создал pip при установке, у socstat — бенчмарк перед замером).",
            "",
            _table(results),
            "",
            f"* socstat / vk_api по времени: {ratio:.2f}. «Из них сбор» — длительность самого "
            "запуска по журналу socstat (без старта процесса).",
            "* «Записей»: у socstat — сохранённые публикации, включая клипы и видео из вложений; "
            "у vk_api — прочитанные посты за тот же период.",
            f"* Нагрузка машины во время замера (load average за 1 мин): {os.getloadavg()[0]:.1f} "
            f"на {os.cpu_count()} ядрах.",
            "",
        ]
    )
    print(section)
    if not args.no_doc:
        _write_doc(section, SECTION)


if __name__ == "__main__":
    main()
