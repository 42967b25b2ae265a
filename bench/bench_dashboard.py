"""Dashboard benchmark (``make bench-dashboard``): the one analytics call behind a whole
dashboard, on PostgreSQL seeded with 200 sources × 365 days.

    .venv/bin/python -m bench.bench_dashboard [--sources 200 --days 365 --calls 30]

Seeding is ``bench.seed`` (the bulk write path shared with the reports benchmark) over
twice the days, so every period has its previous period: content items copied in, a
counter snapshot for every day, DailyStat and HourlyStat rebuilt by the collection's own
``recompute_daily_stats``. The timed call is ``services.analytics.dashboard`` (KPIs with
the previous period, the day series, the per-source table with sparklines, a
top-publications page, the heatmap, members) for the last 7, 30 and 365 days; "raw"
computes the same figures straight from ContentItem. The command ends with the summary line

    dashboard: p95 7d=… ms 30d=… ms 365d=… ms; raw/aggregate=…×
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SECTION = "## Дашборд (make bench-dashboard)"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DB = "socstat_bench_dashboard"
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
PERIODS = (7, 30, 365)


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
    from bench.seed import seeded_user
    from socstat.db import session_scope
    from socstat.services.analytics import Scope, dashboard

    def call() -> Any:
        with session_scope() as session:
            return dashboard(session, actor=seeded_user(session), scope=Scope(), period=period)

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
    live = f"deleted_at IS NULL AND local_date BETWEEN '{period.start}' AND '{period.end}'"
    day_series = (
        "SELECT local_date, kind, count(*), sum(likes), sum(reposts), sum(comments), sum(views) "
        f"FROM contentitem WHERE {live} GROUP BY local_date, kind"
    )
    step = -(-period.days // 30)
    spark = (
        f"SELECT source_id, (local_date - DATE '{period.start}') / {step}, count(*) "
        f"FROM contentitem WHERE {live} GROUP BY 1, 2"
    )
    top = (
        "SELECT i.*, s.name, c.members FROM contentitem i JOIN source s ON s.id = i.source_id "
        "LEFT JOIN countersnapshot c ON c.source_id = i.source_id "
        f"AND c.local_date = i.local_date WHERE {live.replace('local_date', 'i.local_date')} "
        "ORDER BY i.likes DESC NULLS LAST, i.id DESC LIMIT 10"
    )
    total = f"SELECT count(*) FROM contentitem WHERE {live}"
    local = "timezone(:zone, timezone('UTC', published_at))"
    known = "likes IS NOT NULL AND reposts IS NOT NULL AND comments IS NOT NULL"
    heat = (
        f"SELECT (extract(isodow FROM {local}) - 1) * 24 + extract(hour FROM {local}), "
        f"count(*), sum(CASE WHEN {known} THEN likes + reposts + comments END), "
        f"count(CASE WHEN {known} THEN 1 END) FROM contentitem WHERE {live} GROUP BY 1"
    )

    def call() -> Any:
        from socstat.settings import get_settings

        with session_scope() as session:
            for query in (sums(period.start, period.end), sums(previous.start, previous.end),
                          day_series, spark, top, total, heat):  # fmt: skip
                session.execute(text(query), {"zone": get_settings().timezone}).all()

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
        from bench.seed import seeded_summary

        items, seeded = seeded_summary().items, 0.0
    else:
        _use_database(fresh=True)
        from bench.seed import seed
        from socstat.migrations import upgrade_database

        upgrade_database()
        items = seed(sources=args.sources, days=2 * args.days, end=today).items
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
            f"{seeded:.0f} с (0 — база прошлого прогона, `--reuse`; иначе `bench/seed.py`: COPY "
            "публикаций, затем `recompute_daily_stats` сбора для каждого источника). "
            "Замер — один вызов `services.analytics.dashboard` (KPI с прошлым "
            f"периодом, дневной ряд, таблица источников со спарклайнами, страница топа, "
            f"тепловая карта, подписчики), {args.calls} вызовов после прогрева; «из ContentItem» — "
            "те же числа группировкой по публикациям (суммы, ряд, спарклайны, топ с его "
            "числом, тепловая карта по часу публикации).",
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
