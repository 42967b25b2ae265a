"""Backend HTTP routes: /healthz, /metrics (Prometheus) and, later, the REST API."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from socstat.api.reports import router as reports_router
from socstat.db import session_scope
from socstat.logging_setup import log_context
from socstat.services.health import check_health, system_figures


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


def build_api() -> FastAPI:
    api = FastAPI(title="socstat API", docs_url="/api/docs", openapi_url="/api/openapi.json")
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
    async def metrics() -> Response:
        payload = await asyncio.to_thread(generate_latest, registry)
        return Response(payload, media_type=CONTENT_TYPE_LATEST)

    api.include_router(reports_router)
    return api
