"""End-to-end collection benchmark: sandbox → collector → database (``make bench-collect``).

    .venv/bin/python -m bench.bench_pipeline [--communities 1000 --days 30]

Same world and token as bench_collect, but through the product's own path:
``collect_sources`` stores every item, counter snapshot and daily aggregate in a fresh
database (PostgreSQL when it answers at 127.0.0.1:5432, else SQLite), so the figure
includes the cost of writing. Then the sandbox clock moves one day forward and the
incremental run follows. At the end the stored daily aggregates are checked against
the sandbox's ground truth. The table goes to stdout and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.bench_collect import CEILING, TOKEN, _peak_rss_mb, _start_sandbox, _write_doc
from socstat.sandbox.config import SandboxConfig, TokenSpec

SECTION = "## Сбор в базу данных {backend} (make bench-collect)"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DB = "socstat_bench"
_BACKEND_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


@dataclass
class Run:
    name: str
    seconds: float
    requests: int
    calls: int
    items_new: int
    items_updated: int
    ok: int
    failed: int
    peak_rss_mb: float

    @property
    def efficiency(self) -> float:
        return (self.calls / CEILING) / self.seconds if self.seconds else 0.0


def _postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _fresh_database(sqlite: bool) -> str:
    if sqlite or not _postgres_answers():
        return f"sqlite:///{tempfile.mkdtemp(prefix='socstat-bench-')}/bench.db"
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=BENCH_DB).render_as_string(hide_password=False)


def _configure(database_url: str, sandbox_url: str, days: int) -> None:
    os.environ.update(
        SOCSTAT_DATABASE_URL=database_url,
        SOCSTAT_VK_API_URL=sandbox_url,
        SOCSTAT_VK_TOKENS=TOKEN,
        SOCSTAT_BACKFILL_DAYS=str(days),
        SOCSTAT_LOG_LEVEL="WARNING",
    )
    from socstat.db import reset_engine
    from socstat.settings import reset_settings_cache

    reset_settings_cache()
    reset_engine()


def _add_sources(external_ids: list[int]) -> list[int]:
    from socstat.db import session_scope
    from socstat.models import Role, Source, Subscription, User

    with session_scope() as session:
        user = User(email="bench@example.org", role=Role.ANALYST)
        session.add(user)
        session.flush()
        sources = [Source(external_id=str(gid), screen_name=f"club{gid}") for gid in external_ids]
        session.add_all(sources)
        session.flush()
        session.add_all(Subscription(user_id=user.id, source_id=s.id) for s in sources)
        return [s.id for s in sources if s.id is not None]


async def _collect(name: str, source_ids: list[int], now: datetime) -> Run:
    from socstat.services.collection import collect_sources, make_collector

    collector = make_collector()
    start = time.perf_counter()
    try:
        summary = await collect_sources(source_ids=source_ids, collector=collector, now=now)
    finally:
        seconds = time.perf_counter() - start
        await collector.aclose()
    return Run(
        name, seconds, summary.requests, summary.calls, summary.items_new,
        summary.items_updated, summary.sources_ok, summary.sources_failed, _peak_rss_mb(),
    )  # fmt: skip


def _mismatches(truth: dict, days: set[str], *, with_likes: bool) -> int:
    """Days whose stored post count (and likes) differ from the sandbox truth, over the
    communities whose wall can be read."""
    from sqlmodel import select

    from socstat.db import session_scope
    from socstat.models import DailyStat, Source

    with session_scope() as session:
        stored = {
            (source.external_id, stat.local_date.isoformat()): (stat.count, stat.likes)
            for stat, source in session.exec(
                select(DailyStat, Source)
                .join(Source, Source.id == DailyStat.source_id)
                .where(DailyStat.kind == "post")
            ).all()
        }
    wrong = 0
    for community in truth["communities"]:
        if not community.get("wall_accessible"):
            continue
        for day in community["days"]:
            if day["date"] not in days:
                continue
            expected = (day["posts"]["count"], day["posts"]["likes"])
            got = stored.get((str(community["id"]), day["date"]), (0, 0))
            wrong += got[0] != expected[0] or (with_likes and (got[1] or 0) != expected[1])
    return wrong


def _settled_days(now: datetime, days: int) -> set[str]:
    """The complete local days of the collected history (not the first, not today)."""
    from socstat.settings import get_settings

    today = now.astimezone(get_settings().tz).date()
    return {(today - timedelta(days=back)).isoformat() for back in range(1, days)}


def _newest_posts(every: int) -> list[tuple[int, int]]:
    """(community id, post id) of the newest stored non-pinned post of every Nth source."""
    from sqlmodel import select

    from socstat.db import session_scope
    from socstat.models import ContentItem, Source

    newest: dict[str, str] = {}
    with session_scope() as session:
        rows = session.exec(
            select(Source.external_id, ContentItem.external_id)
            .join(Source, Source.id == ContentItem.source_id)
            .where(ContentItem.kind == "post", ~ContentItem.is_pinned)
            .order_by(Source.id, ContentItem.published_at.desc())
        ).all()
    for community, post in rows:
        newest.setdefault(community, post)
    return [(int(c), int(p)) for c, p in list(newest.items())[::every]]


def _flagged_deleted() -> int:
    from sqlmodel import func, select

    from socstat.db import session_scope
    from socstat.models import ContentItem

    with session_scope() as session:
        return session.exec(select(func.count()).where(ContentItem.deleted_at.is_not(None))).one()


async def _delete_some(control: httpx.AsyncClient, every: int) -> int:
    """Delete the newest post of every Nth community in the sandbox, as admins would."""
    deleted = 0
    for gid, post_id in await asyncio.to_thread(_newest_posts, every):
        answer = await control.post(
            "/_sandbox/delete_posts", json={"owner_id": -gid, "post_ids": [post_id]}
        )
        deleted += answer.json()["deleted"]
    return deleted


async def _bench(
    args: argparse.Namespace, url: str, now: datetime
) -> tuple[list[Run], list[int], tuple[int, int]]:
    """Both runs, and the mismatches with the truth after each (counts and likes after
    the full run; counts after the incremental one — engagement outside its refresh
    window is not re-read by design). Between the runs the newest post of every 10th
    community is deleted on the sandbox: the incremental run must drop exactly those."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as control:
        communities = (await control.get("/_sandbox/communities")).json()["items"]
        source_ids = await asyncio.to_thread(_add_sources, [c["id"] for c in communities])
        runs = [await _collect("Полный, в базу", source_ids, now)]
        print(_table(runs), flush=True)
        truth = (await control.get("/_sandbox/truth")).json()
        wrong = [
            await asyncio.to_thread(
                _mismatches, truth, _settled_days(now, args.days), with_likes=True
            )
        ]
        deleted = await _delete_some(control, every=10)
        await control.post("/_sandbox/clock", json={"advance_seconds": 86400})
        now += timedelta(days=1)
        runs.append(await _collect("Инкрементальный, в базу", source_ids, now))
        truth = (await control.get("/_sandbox/truth")).json()
        wrong.append(
            await asyncio.to_thread(
                _mismatches, truth, _settled_days(now, args.days), with_likes=False
            )
        )
        flagged = await asyncio.to_thread(_flagged_deleted)
    return runs, wrong, (deleted, flagged)


def _table(runs: list[Run]) -> str:
    lines = [
        "| Прогон | Время, с | HTTP-запросов | Вызовов API | Эффективность | Новых записей "
        "| Обновлено | Источников ok / сбой | Пик RSS, МБ |",
        "|" + "---|" * 9,
    ]
    for r in runs:
        lines.append(
            f"| {r.name} | {r.seconds:.1f} | {r.requests} | {r.calls} | {r.efficiency:.3f} "
            f"| {r.items_new} | {r.items_updated} | {r.ok} / {r.failed} | {r.peak_rss_mb:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite", action="store_true", help="the embedded SQLite database")
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
    database_url = _fresh_database(args.sqlite)
    process, url = _start_sandbox(config)
    try:
        _configure(database_url, url, args.days)
        from socstat.migrations import upgrade_database

        upgrade_database()
        runs, wrong, (deleted, flagged) = asyncio.run(_bench(args, url, now))
    finally:
        process.terminate()
        process.join(10)
    backend = make_url(database_url).get_backend_name()
    command = (
        f".venv/bin/python -m bench.bench_pipeline --communities {args.communities} "
        f"--days {args.days}" + (" --sqlite" if args.sqlite else "")
    )
    section = "\n".join(
        [
            SECTION.format(backend=_BACKEND_NAMES.get(backend, backend)),
            "",
            f"Команда: `{command}` (или `make bench-collect`). "
            f"Запуск {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, база: {backend}.",
            "",
            "Путь продукта целиком: `collect_sources` — сборщик, запись публикаций, снимков "
            "счётчиков и дневных агрегатов в базу (каждый источник — своя транзакция), журнал "
            f"запуска. Тот же мир: {args.communities} сообществ, {args.days} дней, один токен, "
            "3 запроса/с.",
            "",
            _table(runs),
            "",
            "* Сверка с истиной песочницы по завершённым дням истории (читаемые стены): "
            f"после полного сбора — число постов и лайки, расхождений {wrong[0]}; после "
            f"инкрементального — число постов, расхождений {wrong[1]} (лайки старше окна "
            "обновления в 3 дня по замыслу не перечитываются).",
            f"* Перед инкрементальным прогоном в песочнице удалена самая новая запись каждого "
            f"10-го сообщества: удалено {deleted}, помечено удалёнными после прогона {flagged} "
            "(проверка по id через `wall.getById`; её вызовы входят в «Вызовов API»).",
            "",
        ]
    )
    print()
    print(section)
    if not args.no_doc:
        _write_doc(section, SECTION.format(backend=_BACKEND_NAMES.get(backend, backend)))


if __name__ == "__main__":
    main()
