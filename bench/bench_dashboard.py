"""Dashboard benchmark (``make bench-dashboard``): the one analytics call behind a whole
dashboard, on PostgreSQL seeded with 200 sources × 365 days.

    .venv/bin/python -m bench.bench_dashboard [--sources 200 --days 365 --calls 30]

Seeding is the write path in bulk: content items are copied in (``COPY``), then every
source's DailyStat is rebuilt by the collection service's own ``recompute_daily_stats``
(the GROUP BY a collection runs), and a counter snapshot is written for every day.
The timed call is ``services.analytics.dashboard`` (KPIs with the previous period, the
day series, the per-source table with sparklines, a top-publications page, the heatmap,
members) for the last 7, 30 and 365 days; "raw" computes the same figures straight from
ContentItem. The command ends with the summary line

    dashboard: p95 7d=… ms 30d=… ms 365d=… ms; raw/aggregate=…×
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SECTION = "## Дашборд (make bench-dashboard)"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DB = "socstat_bench_dashboard"
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
PERIODS = (7, 30, 365)
ITEMS_PER_DAY = 9.6  # ≈ 700 000 items for 200 sources × 365 days


def _use_database(*, fresh: bool = False) -> str:
    if fresh:
        admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
        admin.dispose()
    url = make_url(PG_URL).set(database=BENCH_DB).render_as_string(hide_password=False)
    os.environ.update(SOCSTAT_DATABASE_URL=url, SOCSTAT_LOG_LEVEL="WARNING")
    from socstat.db import reset_engine
    from socstat.settings import reset_settings_cache

    reset_settings_cache()
    reset_engine()
    return url


def _seed(sources: int, days: int, today: date, rng: random.Random) -> int:
    """Sources, subscriptions, items (COPY), DailyStat (the write path's rebuild), snapshots."""
    from socstat.db import get_engine, session_scope
    from socstat.models import Role, Source, Subscription, User
    from socstat.services.collection import recompute_daily_stats
    from socstat.settings import get_settings

    tz = get_settings().tz
    first = today - timedelta(days=days - 1)
    collected = datetime.combine(today, dtime(6), tz).astimezone(UTC)
    with session_scope() as session:
        user = User(email="bench@example.org", role=Role.ANALYST, name="Bench")
        session.add(user)
        session.flush()
        rows = [
            Source(
                external_id=str(100000 + n),
                screen_name=f"club{100000 + n}",
                name=f"Сообщество {n:03d}",
                history_start=first - timedelta(days=days),  # previous periods known too
                last_collected_at=collected,
            )
            for n in range(sources)
        ]
        session.add_all(rows)
        session.flush()
        session.add_all(Subscription(user_id=user.id, source_id=s.id) for s in rows)
        source_ids = [s.id for s in rows if s.id is not None]
    items = 0
    raw = get_engine().raw_connection()
    try:
        with raw.cursor() as cursor:
            with cursor.copy(
                "COPY contentitem (source_id, kind, external_id, published_at, local_date, "
                "likes, reposts, comments, views, is_pinned, is_ad, is_repost, text_preview, "
                "collected_at, updated_at) FROM STDIN"
            ) as copy:
                for source_id in source_ids:
                    members = rng.randint(500, 200_000)
                    for offset in range(2 * days):  # the period and the one before it
                        day = first - timedelta(days=days) + timedelta(days=offset)
                        for n in range(_poisson(rng, ITEMS_PER_DAY)):
                            kind = rng.choices(("post", "video", "clip"), (70, 15, 15))[0]
                            moment = datetime.combine(
                                day, dtime(rng.randint(0, 23), rng.randint(0, 59)), tz
                            ).astimezone(UTC)
                            reach = members * rng.uniform(0.01, 0.3)
                            views = None if rng.random() < 0.1 else int(reach)
                            copy.write_row(
                                (
                                    source_id, kind, f"{offset}_{n}", moment, day,
                                    int(reach * rng.uniform(0.01, 0.05)),
                                    int(reach * rng.uniform(0.0, 0.005)),
                                    int(reach * rng.uniform(0.0, 0.01)),
                                    views, False, False, False, "Публикация для замера",
                                    collected, collected,
                                )
                            )  # fmt: skip
                            items += 1
            with cursor.copy(
                "COPY countersnapshot (source_id, local_date, taken_at, members) FROM STDIN"
            ) as copy:
                for source_id in source_ids:
                    members = rng.randint(500, 200_000)
                    for offset in range(2 * days):
                        day = first - timedelta(days=days) + timedelta(days=offset)
                        members += rng.randint(-20, 60)
                        copy.write_row((source_id, day, collected, members))
        raw.commit()
    finally:
        raw.close()
    every_day = {
        (first - timedelta(days=days) + timedelta(days=o), k)
        for o in range(2 * days)
        for k in ("post", "video", "clip")
    }
    for source_id in source_ids:
        with session_scope() as session:
            recompute_daily_stats(session, source_id=source_id, days=every_day, now=collected)
    with get_engine().connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return items


def _count_items() -> int:
    from socstat.db import get_engine

    with get_engine().connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM contentitem")).scalar_one())


def _poisson(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, mean**0.5)))


def _timed(call: Callable[[], Any], runs: int) -> list[float]:
    call()  # warm-up: plans and caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _aggregate(period: Any) -> Callable[[], Any]:
    from sqlmodel import select

    from socstat.db import session_scope
    from socstat.models import User
    from socstat.services.analytics import Scope, dashboard

    def call() -> Any:
        with session_scope() as session:
            user = session.exec(select(User)).one()
            return dashboard(session, actor=user, scope=Scope(), period=period)

    return call


def _raw(period: Any) -> Callable[[], Any]:
    """The same figures read straight from ContentItem (no DailyStat)."""
    from socstat.db import session_scope

    def sums(start: date, end: date) -> str:
        return (
            "SELECT i.source_id, i.kind, count(*), sum(i.likes), count(*) - count(i.likes), "
            "sum(i.reposts), sum(i.comments), sum(i.views), count(*) - count(i.views), "
            "avg((i.likes + i.reposts + i.comments)::float / nullif(i.views, 0)), "
            "avg((i.likes + i.reposts + i.comments)::float / nullif(c.members, 0)) "
            "FROM contentitem i LEFT JOIN countersnapshot c ON c.source_id = i.source_id "
            "AND c.local_date = i.local_date "
            f"WHERE i.deleted_at IS NULL AND i.local_date BETWEEN '{start}' AND '{end}' "
            "GROUP BY i.source_id, i.kind"
        )

    previous = period.previous()
    day_series = (
        "SELECT local_date, kind, count(*), sum(likes), sum(reposts), sum(comments), sum(views) "
        f"FROM contentitem WHERE deleted_at IS NULL AND local_date BETWEEN '{period.start}' "
        f"AND '{period.end}' GROUP BY local_date, kind"
    )
    step = -(-period.days // 30)
    spark = (
        f"SELECT source_id, (local_date - DATE '{period.start}') / {step}, count(*) "
        "FROM contentitem WHERE deleted_at IS NULL "
        f"AND local_date BETWEEN '{period.start}' AND '{period.end}' GROUP BY 1, 2"
    )

    def call() -> Any:
        from sqlmodel import select

        from socstat.models import User
        from socstat.services.analytics import Scope, heatmap, top_publications

        with session_scope() as session:
            for query in (sums(period.start, period.end), sums(previous.start, previous.end),
                          day_series, spark):  # fmt: skip
                session.execute(text(query)).all()
            user = session.exec(select(User)).one()
            top_publications(session, actor=user, scope=Scope(), period=period, page_size=10)
            heatmap(session, actor=user, scope=Scope(), period=period)

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument(
        "--reuse", action="store_true", help="time the database seeded by the previous run"
    )
    args = parser.parse_args()
    from socstat.services.analytics import Period, installation_today

    today = installation_today()
    start = time.perf_counter()
    if args.reuse:
        _use_database()
        items, seeded = _count_items(), 0.0
    else:
        _use_database(fresh=True)
        from socstat.migrations import upgrade_database

        upgrade_database()
        items = _seed(args.sources, args.days, today, random.Random(7))
        seeded = time.perf_counter() - start
    rows = []
    for days in PERIODS:
        period = Period.custom(today - timedelta(days=days - 1), today)
        agg = _timed(_aggregate(period), args.calls)
        raw = _timed(_raw(period), max(5, args.calls // 3))
        rows.append((days, statistics.median(agg), _p95(agg), statistics.median(raw), _p95(raw)))
        print(f"{days:>4} d: aggregate median {rows[-1][1]:.0f} ms, p95 {rows[-1][2]:.0f} ms; "
              f"raw median {rows[-1][3]:.0f} ms", flush=True)  # fmt: skip
    ratio = min(r[3] / r[1] for r in rows)
    summary = (
        "dashboard: p95 "
        + " ".join(f"{d}d={p95:.0f} ms" for d, _m, p95, _r, _rp in rows)
        + f"; raw/aggregate={ratio:.1f}×"
    )
    section = _section(args, items, seeded, rows, summary)
    if not args.no_doc:
        _write_doc(section)
    print(summary)


def _section(args: argparse.Namespace, items: int, seeded: float, rows: list, summary: str) -> str:
    table = [
        "| период | медиана, мс | p95, мс | из ContentItem: медиана, мс | p95, мс | выигрыш |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {d} дн. | {m:.0f} | {p:.0f} | {rm:.0f} | {rp:.0f} | {rm / m:.1f}× |"
            for d, m, p, rm, rp in rows
        ),
    ]
    return "\n".join(
        [
            SECTION,
            "",
            f"Команда: `.venv/bin/python -m bench.bench_dashboard --sources {args.sources} "
            f"--days {args.days} --calls {args.calls}` (или `make bench-dashboard`). Запуск "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, PostgreSQL.",
            "",
            f"Данные: {args.sources} источников × {args.days} дней и столько же дней до них "
            f"(прошлый период): {items} публикаций, снимки счётчиков на каждый день; заполнение "
            f"{seeded:.0f} с (0 — база прошлого прогона, `--reuse`; иначе COPY публикаций, "
            "затем `recompute_daily_stats` сбора для каждого источника). "
            "Замер — один вызов `services.analytics.dashboard` (KPI с прошлым "
            f"периодом, дневной ряд, таблица источников со спарклайнами, страница топа, "
            f"тепловая карта, подписчики), {args.calls} вызовов после прогрева; «из ContentItem» — "
            "те же числа группировкой по публикациям.",
            "",
            *table,
            "",
            f"`{summary}` (отношение — наименьшее из трёх периодов). Цель: p95 < 150 мс, ≥ 10×.",
            "",
        ]
    )


def _write_doc(section: str) -> None:
    text_ = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Бенчмарки\n"
    start = text_.find(SECTION)
    if start == -1:
        text_ = text_.rstrip("\n") + "\n\n" + section
    else:
        end = text_.find("\n## ", start + len(SECTION))
        tail = text_[end + 1 :] if end != -1 else ""
        text_ = text_[:start] + section + ("\n" + tail if tail else "")
    DOC.write_text(text_, encoding="utf-8")


if __name__ == "__main__":
    main()
