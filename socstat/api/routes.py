"""Backend HTTP routes: /healthz, /metrics (Prometheus) and, later, the REST API."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from socstat.db import session_scope
from socstat.logging_setup import log_context
from socstat.services import analytics, sessions
from socstat.services.health import check_health, system_figures
from socstat.settings import get_settings


def _health() -> dict[str, str]:
    with session_scope() as session:
        report = check_health(session)
    body = {"status": "ok" if report.ok else "error", "database": report.database}
    if report.error:
        body["error"] = report.error
    return body


class SocstatCollector(Collector):
    """Reads the figures from the database at scrape time."""

    def collect(self):
        with session_scope() as session:
            figures = system_figures(session)
        sources = GaugeMetricFamily(
            "socstat_sources", "Tracked sources by status", labels=["status"]
        )
        for status, count in sorted(figures.sources_by_status.items()):
            sources.add_metric([status], count)
        yield sources
        runs = GaugeMetricFamily(
            "socstat_collection_runs", "Collection runs by status", labels=["status"]
        )
        for status, count in sorted(figures.runs_by_status.items()):
            runs.add_metric([status], count)
        yield runs
        yield GaugeMetricFamily("socstat_users", "Registered users", value=figures.users)
        yield GaugeMetricFamily(
            "socstat_outbox_pending", "Messages waiting for delivery", value=figures.outbox_pending
        )
        if figures.last_run_finished_at is not None:
            yield GaugeMetricFamily(
                "socstat_last_collection_finished_timestamp_seconds",
                "When the last collection run finished",
                value=figures.last_run_finished_at.timestamp(),
            )


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

    return api


def _sources_csv(token: str, params: dict[str, str]) -> tuple[str, str] | None:
    """(file name, CSV) of the per-source table the dashboard shows for these filters."""
    with session_scope() as session:
        user = sessions.resolve_session(session, token=token or None)
        if user is None:
            return None
        filters, _errors = analytics.parse_filters(params, today=analytics.installation_today())
        board, applied, _messages = analytics.dashboard_for(
            session, actor=user, filters=filters, top_page_size=1
        )
        lines = analytics.sorted_lines(board.sources, applied.sort, applied.descending)
        period = applied.period
        return f"socstat-sources-{period.start}-{period.end}.csv", analytics.source_table_csv(lines)
