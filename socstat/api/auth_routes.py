"""Backend HTTP routes that own the session cookie (HttpOnly: JavaScript never sees it).

``GET /api/auth/complete?ticket=…&next=…`` exchanges the single-use login ticket a page
state minted after a successful sign-in for a fresh session token, sets it as the HttpOnly
cookie and answers 303 to ``next``; the page load then reconnects the websocket, which
carries the cookie to the backend. ``GET /api/auth/sign-out`` revokes the session of the
cookie (if any), deletes the cookie and answers 303 to the sign-in page — unless the
browser says the navigation came from another site (``Sec-Fetch-Site: cross-site``): a
link elsewhere must not be able to sign a user out, so it only lands on the dashboard.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from socstat.db import session_scope
from socstat.services import accounts, sessions
from socstat.settings import get_settings

COMPLETE_PATH = "/api/auth/complete"
SIGN_OUT_PATH = "/api/auth/sign-out"
LOGIN_PATH = "/login"
HOME_PATH = "/dashboard"
_EXPIRED = f"{LOGIN_PATH}?expired=1"

router = APIRouter(include_in_schema=False)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or get_settings().base_url.startswith("https://")


def _local_path(candidate: str) -> str:
    """``candidate`` when it is a plain local path (no scheme, host or backslash), else /."""
    if (
        not candidate.startswith("/")
        or candidate.startswith("//")
        or "\\" in candidate
        or any(ord(ch) < 33 or ord(ch) > 126 for ch in candidate)
        or len(candidate) > 1000
    ):
        return "/"
    return candidate


def _redeem(ticket: str) -> sessions.IssuedSession | None:
    with session_scope() as session:
        return sessions.redeem_login_ticket(session, ticket=ticket)


def _revoke(token: str, ip: str) -> None:
    with session_scope() as session:
        accounts.sign_out(session, token=token, ip=ip)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


@router.get(COMPLETE_PATH)
async def complete_sign_in(request: Request, ticket: str = "", next: str = "/") -> RedirectResponse:
    issued = await asyncio.to_thread(_redeem, ticket[:200])
    if issued is None:
        return RedirectResponse(_EXPIRED, status_code=303)
    response = RedirectResponse(_local_path(next), status_code=303)
    response.set_cookie(
        sessions.COOKIE_NAME,
        issued.token,
        max_age=int(sessions.ABSOLUTE_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get(SIGN_OUT_PATH)
async def sign_out(request: Request) -> RedirectResponse:
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return RedirectResponse(HOME_PATH, status_code=303)
    token = sessions.token_from_cookie_header(request.headers.get("cookie"))
    if token:
        await asyncio.to_thread(_revoke, token, _client_ip(request))
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(
        sessions.COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=_secure(request)
    )
    response.headers["Cache-Control"] = "no-store"
    return response
