"""Dashboard in Chromium (``make bench-dashboard``, after bench.bench_dashboard): how long a
person waits for the numbers on the built app with 200 sources × 365 days.

    .venv/bin/python -m bench.bench_dashboard_browser [--tries 10] [--database NAME]

PostgreSQL is seeded by ``bench/seed.py`` (200 sources × 365 days, one analyst) unless
the database already holds that analyst — then it is reused, as bench.bench_dashboard
leaves it. The app runs as the browser tests run it (``reflex run --env prod``, the helpers
of tests/browser/conftest.py) with its scheduler off, so nothing collects meanwhile. The
analyst signs in through /login in Debian's Chromium (Playwright), then:

- navigation → KPI: a new tab opens /dashboard (30 days) until the posts KPI
  (``[data-metric=posts]``) is visible with the period's value in ``data-value``;
- filter → KPI: on the loaded dashboard the period is switched in the select (30 days ↔
  7 days, alternately) until the posts KPI shows the other period's value.

Each is timed ``--tries`` times after one untimed warm-up; the medians go into
docs/benchmarks.md and the last line is

    dashboard-browser: nav→KPI median=… ms; filter→KPI median=… ms
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from bench.bench_collect import _write_doc
from bench.bench_dashboard import BENCH_DB
from bench.bench_pipeline import PG_URL

SECTION = "## Дашборд в браузере (make bench-dashboard)"
PASSWORD = "Kx9#mQ2!vLp7-Dash"
POSTS = '[data-metric="posts"]'
TARGET_NAV_MS, TARGET_FILTER_MS = 2000, 500
TIMEOUT_MS = 180_000
PERIODS = (("30d", "30 дней"), ("7d", "7 дней"))


def _database(name: str, sources: int, days: int) -> tuple[str, str]:
    """The URL of the seeded database (seeding it first when the analyst is missing) and
    how it came to be."""
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    os.environ.update(SOCSTAT_DATABASE_URL=url, SOCSTAT_LOG_LEVEL="WARNING")
    from socstat.db import reset_engine
    from socstat.settings import reset_settings_cache

    reset_settings_cache()
    reset_engine()
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
    if exists:
        from bench.seed import seeded_summary

        try:
            summary = seeded_summary()
        except (LookupError, ProgrammingError):  # no analyst or no schema: seed afresh
            summary = None
        if summary is not None and summary.source_ids:
            admin.dispose()
            origin = f"база прошлого засева (`{name}`): {len(summary.source_ids)} источников"
            return url, f"{origin}, {summary.items} публикаций"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    reset_engine()
    from bench.seed import seed
    from socstat.migrations import upgrade_database
    from socstat.services.analytics import installation_today

    upgrade_database()
    started = time.perf_counter()
    print(f"seeding {sources} sources × {days} days into {name} …", flush=True)
    result = seed(sources=sources, days=days, end=installation_today())
    seconds = time.perf_counter() - started
    return url, (
        f"засеяно `bench/seed.py` за {seconds:.0f} с: {len(result.source_ids)} источников × "
        f"{days} дней, {result.items} публикаций"
    )


def _analyst_password() -> str:
    """The seeded analyst gets a password (and a confirmed address) to sign in with."""
    from bench.seed import seeded_user
    from socstat.db import session_scope
    from socstat.models.base import utcnow
    from socstat.services.accounts.users import set_password_from_link

    with session_scope() as session:
        user = seeded_user(session)
        set_password_from_link(user, password=PASSWORD, now=utcnow())
        return user.email


def _posts_value(page) -> str:
    return page.locator(POSTS).get_attribute("data-value") or ""


def _wait_posts(page, value: str) -> None:
    page.wait_for_function(
        "([selector, value]) => { const el = document.querySelector(selector);"
        " return el && el.getAttribute('data-value') === value && el.offsetParent !== null; }",
        arg=[POSTS, value],
        polling="raf",
        timeout=TIMEOUT_MS,
    )


def _choose_period(page, label: str) -> None:
    page.get_by_test_id("filter-period").click()
    page.get_by_role("option", name=label, exact=True).click()


def _measure(url: str, email: str, tries: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, base_url=url, locale="ru-RU"
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto("/login")
        page.get_by_test_id("input-email").fill(email)
        page.get_by_test_id("input-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_role("heading", name="Обзор")).to_be_visible()

        # warm-up (untimed): the values of both periods, and every bundle in the cache
        page.goto("/dashboard?period=30d")
        expect(page.locator(POSTS)).not_to_have_attribute("data-value", "")
        values = {"30d": _posts_value(page)}
        label = page.get_by_test_id("period-label").inner_text()
        _choose_period(page, "7 дней")
        expect(page.get_by_test_id("period-label")).not_to_have_text(label)
        values["7d"] = _posts_value(page)
        assert values["7d"] != values["30d"], values
        page.close()

        navigation: list[float] = []
        for n in range(tries):
            tab = context.new_page()  # a fresh tab: no state of the previous visit
            started = time.perf_counter()
            tab.goto("/dashboard?period=30d", wait_until="commit")
            _wait_posts(tab, values["30d"])
            navigation.append((time.perf_counter() - started) * 1000)
            print(f"nav→KPI {n + 1}: {navigation[-1]:.0f} ms", flush=True)
            if n < tries - 1:
                tab.close()

        filtering: list[float] = []
        current = "30d"
        for n in range(tries):
            key, label = next(p for p in PERIODS if p[0] != current)
            tab.get_by_test_id("filter-period").click()
            option = tab.get_by_role("option", name=label, exact=True)
            option.click(trial=True)  # the list open and still: timed from the user's click
            started = time.perf_counter()
            option.click()
            _wait_posts(tab, values[key])
            filtering.append((time.perf_counter() - started) * 1000)
            print(f"filter→KPI {n + 1} ({current}→{key}): {filtering[-1]:.0f} ms", flush=True)
            current = key
        browser.close()
    return navigation, filtering


def _server_side(calls: int = 5) -> dict[str, tuple[float, float, int]]:
    """Per period: the medians of the analytics call alone and of everything the page's
    handler computes (``load_view``: analytics, scope, Plotly figures, rows), in ms, and
    the size of what goes to the browser, in kB — to tell server time from the rest."""
    from bench.seed import seeded_user
    from socstat.db import session_scope
    from socstat.services.analytics import (
        TopRequest,
        dashboard_for,
        installation_today,
        parse_filters,
    )
    from socstat.ui.pages.dashboard.state import TOP_PAGE_SIZE, load_view

    result = {}
    for key, _label in PERIODS:
        analytics, view, size = [], [], 0
        for _ in range(calls):
            with session_scope() as session:
                user = seeded_user(session)
                filters, _messages = parse_filters({"period": key}, today=installation_today())
                started = time.perf_counter()
                dashboard_for(
                    session, actor=user, filters=filters, top=TopRequest(page_size=TOP_PAGE_SIZE)
                )
                analytics.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                shown = load_view(session, user, {"period": key}, "likes", 1)
                view.append((time.perf_counter() - started) * 1000)
            size = len(json.dumps(shown, default=str))  # the figures are plain JSON too
        result[key] = (statistics.median(analytics), statistics.median(view), size // 1024)
    return result


def _section(
    args: argparse.Namespace,
    origin: str,
    nav: list[float],
    flt: list[float],
    server: dict[str, tuple[float, float, int]],
) -> str:
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    nav_median, flt_median = statistics.median(nav), statistics.median(flt)

    def verdict(median: float, target: int) -> str:
        if median < target:
            return f"цель < {target} мс выполнена"
        times = f"{median / target:.1f}".replace(".", ",")
        return f"цель < {target} мс не выполнена: в {times} раза дольше"

    rows = [
        "| замер | медиана, мс | мин., мс | макс., мс | цель |",
        "|---|---:|---:|---:|---|",
        f"| переход на /dashboard → KPI | {nav_median:.0f} | {min(nav):.0f} | {max(nav):.0f} | "
        f"{verdict(nav_median, TARGET_NAV_MS)} |",
        f"| смена периода → KPI | {flt_median:.0f} | {min(flt):.0f} | {max(flt):.0f} | "
        f"{verdict(flt_median, TARGET_FILTER_MS)} |",
    ]
    return "\n".join(
        [
            SECTION,
            "",
            f"Команда: `.venv/bin/python -m bench.bench_dashboard_browser --tries {args.tries}` "
            f"(в `make bench-dashboard` — после `bench.bench_dashboard`). Запуск "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, PostgreSQL; нагрузка машины: `{load}`.",
            "",
            f"Данные: {origin}. Приложение — собранное (`reflex run --env prod`, как в "
            "браузерных тестах), планировщик выключен; аналитик входит через /login в Chromium "
            "(Playwright, 1280×800). «Переход» — новая вкладка открывает /dashboard (30 дней) "
            "и ждёт, пока KPI «Посты» (`[data-metric=posts]`) виден со значением периода в "
            "`data-value`; «смена периода» — от щелчка по пункту открытого (и уже неподвижного) "
            "списка периода (30 ↔ 7 дней поочерёдно) до нового значения KPI. Открывая страницу, "
            "дашборд сначала присылает числа, затем таблицу, топ и графики; смена фильтра — одно "
            "обновление. Таблица источников показывает первые 50 строк (остальные — по кнопке «"
            f"Показать все»). По {args.tries} замеров после прогрева.",
            "",
            *rows,
            "",
            f"`dashboard-browser: nav→KPI median={nav_median:.0f} ms; "
            f"filter→KPI median={flt_median:.0f} ms`",
            "",
            "Откуда время (после замеров, тот же процесс и та же база, медианы 5 вызовов): "
            + "; ".join(
                f"{key}: вызов аналитики `dashboard_for` {a:.0f} мс, всё, что считает "
                f"обработчик страницы (`load_view`: аналитика, область, графики Plotly, строки "
                f"таблиц) {v:.0f} мс, состояние для браузера ≈ {kb} кБ"
                for key, (a, v, kb) in server.items()
            )
            + ". Остальное — доставка состояния Reflex по websocket и отрисовка в Chromium "
            "(первые 50 строк таблицы источников, топ, пять графиков Plotly), на той же "
            "машине; и аналитика, и остальное растут вместе с нагрузкой машины (см. `uptime` "
            "выше).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=10)
    parser.add_argument("--sources", type=int, default=200, help="when seeding")
    parser.add_argument("--days", type=int, default=365, help="when seeding")
    parser.add_argument("--database", default=BENCH_DB, help="PostgreSQL database to use")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()

    from tests.browser.conftest import (
        app_env,
        free_port,
        private_web_dir,
        start_app,
        stop_app,
        wait_healthy,
    )

    database_url, origin = _database(args.database, args.sources, args.days)
    email = _analyst_password()
    workdir = Path(tempfile.mkdtemp(prefix="socstat-bench-browser-"))
    port = free_port()
    env = app_env(database_url, workdir / "data")
    env.update(SOCSTAT_SCHEDULER="off", SOCSTAT_BASE_URL=f"http://127.0.0.1:{port}")
    web_dir = private_web_dir(workdir)
    if web_dir is not None:
        env["REFLEX_WEB_WORKDIR"] = str(web_dir)
    url = f"http://127.0.0.1:{port}"
    process = start_app(env, port, workdir / "app.log")
    try:
        wait_healthy(url, process, workdir / "app.log")
        navigation, filtering = _measure(url, email, args.tries)
    finally:
        stop_app(process)
    server = _server_side()
    section = _section(args, origin, navigation, filtering, server)
    if not args.no_doc:
        _write_doc(section, SECTION)
    print(
        f"dashboard-browser: nav→KPI median={statistics.median(navigation):.0f} ms; "
        f"filter→KPI median={statistics.median(filtering):.0f} ms"
    )


if __name__ == "__main__":
    main()
