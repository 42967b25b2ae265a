"""Sign-in plumbing for every page: the session cookie, the current user, the guards.

The session token lives only in the HttpOnly cookie ``socstat_session`` that the backend
routes in ``socstat.api.auth_routes`` set and delete; handlers read it from the websocket
handshake's request cookies (``_session_token``), never from a state var. A page that signs
someone in returns ``self._enter(ticket, next_path)`` with a login ticket from
:func:`with_ticket`: a full page load of the backend route that sets the cookie.

Contract for page authors
-------------------------
* Page states subclass :class:`AuthState` (one level below it; keep the tree flat)::

      class SourcesState(AuthState):
          rows: list[dict] = []

          @rx.event
          async def load(self):
              try:
                  self.rows = await self._as_actor(
                      lambda session, user: sources.list_for(session, actor=user)
                  )
              except PermissionDenied as exc:
                  return self._denied(exc)

* Protected pages: ``on_load=[AuthState.guard, YourState.load]`` (or use
  :func:`protected` which builds that list). ``guard`` sends a signed-out visitor to
  ``/login?next=<path>``, a half-signed-in one (second factor pending) to the code step
  and an admin who must enrol 2FA to ``/profile?enrol=1``.
* EVERY handler that touches data goes through ``await self._as_actor(work)``: ``work``
  is a plain function ``(session, user) -> result`` run in a worker thread in ONE database
  session, with ``user`` freshly resolved from the session token (so a blocked user or a
  revoked session stops working at the very next action). Pass ``user`` to the services
  as ``actor``; they raise ``PermissionDenied`` (Russian message) on refusal. Return
  plain dicts/lists from ``work``, never ORM objects.
  ``_as_actor`` raises :class:`SignedOut` / :class:`EnrolmentRequired` (both
  ``PermissionDenied``) when there is no usable session; ``return self._denied(exc)``
  turns any ``PermissionDenied`` into the right event (redirect to /login, to 2FA
  enrolment, or an error toast).
* Never trust ids coming from the browser: handlers receive them as arguments, so pass
  them to services that check ownership with the actor (``authz.ensure_can_*``).
* Display-only vars (``user_email``, ``user_name``, ``user_role``, ``role_label``,
  ``is_admin``, ``is_director``, ``signed_in``) are for rendering; hiding a control is
  never the protection — the handler's ``_as_actor`` + service check is.
* ``_user_id`` is a backend-only var (never sent to the browser); it is a cache for
  display only: authorization always re-resolves the user from the token.
"""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import reflex as rx
from sqlmodel import Session

from socstat.api.auth_routes import COMPLETE_PATH, SIGN_OUT_PATH
from socstat.db import run_in_session
from socstat.models.accounts import Role, User
from socstat.services import accounts, sessions
from socstat.services.authz import PermissionDenied
from socstat.services.twofactor import needs_2fa_enrolment

T = TypeVar("T")
R = TypeVar("R")

ROLE_LABELS: dict[str, str] = Role.LABELS
LOGIN_PATH = "/login"
ENROL_PATH = "/profile"
# Pages a half-signed-in or signed-out visitor must never be sent back to after sign-in.
_NO_RETURN = ("/login", "/register", "/reset", "/confirm", "/invite")
_ALLOWED_PATH_CHARS = set(string.ascii_letters + string.digits + "-._~/?&=%+,:@!$'()*;")


class SignedOut(PermissionDenied):
    """No usable session (none, expired, revoked, the user blocked): sign in again."""

    def __init__(self) -> None:
        super().__init__("Войдите в систему.")


class EnrolmentRequired(PermissionDenied):
    """An admin must enable two-factor sign-in before doing anything else."""

    def __init__(self) -> None:
        super().__init__("Сначала включите двухфакторную защиту в профиле.")


def safe_next(candidate: str | None, default: str = "/") -> str:
    """A local path to return to after sign-in, or ``default``.

    Rejects anything that could leave the site: absolute URLs, scheme-relative ``//host``,
    backslashes (browsers treat ``/\\host`` as ``//host``), control or non-ASCII
    characters, and the sign-in pages themselves.
    """
    if not candidate or not isinstance(candidate, str) or len(candidate) > 1000:
        return default
    if not candidate.startswith("/") or candidate.startswith("//"):
        return default
    if any(ch not in _ALLOWED_PATH_CHARS for ch in candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    path = parts.path or "/"
    if any(path == p or path.startswith(p + "/") for p in _NO_RETURN):
        return default
    return candidate


def login_url(next_path: str | None) -> str:
    """``/login`` with ``next`` when it is a safe local path worth returning to."""
    target = safe_next(next_path, default="")
    if not target or target == "/":
        return LOGIN_PATH
    return f"{LOGIN_PATH}?next={quote(target, safe='/')}"


def user_view(user: User) -> dict[str, Any]:
    """What the browser may know about the signed-in user (plain values)."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name or user.email,
        "role": user.role,
        "totp_enabled": bool(user.totp_enabled),
    }


def resolve_actor(session: Session, token: str | None, *, allow_unenrolled: bool) -> User:
    """The signed-in, active user of a raw session token; raises :class:`SignedOut` or
    :class:`EnrolmentRequired` (admins without 2FA while it is required)."""
    user = sessions.resolve_session(session, token=token)
    if user is None:
        raise SignedOut()
    if not allow_unenrolled and needs_2fa_enrolment(session, user):
        raise EnrolmentRequired()
    return user


def complete_url(ticket: str, next_path: str) -> str:
    """The backend route that turns a login ticket into the HttpOnly session cookie."""
    return f"{COMPLETE_PATH}?{urlencode({'ticket': ticket, 'next': safe_next(next_path)})}"


def navigate(url: str) -> rx.event.EventSpec:
    """A full page load of ``url`` (not the client-side router): backend routes, and a new
    websocket connection that carries the current cookies."""
    return rx.call_script(f"window.location.replace({json.dumps(url)})")


@dataclass(frozen=True)
class SignInOutcome:
    """A sign-in step's result as the login-style pages use it (no full session token)."""

    status: str
    message: str = ""
    retry_after: int | None = None
    unconfirmed: bool = False
    enrol: bool = False
    ticket: str | None = None
    pending_token: str | None = None


def with_ticket(session: Session, result: accounts.SignInResult) -> SignInOutcome:
    """What the state may keep of a sign-in: a full session's token is swapped for a login
    ticket (the browser exchanges it for the HttpOnly cookie); a pending one (second
    factor) stays for the backend-only var; any other token is dropped."""
    ticket = sessions.issue_login_ticket(session, token=result.token) if result.ok else None
    pending = result.token if result.status == "needs_2fa" else None
    return SignInOutcome(
        status=result.status,
        message=result.message,
        retry_after=result.retry_after,
        unconfirmed=result.unconfirmed,
        enrol=result.needs_2fa_enrolment,
        ticket=ticket,
        pending_token=pending,
    )


class AuthState(rx.State):
    """Who is signed in (from the HttpOnly session cookie). Base of page states.

    The session token is never a state var: it reaches the backend only in the websocket
    handshake's ``Cookie`` header (``self.router.headers.cookie``, which Reflex 0.10 keeps
    on the server). ``_pending_token`` (backend-only) holds the half-signed-in session
    between the password and the second-factor step.
    """

    signed_in: bool = False
    user_email: str = ""
    user_name: str = ""
    user_role: str = ""
    _user_id: int | None = None
    _pending_token: str = ""

    @rx.var
    def is_admin(self) -> bool:
        return self.signed_in and self.user_role == Role.ADMIN

    @rx.var
    def is_director(self) -> bool:
        return self.signed_in and self.user_role == Role.DIRECTOR

    @rx.var
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.user_role, "")

    # --- identity bookkeeping ----------------------------------------------------------

    def _apply_identity(self, view: dict[str, Any]) -> None:
        self._user_id = view["id"]
        self.signed_in = True
        self.user_email = view["email"]
        self.user_name = view["name"]
        self.user_role = view["role"]

    def _clear_identity(self) -> None:
        self._user_id = None
        self.signed_in = False
        self.user_email = ""
        self.user_name = ""
        self.user_role = ""

    def _enter(self, ticket: str, next_path: str) -> rx.event.EventSpec:
        """Finish a sign-in: the browser exchanges ``ticket`` for the session cookie at the
        backend route, which then sends it on to ``next_path``."""
        self._pending_token = ""
        self._clear_identity()
        return navigate(complete_url(ticket, next_path))

    def _forget_session(self) -> None:
        self._pending_token = ""
        self._clear_identity()

    # --- request facts -----------------------------------------------------------------

    def _session_token(self) -> str | None:
        """The raw session token from the websocket handshake's cookies (server-side only)."""
        try:
            header = self.router.headers.cookie
        except AttributeError:
            return None
        return sessions.token_from_cookie_header(header)

    def _client_ip(self) -> str:
        try:
            return str(self.router.session.client_ip or "")[:64]
        except AttributeError:
            return ""

    def _user_agent(self) -> str:
        try:
            return str(self.router.headers.user_agent or "")[:512]
        except AttributeError:
            return ""

    def _current_path(self) -> str:
        try:
            url = self.router.url
            path = url.path or "/"
            return f"{path}?{url.query}" if url.query else path
        except AttributeError:
            return "/"

    def _query_params(self) -> dict[str, str]:
        """The page URL's query parameters (the string ones)."""
        try:
            raw = self.router.url.query_parameters
        except AttributeError:
            return {}
        return {k: v for k, v in dict(raw).items() if isinstance(v, str)}

    def _query_param(self, name: str) -> str:
        try:
            value = self.router.url.query_parameters.get(name, "")
        except AttributeError:
            return ""
        return value if isinstance(value, str) else ""

    # --- the authorization helpers for handlers ----------------------------------------

    async def _as_actor(
        self, work: Callable[[Session, User], T], *, allow_unenrolled: bool = False
    ) -> T:
        """Run ``work(session, user)`` in one DB session as the freshly resolved user.

        Raises SignedOut / EnrolmentRequired / whatever ``work`` raises (services raise
        PermissionDenied). The display vars are refreshed on success and cleared when the
        session no longer works.
        """
        token = self._session_token()

        def _run(session: Session) -> tuple[T, dict[str, Any]]:
            user = resolve_actor(session, token, allow_unenrolled=allow_unenrolled)
            view = user_view(user)
            return work(session, user), view

        result, view = await self._signed_out_cleared(run_in_session(_run))
        self._apply_identity(view)
        return result

    async def _as_actor_in_steps(
        self,
        first: Callable[[Session, User], T],
        then: Callable[[Session, User, T], R],
    ) -> tuple[T, Awaitable[R]]:
        """Like :meth:`_as_actor` for work whose first part is shown before the rest is
        done: ``first(session, user)``, then ``then(session, user, first's result)`` in the
        same DB session as the same user. Returns the first result as soon as it is
        computed, with an awaitable of the second (which raises like ``_as_actor``)."""
        token = self._session_token()
        loop = asyncio.get_running_loop()
        early: asyncio.Future[tuple[T, dict[str, Any]]] = loop.create_future()

        def _run(session: Session) -> R:
            user = resolve_actor(session, token, allow_unenrolled=False)
            result = first(session, user)
            loop.call_soon_threadsafe(early.set_result, (result, user_view(user)))
            return then(session, user, result)

        work = asyncio.ensure_future(run_in_session(_run))
        # the caller may never await the second part (the tab closed in between)
        work.add_done_callback(lambda done: done.cancelled() or done.exception())
        await asyncio.wait((early, work), return_when=asyncio.FIRST_COMPLETED)
        if not early.done():  # the first part failed: ``work`` holds why
            early.cancel()
            await self._signed_out_cleared(work)
        result, view = early.result()
        self._apply_identity(view)
        return result, self._signed_out_cleared(work)

    async def _signed_out_cleared(self, work: Awaitable[R]) -> R:
        """``work``'s result; the display vars are cleared when it finds the session gone."""
        try:
            return await work
        except SignedOut:
            self._clear_identity()
            raise

    async def _actor_view(self, *, allow_unenrolled: bool = False) -> dict[str, Any]:
        """The signed-in user's :func:`user_view` (raises like :meth:`_as_actor`)."""
        return await self._as_actor(
            lambda _s, user: user_view(user), allow_unenrolled=allow_unenrolled
        )

    def _denied(self, exc: PermissionDenied) -> Any:
        """The event that answers a refused handler: sign-in, enrolment, or a toast."""
        if isinstance(exc, SignedOut):
            self._forget_session()
            return rx.redirect(login_url(self._current_path()))
        if isinstance(exc, EnrolmentRequired):
            return rx.redirect(f"{ENROL_PATH}?enrol=1")
        return rx.toast.error(str(exc), duration=8000)

    # --- events ------------------------------------------------------------------------

    @rx.event
    async def guard(self) -> Any:
        """on_load of every protected page (see the module docstring)."""
        token = self._session_token()
        path = self._current_path()

        def _check(session: Session) -> tuple[str, dict[str, Any] | None]:
            user = sessions.resolve_session(session, token=token)
            if user is None:
                return "signed_out", None
            if needs_2fa_enrolment(session, user):
                return "enrol", user_view(user)
            return "ok", user_view(user)

        verdict, view = await run_in_session(_check)
        if view is None:
            self._clear_identity()
            return rx.redirect(login_url(path))
        self._apply_identity(view)
        if verdict == "enrol" and urlsplit(path).path != ENROL_PATH:
            return rx.redirect(f"{ENROL_PATH}?enrol=1")
        return None

    @rx.event
    async def sign_out(self) -> Any:
        """Go to the backend route that revokes this browser's session and deletes the
        cookie (JavaScript cannot), then shows the sign-in page."""
        self._forget_session()
        return navigate(SIGN_OUT_PATH)


def protected(*handlers: Any) -> list[Any]:
    """``on_load`` for a protected page: the guard first, then the page's own loaders."""
    return [AuthState.guard, *handlers]


def with_user_view(
    session: Session, result: accounts.SignInResult
) -> tuple[accounts.SignInResult, dict[str, Any] | None]:
    """A sign-in result with the :func:`user_view` of its user (None when there is none)."""
    user = session.get(User, result.user_id) if result.user_id else None
    return result, (user_view(user) if user is not None else None)
