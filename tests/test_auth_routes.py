"""The backend routes that own the HttpOnly session cookie."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from socstat.api.auth_routes import router
from socstat.db import session_scope
from socstat.models.base import utcnow
from socstat.services import sessions
from tests.services.accounts_fixtures import make_user


def _client() -> TestClient:
    api = FastAPI()
    api.include_router(router)
    return TestClient(api, follow_redirects=False)


def _signed_in_ticket(session: Session, email: str) -> tuple[str, str]:
    """A fresh session's token (as the sign-in returns it) and its login ticket."""
    user = make_user(session, email)
    token = sessions.create_session(session, user=user).token
    ticket = sessions.issue_login_ticket(session, token=token)
    session.commit()
    assert ticket is not None
    return token, ticket


def test_complete_sets_an_httponly_cookie_and_redirects(session: Session) -> None:
    first_token, ticket = _signed_in_ticket(session, "cookie@example.com")
    response = _client().get(f"/api/auth/complete?ticket={ticket}&next=/profile")
    assert response.status_code == 303 and response.headers["location"] == "/profile"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{sessions.COOKIE_NAME}=")
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # http base URL in tests
    token = response.cookies[sessions.COOKIE_NAME]
    with session_scope() as check:
        assert sessions.resolve_session(check, token=token).email == "cookie@example.com"
        # the token the sign-in step produced no longer works: only the cookie's does
        assert sessions.resolve_session(check, token=first_token) is None


def test_a_ticket_works_once_and_not_after_a_minute(session: Session) -> None:
    _, ticket = _signed_in_ticket(session, "once@example.com")
    client = _client()
    assert "set-cookie" in client.get(f"/api/auth/complete?ticket={ticket}").headers
    again = client.get(f"/api/auth/complete?ticket={ticket}")
    assert again.status_code == 303 and again.headers["location"] == "/login?expired=1"
    assert "set-cookie" not in again.headers

    _, late = _signed_in_ticket(session, "late@example.com")
    after = utcnow() + sessions.TICKET_LIFETIME + timedelta(seconds=1)
    assert sessions.redeem_login_ticket(session, ticket=late, now=after) is None
    assert sessions.redeem_login_ticket(session, ticket=late) is not None


def test_complete_refuses_a_foreign_next_and_unknown_tickets(session: Session) -> None:
    _, ticket = _signed_in_ticket(session, "next@example.com")
    response = _client().get(f"/api/auth/complete?ticket={ticket}&next=//evil.example/x")
    assert response.headers["location"] == "/"
    unknown = _client().get("/api/auth/complete?ticket=forged")
    assert unknown.headers["location"] == "/login?expired=1" and "set-cookie" not in unknown.headers


def test_no_ticket_for_a_pending_or_revoked_session(session: Session) -> None:
    user = make_user(session, "pending@example.com")
    pending = sessions.create_session(session, user=user, mfa_pending=True).token
    assert sessions.issue_login_ticket(session, token=pending) is None
    full = sessions.create_session(session, user=user).token
    ticket = sessions.issue_login_ticket(session, token=full)
    sessions.revoke_token(session, token=full)
    assert sessions.redeem_login_ticket(session, ticket=ticket) is None


def test_sign_out_revokes_the_cookies_session_and_deletes_the_cookie(session: Session) -> None:
    _, ticket = _signed_in_ticket(session, "bye@example.com")
    client = _client()
    token = client.get(f"/api/auth/complete?ticket={ticket}").cookies[sessions.COOKIE_NAME]
    response = client.get("/api/auth/sign-out")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f'{sessions.COOKIE_NAME}=""') and "Max-Age=0" in set_cookie
    with session_scope() as check:
        assert sessions.resolve_session(check, token=token) is None


def test_a_sign_out_link_on_another_site_signs_nobody_out(session: Session) -> None:
    _, ticket = _signed_in_ticket(session, "stay@example.com")
    client = _client()
    token = client.get(f"/api/auth/complete?ticket={ticket}").cookies[sessions.COOKIE_NAME]
    response = client.get("/api/auth/sign-out", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    assert "set-cookie" not in response.headers
    with session_scope() as check:
        assert sessions.resolve_session(check, token=token).email == "stay@example.com"
    own = client.get("/api/auth/sign-out", headers={"Sec-Fetch-Site": "same-origin"})
    assert own.headers["location"] == "/login"
    with session_scope() as check:
        assert sessions.resolve_session(check, token=token) is None


def test_the_token_is_read_from_a_cookie_header() -> None:
    header = f"a=1; {sessions.COOKIE_NAME}=abc-DEF_9; b=2"
    assert sessions.token_from_cookie_header(header) == "abc-DEF_9"
    assert sessions.token_from_cookie_header("a=1") is None
    assert sessions.token_from_cookie_header("") is None
    assert sessions.token_from_cookie_header(None) is None
