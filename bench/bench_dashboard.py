"""Dashboard benchmark (``make bench-dashboard``): the one analytics call behind a whole
dashboard, on PostgreSQL seeded with 200 sources × 365 days.

    .venv/bin/python -m bench.bench_dashboard [--sources 200 --days 365 --calls 30]

Seeding is ``bench.seed`` (the bulk write path shared with the reports benchmark) over
twice the days, so every period has its previous period: content items copied in, a
counter snapshot for every day, DailyStat and HourlyStat rebuilt by the collection's own
``recompute_daily_stats``. The timed call is ``services.analytics.dashboard`` (KPIs with
the previous period, the day series, the per-source table with sparklines, a
top-publications page, the heatmap, members) for the last 7, 30 and 365 days; "raw"
computes the same figures for the same actor's scope straight from ContentItem (and the
counter snapshots). The command ends with the summary line

    dashboard: p95 7d=… ms 30d=… ms 365d=… ms; raw/aggregate=…×
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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


def _timed(call: Callable[[], Any], runs: int) -> tuple[float, list[float]]:
    """The first call (it loads what the process keeps: plans, the store's day tables) and
    ``runs`` calls after it, in ms."""
    start = time.perf_counter()
    call()
    first = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return first, times


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


# Statements with the scope, the period and the zone written in (``str.format``): as
# parameters, psycopg would prepare them after five runs and PostgreSQL plan them once for
# any range (the analytics write them in for the same reason).
# The scope's live publications of a period (``s``..``e``), as the aggregates count them.
_LIVE = (
    "i.deleted_at IS NULL AND i.source_id = ANY({ids}) AND i.kind = ANY({kinds}) "
    "AND i.local_date BETWEEN {s} AND {e}"
)
_REACTIONS = "(i.likes + i.reposts + i.comments)"
_ER_VIEW = f"{_REACTIONS}::float / nullif(i.views, 0)"
_ER_POST = f"{_REACTIONS}::float / nullif(c.members, 0)"
# per source and kind: counts, sums with unknown counts, ERview and ERpost (sum, items)
_SUMS = (
    "SELECT i.source_id, i.kind, count(*), "
    "sum(i.likes), count(*) - count(i.likes), sum(i.reposts), count(*) - count(i.reposts), "
    "sum(i.comments), count(*) - count(i.comments), sum(i.views), count(*) - count(i.views), "
    f"sum({_ER_VIEW}), count({_ER_VIEW}), sum({_ER_POST}), count({_ER_POST}) "
    "FROM contentitem i LEFT JOIN countersnapshot c ON c.source_id = i.source_id "
    "AND c.local_date = i.local_date AND c.local_date BETWEEN {s} AND {e} "
    f"WHERE {_LIVE} GROUP BY i.source_id, i.kind"
)
# ERday per source (or per day): each source-day's reactions over that day's members
_ER_DAY = (
    "SELECT c.{key}, sum(coalesce(d.reactions, 0)::float / c.members), count(*) "
    "FROM countersnapshot c LEFT JOIN (SELECT i.source_id, i.local_date, "
    "sum(coalesce(i.likes, 0) + coalesce(i.reposts, 0) + coalesce(i.comments, 0)) reactions, "
    "3 * count(*) - count(i.likes) - count(i.reposts) - count(i.comments) unknown "
    f"FROM contentitem i WHERE {_LIVE} GROUP BY i.source_id, i.local_date) d "
    "ON d.source_id = c.source_id AND d.local_date = c.local_date "
    "WHERE c.source_id = ANY({ids}) AND c.local_date BETWEEN {s} AND {e} AND c.members > 0 "
    "AND coalesce(d.unknown, 0) = 0 GROUP BY c.{key}"
)
_LAST_MEMBERS = (
    "SELECT DISTINCT ON (source_id) source_id, members FROM countersnapshot "
    "WHERE source_id = ANY({ids}) AND local_date BETWEEN {s} AND {e} AND members IS NOT NULL "
    "ORDER BY source_id, local_date DESC"
)
_MEMBERS_BY_DAY = (
    "SELECT local_date, sum(members), count(members) FROM countersnapshot "
    "WHERE source_id = ANY({ids}) AND local_date BETWEEN {s} AND {e} GROUP BY local_date"
)
_DAY_SERIES = (
    "SELECT i.local_date, i.kind, count(*), sum(i.likes), count(*) - count(i.likes), "
    "sum(i.reposts), count(*) - count(i.reposts), sum(i.comments), "
    "count(*) - count(i.comments), sum(i.views), count(*) - count(i.views) "
    f"FROM contentitem i WHERE {_LIVE} GROUP BY i.local_date, i.kind"
)
_SPARK = (
    "SELECT i.source_id, (i.local_date - {s}) / {step}, count(*) "
    f"FROM contentitem i WHERE {_LIVE} GROUP BY 1, 2"
)
_TOP = (
    "SELECT i.*, s.name, c.members FROM contentitem i JOIN source s ON s.id = i.source_id "
    "LEFT JOIN countersnapshot c ON c.source_id = i.source_id AND c.local_date = i.local_date "
    f"WHERE {_LIVE} ORDER BY i.likes DESC NULLS LAST, i.id DESC LIMIT 10"
)
_TOTAL = f"SELECT count(*) FROM contentitem i WHERE {_LIVE}"
_LOCAL = "timezone({zone}, timezone('UTC', i.published_at))"
_KNOWN = "i.likes IS NOT NULL AND i.reposts IS NOT NULL AND i.comments IS NOT NULL"
_HEAT = (
    f"SELECT (extract(isodow FROM {_LOCAL}) - 1) * 24 + extract(hour FROM {_LOCAL}), "
    f"count(*), sum(CASE WHEN {_KNOWN} THEN {_REACTIONS} END), "
    f"count(CASE WHEN {_KNOWN} THEN 1 END) "
    f"FROM contentitem i WHERE {_LIVE} GROUP BY 1"
)


def _raw(period: Any) -> Callable[[], Any]:
    """The same figures read straight from ContentItem (no DailyStat, no HourlyStat), for
    the same actor's scope: per source and kind both periods' sums with unknown counts,
    ERview and ERpost; ERday per source (both periods) and per day; members (each period's
    last reading, every day's sum); the day series; sparklines; the top page with its
    number; the heatmap by the hour of publication."""
    from bench.seed import seeded_user
    from socstat.db import session_scope
    from socstat.services.analytics import Scope, resolve_scope
    from socstat.settings import get_settings

    previous = period.previous()
    statements = [
        (_SUMS, period),
        (_SUMS, previous),
        (_ER_DAY.replace("{key}", "source_id"), period),
        (_ER_DAY.replace("{key}", "source_id"), previous),
        (_ER_DAY.replace("{key}", "local_date"), period),
        (_LAST_MEMBERS, period),
        (_LAST_MEMBERS, previous),
        (_LAST_MEMBERS, previous.previous()),
        (_MEMBERS_BY_DAY, period),
        (_DAY_SERIES, period),
        (_SPARK, period),
        (_TOP, period),
        (_TOTAL, period),
        (_HEAT, period),
    ]

    def call() -> Any:
        with session_scope() as session:
            resolved = resolve_scope(session, actor=seeded_user(session), scope=Scope())
            scope = {
                "ids": f"'{{{','.join(map(str, resolved.source_ids))}}}'::int[]",
                "kinds": f"'{{{','.join(resolved.kinds)}}}'::text[]",
                "zone": f"'{get_settings().timezone}'",
                "step": -(-period.days // 30),
            }
            for query, days in statements:
                values = {**scope, "s": f"DATE '{days.start}'", "e": f"DATE '{days.end}'"}
                session.execute(text(query.format(**values))).all()

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
        first, agg = _timed(_aggregate(period), args.calls)
        _first, raw = _timed(_raw(period), max(5, args.calls // 3))
        rows.append(
            (days, statistics.median(agg), _p95(agg), statistics.median(raw), _p95(raw), first)
        )
        print(f"{days:>4} d: aggregate median {rows[-1][1]:.0f} ms, p95 {rows[-1][2]:.0f} ms; "
              f"raw median {rows[-1][3]:.0f} ms", flush=True)  # fmt: skip
    ratio = min(r[3] / r[1] for r in rows)
    summary = (
        "dashboard: p95 "
        + " ".join(f"{row[0]}d={row[2]:.0f} ms" for row in rows)
        + f"; raw/aggregate={ratio:.1f}×"
    )
    from socstat.services.analytics.store import aggregate_store

    memory = aggregate_store().nbytes / 2**20
    section = _section(args, items, seeded, rows, summary, memory)
    if not args.no_doc:
        _write_doc(section)
    print(summary)


def _section(
    args: argparse.Namespace, items: int, seeded: float, rows: list, summary: str, memory: float
) -> str:
    table = [
        "| период | медиана, мс | p95, мс | первый вызов, мс | из ContentItem: медиана, мс "
        "| p95, мс | выигрыш |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {d} дн. | {m:.0f} | {p:.0f} | {first:.0f} | {rm:.0f} | {rp:.0f} | {rm / m:.1f}× |"
            for d, m, p, rm, rp, first in rows
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
            "те же числа для той же области аналитика группировкой по публикациям и снимкам "
            "счётчиков (суммы и ER обоих периодов, ERday по источникам и дням, подписчики, "
            "ряд, спарклайны, топ с его числом, тепловая карта по часу публикации).",
            "",
            "Вызов считает по копии дневных агрегатов в памяти процесса "
            "(`services/analytics/store`); «первый вызов» — с её загрузкой (периоды идут "
            "подряд, 7 → 30 → 365 дней, каждый дочитывает недостающие дни; после сбора "
            "источник загружается заново). Копия после всех трёх периодов занимает "
            f"{memory:.0f} МБ.",
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
