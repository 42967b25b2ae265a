"""Backend HTTP routes: /healthz, /metrics (Prometheus) and, later, the REST API."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from socstat.api.reports import router as reports_router
from socstat.api.telegram import router as telegram_router
from socstat.db import session_scope
from socstat.logging_setup import log_context
from socstat.models import utcnow
from socstat.scheduler import process_is_leader, process_runs_scheduler
from socstat.services import analytics, sessions
from socstat.services.backup import latest_backup
from socstat.services.health import SystemFigures, check_health, system_figures
from socstat.settings import get_settings


def _health() -> dict[str, str]:
    with session_scope() as session:
        report = check_health(session)
    body = {"status": "ok" if report.ok else "error", "database": report.database}
    if report.error:
        body["error"] = report.error
    return body


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _labelled(
    name: str, doc: str, label: str, values: dict[str, float], *, counter: bool = False
) -> GaugeMetricFamily | CounterMetricFamily:
    family = (CounterMetricFamily if counter else GaugeMetricFamily)(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class SocstatCollector(Collector):
    """Reads the figures from the database at scrape time, so every process reports the
    same numbers and no process keeps counters of its own (multi-process safe without
    prometheus_client's multiprocess mode). Only the scheduler gauges are per process."""

    def collect(self) -> Iterator[Metric]:
        with session_scope() as session:
            figures = system_figures(session)
        yield from _collection_metrics(figures)
        yield from _vk_metrics(figures)
        yield from _outbox_metrics(figures)
        yield from _report_metrics(figures)
        yield from _account_metrics(figures)
        yield from _job_metrics(figures)
        yield from _backup_metrics()
        yield _gauge(
            "socstat_scheduler_leader",
            "1 when this process holds the leader lock and runs the scheduler",
            1.0 if process_is_leader() else 0.0,
        )
        yield _gauge(
            "socstat_scheduler_enabled",
            "1 when this process competes for leadership (0: SOCSTAT_SCHEDULER=off)",
            1.0 if process_runs_scheduler() else 0.0,
        )


def _collection_metrics(figures: SystemFigures) -> Iterator[Metric]:
    yield _labelled(
        "socstat_sources", "Tracked sources by status", "status", figures.sources_by_status
    )
    yield _labelled(
        "socstat_collection_runs", "Collection runs by status", "status", figures.runs_by_status
    )
    yield _gauge("socstat_sources_due", "Tracked sources due for collection", figures.sources_due)
    yield _gauge(
        "socstat_collection_due_lag_seconds",
        "How long the most overdue source has been due (0: none due)",
        figures.due_lag_seconds,
    )
    run = figures.last_run
    if run is None:
        return
    yield _gauge(
        "socstat_last_collection_finished_timestamp_seconds",
        "When the last collection run finished",
        run.finished_at.timestamp(),
    )
    yield _gauge(
        "socstat_collection_last_duration_seconds",
        "Duration of the last finished collection run",
        run.duration_seconds,
    )
    yield _labelled(
        "socstat_collection_last_sources",
        "Sources of the last finished run by outcome",
        "outcome",
        {"ok": run.sources_ok, "partial": run.sources_partial, "failed": run.sources_failed},
    )


def _vk_metrics(figures: SystemFigures) -> Iterator[Metric]:
    yield CounterMetricFamily(
        "socstat_vk_api_requests", "VK API HTTP requests (run journal)", value=figures.vk_requests
    )
    yield CounterMetricFamily(
        "socstat_vk_api_calls",
        "VK API method calls, execute-batched (run journal)",
        value=figures.vk_calls,
    )
    yield _labelled(
        "socstat_vk_api_errors",
        "VK API errors by error code (run journal)",
        "code",
        figures.vk_errors_by_code,
        counter=True,
    )
    calls = CounterMetricFamily(
        "socstat_vk_method_calls",
        "VK API method calls answered, by method, every token (ApiUsage)",
        labels=["method"],
    )
    errors = CounterMetricFamily(
        "socstat_vk_method_errors",
        "VK API errors by method and code (VK's code, or timeout/network/httpNNN/bad_json)",
        labels=["method", "code"],
    )
    for (method, code), count in sorted(figures.vk_method_usage.items()):
        if code:
            errors.add_metric([method, code], count)
        else:
            calls.add_metric([method], count)
    used = GaugeMetricFamily(
        "socstat_vk_quota_used",
        "Answered calls of a daily-limited VK method today (Moscow day) per token (masked)",
        labels=["token", "method"],
    )
    left = GaugeMetricFamily(
        "socstat_vk_quota_left",
        "Calls of a daily-limited VK method left today per token (masked)",
        labels=["token", "method"],
    )
    for quota in figures.vk_quotas:
        used.add_metric([quota.masked, quota.method], quota.used)
        left.add_metric([quota.masked, quota.method], quota.left)
    yield from (calls, errors, used, left)
    yield _labelled(
        "socstat_vk_token_valid",
        "Stored VK tokens (masked): 1 valid, 0 refused by VK",
        "token",
        {hint: 1.0 if valid else 0.0 for hint, valid in figures.stored_tokens.items()},
    )


def _outbox_metrics(figures: SystemFigures) -> Iterator[Metric]:
    yield _gauge("socstat_outbox_pending", "Messages waiting for delivery", figures.outbox_pending)
    messages = GaugeMetricFamily(
        "socstat_outbox_messages",
        "Outbox messages by channel and status",
        labels=["channel", "status"],
    )
    oldest = GaugeMetricFamily(
        "socstat_outbox_oldest_pending_age_seconds",
        "Age of the oldest undelivered message",
        labels=["channel"],
    )
    failing = GaugeMetricFamily(
        "socstat_outbox_failing",
        "Undelivered messages that failed at least once",
        labels=["channel"],
    )
    for channel, figures_of in figures.outbox.items():
        for status, count in sorted(figures_of.by_status.items()):
            messages.add_metric([channel, status], count)
        if figures_of.oldest_pending_age_seconds is not None:
            oldest.add_metric([channel], figures_of.oldest_pending_age_seconds)
        failing.add_metric([channel], figures_of.failing)
    yield from (messages, oldest, failing)


def _report_metrics(figures: SystemFigures) -> Iterator[Metric]:
    reports = figures.reports
    if reports is None:
        return
    yield _labelled("socstat_reports", "Reports by status", "status", reports.by_status)
    generation = SummaryMetricFamily(
        "socstat_report_generation_seconds",
        "Time from starting a report to its files",
        count_value=reports.generated,
        sum_value=reports.generation_seconds_sum,
    )
    yield generation


def _account_metrics(figures: SystemFigures) -> Iterator[Metric]:
    yield _gauge("socstat_users", "Registered users", figures.users)
    yield _gauge(
        "socstat_login_failures_last_hour",
        "Failed sign-in attempts in the last hour",
        figures.login_failures_last_hour,
    )
    yield CounterMetricFamily(
        "socstat_login_lockouts",
        "Account lockouts after failed sign-ins (audit)",
        value=figures.lockouts,
    )


def _job_metrics(figures: SystemFigures) -> Iterator[Metric]:
    runs = CounterMetricFamily(
        "socstat_job_runs", "Scheduled job runs by result", labels=["job", "status"]
    )
    success = GaugeMetricFamily(
        "socstat_job_last_success_timestamp_seconds",
        "When the job last finished successfully",
        labels=["job"],
    )
    duration = GaugeMetricFamily(
        "socstat_job_last_duration_seconds", "Duration of the job's last run", labels=["job"]
    )
    for job, job_figures in figures.jobs.items():
        for status, count in sorted(job_figures.runs_by_status.items()):
            runs.add_metric([job, status], count)
        if job_figures.last_success_at is not None:
            success.add_metric([job], job_figures.last_success_at.timestamp())
        if job_figures.last_duration_seconds is not None:
            duration.add_metric([job], job_figures.last_duration_seconds)
    yield from (runs, success, duration)


def _backup_metrics() -> Iterator[Metric]:
    latest = latest_backup()
    if latest is None:
        return
    moment, path = latest
    made = moment.replace(tzinfo=UTC)
    yield _gauge(
        "socstat_backup_age_seconds",
        "Age of the newest backup in the backup folder",
        max(0.0, (utcnow() - made).total_seconds()),
    )
    yield _gauge(
        "socstat_backup_last_timestamp_seconds",
        "When the newest backup in the backup folder was made",
        made.timestamp(),
    )
    yield _gauge("socstat_backup_last_size_bytes", "Size of the newest backup", path.stat().st_size)


def _metrics_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(SocstatCollector())
    return registry


_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _metrics_allowed(request: Request) -> bool:
    """With SOCSTAT_METRICS_TOKEN: only ``Authorization: Bearer <token>``; without it, only
    clients on this machine (a scraper on loopback or a sidecar)."""
    token = get_settings().metrics_token
    if not token:
        return request.client is not None and request.client.host in _LOOPBACK
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def build_api() -> FastAPI:
    docs = get_settings().env != "prod"  # the interactive API docs stay off in production
    api = FastAPI(
        title="socstat API",
        docs_url="/api/docs" if docs else None,
        redoc_url=None,
        openapi_url="/api/openapi.json" if docs else None,
    )
    registry = _metrics_registry()

    @api.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id", "")[:64] or secrets.token_hex(8)
        with log_context(request_id=request_id, path=request.url.path):
            response = await call_next(request)
        response.headers["x-request-id"] = request_id
        return response

    @api.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        body = await asyncio.to_thread(_health)
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    @api.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if not _metrics_allowed(request):
            return Response(
                "metrics need Authorization: Bearer <SOCSTAT_METRICS_TOKEN>\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": "Bearer"},
            )
        payload = await asyncio.to_thread(generate_latest, registry)
        return Response(payload, media_type=CONTENT_TYPE_LATEST)

    @api.get("/api/dashboard/sources.csv", include_in_schema=False)
    async def dashboard_sources_csv(request: Request) -> Response:
        """The dashboard's per-source table for the signed-in user (session cookie)."""
        token = request.cookies.get(sessions.COOKIE_NAME, "")
        params = dict(request.query_params)
        result = await asyncio.to_thread(_sources_csv, token, params)
        if result is None:
            return Response("Войдите в систему.", status_code=401, media_type="text/plain")
        name, body = result
        return Response(
            body.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    api.include_router(reports_router)
    api.include_router(telegram_router)
    return api


def _sources_csv(token: str, params: dict[str, str]) -> tuple[str, str] | None:
    """(file name, CSV) of the per-source table the dashboard shows for these filters."""
    with session_scope() as session:
        user = sessions.resolve_session(session, token=token or None)
        if user is None:
            return None
        filters, _errors = analytics.parse_filters(params, today=analytics.installation_today())
        board, applied, _messages = analytics.dashboard_for(
            session, actor=user, filters=filters, top=analytics.TopRequest(page_size=1)
        )
        lines = analytics.sorted_lines(board.sources, applied.sort, applied.descending)
        period = applied.period
        return f"socstat-sources-{period.start}-{period.end}.csv", analytics.source_table_csv(lines)
