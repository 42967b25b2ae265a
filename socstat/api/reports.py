"""Report downloads and extra-recipient confirmation links (thin: services decide).

``GET /api/reports/{id}/file/{format}?token=…`` serves a report file to the signed-in user
(session cookie) the short-lived token was issued to — owner, their director or an admin —
never from a public path. Anything else is a plain 404, revealing nothing.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

from socstat.db import session_scope
from socstat.services import sessions
from socstat.services.reports.access import ReportDownload, open_download
from socstat.services.reports.schedule import confirm_recipient

router = APIRouter()


def _download(request: Request, report_id: int, fmt: str, token: str) -> ReportDownload | None:
    with session_scope() as session:
        actor = sessions.resolve_session(session, token=request.cookies.get(sessions.COOKIE_NAME))
        try:
            return open_download(
                session,
                actor=actor,
                report_id=report_id,
                fmt=fmt,
                token=token,
                ip=request.client.host if request.client else "",
            )
        except LookupError:
            return None


@router.get("/api/reports/{report_id}/file/{fmt}", include_in_schema=False)
async def report_file(request: Request, report_id: int, fmt: str, token: str = "") -> Response:
    found = await asyncio.to_thread(_download, request, report_id, fmt, token)
    if found is None:
        return PlainTextResponse("Отчёт не найден или ссылка устарела.", status_code=404)
    return FileResponse(
        found.path,
        media_type=found.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
            "Cache-Control": "no-store",
        },
    )


def _confirm(token: str) -> str | None:
    with session_scope() as session:
        try:
            return confirm_recipient(session, token=token)
        except LookupError:
            return None


@router.get("/api/reports/recipients/confirm", include_in_schema=False)
async def confirm_recipient_link(token: str = "") -> HTMLResponse:
    address = await asyncio.to_thread(_confirm, token)
    if address is None:
        return HTMLResponse(_page("Ссылка недействительна или устарела."), status_code=404)
    return HTMLResponse(_page(f"Адрес {address} подтверждён: на него будут приходить отчёты."))


def _page(text: str) -> str:
    from html import escape

    return (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>socstat</title>'
        f'</head><body style="font-family:sans-serif"><p>{escape(text)}</p></body></html>'
    )
