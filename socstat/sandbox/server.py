"""The sandbox HTTP server: VK API under ``/method/<name>``, control under ``/_sandbox/``.

Request handling for ``/method/<name>`` (GET query or POST form-encoded body):

1. token (``access_token`` param or ``Authorization: Bearer``): missing/unknown → error 5
   "User authorization failed: invalid access_token" (no token configured = any non-empty
   token is a 3/s user token);
2. ``v`` missing → error 8;
3. per-token requests-per-second limit (3, 20 for community tokens; sliding 1 s window on
   the real monotonic clock; rejected requests do not enter the window) → error 6;
4. fault injection (at most one per request): error10, error9, http500/502/503, slow
   (sleep ``slow_seconds``, then answer), drop (socket closed without any response),
   truncate (HTTP 200, Content-Length of the cut body, JSON cut in half). Faulted requests
   never charge the daily quota (slow/truncate still compute a real answer, uncharged);
5. the method itself. Daily per-method quotas (wall.get 5000 by default) per token,
   reset at Moscow midnight of the world clock → error 29 "Rate limit reached".

Errors per community kind (wall.get; video.get with a video token gives the same for
closed/private/deleted/banned and lists videos of wall-disabled communities):

* open group/page/event: data;
* closed (is_closed=1) and private (is_closed=2):
  15 "Access denied: this wall available only for community members";
* wall disabled (open): 15 "Access denied: wall is disabled";
* banned (deactivated="banned"): 15 "Access denied: group is blocked";
* deleted (deactivated="deleted"): 15 "Access denied: group is deactivated";
* unknown owner_id: 100. groups.getById never errors for these kinds: it returns the
  object (deleted/banned as a minimal object with ``deactivated``); an unknown id → 100.
* video.get without a ``video:`` token: 15 "Access denied: no access to call this method".

``execute``: code parsed by :mod:`socstat.sandbox.execute` (bad code → 12 "Unable to
compile code"); more than 25 API calls → 13 "Runtime error occurred during code
invocation: Too many API calls". Inner failures give ``false`` plus an ``execute_errors``
entry. One execute is one request for the per-second limit; every inner call is charged
to its method's daily quota.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from socstat.sandbox import execute as vkscript
from socstat.sandbox.config import SandboxConfig, TokenSpec
from socstat.sandbox.jsonenc import encode
from socstat.sandbox.methods import METHODS, CallContext, VKError
from socstat.sandbox.state import Clock, FaultInjector, QuotaLedger, RateLimiter, Stats, parse_iso
from socstat.sandbox.world import USERS, World, date_day, iso_utc, msk_day

DROP = object()  # returned by the ASGI app to make uvicorn close the socket silently
ERROR_MESSAGES = {
    5: "User authorization failed: invalid access_token",
    6: "Too many requests per second",
    9: "Flood control",
    10: "Internal server error",
    29: "Rate limit reached",
}


class SandboxState:
    """Everything mutable behind one app instance."""

    def __init__(self, config: SandboxConfig) -> None:
        config.validate()
        running = config.now is None if config.running_clock is None else config.running_clock
        self.config = config
        self.clock = Clock(config.now, running)
        self.world = World(config.seed, config.communities, config.days, self.clock.now())
        self.tokens = {spec.token: spec for spec in config.tokens}
        self.limiter = RateLimiter(config.rate_limit)
        self.quotas = QuotaLedger(config.quotas)
        self.stats = Stats()
        self.faults = FaultInjector(
            config.seed, config.fault_rate, config.faults, config.slow_seconds
        )

    def token_spec(self, token: str) -> TokenSpec | None:
        if not token:
            return None
        if not self.tokens:
            return TokenSpec(token=token, kind="user")
        return self.tokens.get(token)


# ------------------------------------------------------------------------ method calls
def _error_body(code: int, message: str, params: dict[str, str], method: str) -> dict:
    request_params = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
    request_params += [
        {"key": key, "value": value} for key, value in params.items() if key != "access_token"
    ]
    return {"error": {"error_code": code, "error_msg": message, "request_params": request_params}}


def call_method(
    state: SandboxState, spec: TokenSpec, method: str, params: dict[str, str], charge: bool
) -> Any:
    """Run one API method (not execute); raises VKError. Charges quota if ``charge``."""
    state.stats.call(spec.token, method)
    handler = METHODS.get(method)
    if handler is None:
        raise VKError(3, "Unknown method passed")
    now = state.clock.now()
    if state.quotas.exceeded(spec.token, method, now):
        raise VKError(29, ERROR_MESSAGES[29])
    result = handler(CallContext(world=state.world, now=now, token=spec), params)
    if charge:
        state.quotas.charge(spec.token, method, now)
    return result


def run_execute(state: SandboxState, spec: TokenSpec, params: dict[str, str], charge: bool) -> dict:
    state.stats.call(spec.token, "execute")
    try:
        program = vkscript.parse(params.get("code", ""))
    except vkscript.ExecuteSyntaxError as exc:
        raise VKError(12, f"Unable to compile code: {exc}") from None
    if len(program.calls) > vkscript.MAX_CALLS:
        raise VKError(13, "Runtime error occurred during code invocation: Too many API calls")
    results: list[Any] = []
    errors: list[dict] = []
    for call in program.calls:
        try:
            if call.method == "execute":
                raise VKError(13, "Runtime error occurred during code invocation: nested execute")
            results.append(call_method(state, spec, call.method, call.params, charge))
        except VKError as exc:
            state.stats.error(spec.token, exc.code)
            results.append(False)
            errors.append({"method": call.method, "error_code": exc.code, "error_msg": exc.message})
    body: dict = {"response": results if program.is_list else results[0]}
    if errors:
        body["execute_errors"] = errors
    return body


def answer(state: SandboxState, spec: TokenSpec, method: str, params: dict, charge: bool) -> dict:
    """The JSON body for an authorised, rate-limit-passed request."""
    try:
        if method == "execute":
            return run_execute(state, spec, params, charge)
        return {"response": call_method(state, spec, method, params, charge)}
    except VKError as exc:
        state.stats.error(spec.token, exc.code)
        return _error_body(exc.code, exc.message, params, method)


# ------------------------------------------------------------------------ raw ASGI layer
async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _request_params(scope: dict, body: bytes) -> tuple[dict[str, str], str]:
    params = dict(
        parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    )
    headers = dict(scope.get("headers") or [])
    content_type = headers.get(b"content-type", b"").decode("latin-1")
    if body and "multipart" not in content_type:
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    token = params.get("access_token", "")
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if not token and auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    return params, token


async def _send(
    send: Any, status: int, body: bytes, content_type: str, length: int | None = None
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body) if length is None else length).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: Any, data: dict) -> None:
    await _send(send, 200, encode(data), "application/json; charset=utf-8")


async def handle_method(state: SandboxState, scope: dict, receive: Any, send: Any) -> Any:
    method = scope["path"][len("/method/") :].strip("/")
    params, token = _request_params(scope, await _read_body(receive))
    spec = state.token_spec(token)
    state.stats.request(token or "<none>")
    if spec is None:
        message = (
            ERROR_MESSAGES[5] if token else "User authorization failed: no access_token passed."
        )
        state.stats.error(token or "<none>", 5)
        return await _send_json(send, _error_body(5, message, params, method))
    if "v" not in params:
        state.stats.error(token, 8)
        return await _send_json(
            send, _error_body(8, "Invalid request: v is required", params, method)
        )
    if not state.limiter.allow(token, spec.rps):
        state.stats.error(token, 6)
        return await _send_json(send, _error_body(6, ERROR_MESSAGES[6], params, method))
    fault = state.faults.roll()
    if fault is not None:
        state.stats.fault(token, fault)
        return await _send_fault(state, spec, method, params, fault, send)
    return await _send_json(send, answer(state, spec, method, params, charge=True))


async def _send_fault(
    state: SandboxState, spec: TokenSpec, method: str, params: dict, fault: str, send: Any
) -> Any:
    if fault in ("error10", "error9"):
        code = int(fault[5:])
        state.stats.error(spec.token, code)
        return await _send_json(send, _error_body(code, ERROR_MESSAGES[code], params, method))
    if fault.startswith("http5"):
        body = f"<html><body><h1>{fault[4:]} Bad Gateway</h1></body></html>".encode()
        return await _send(send, int(fault[4:]), body, "text/html")
    if fault == "drop":
        return DROP
    if fault == "slow":
        await asyncio.sleep(state.faults.slow_seconds)
        return await _send_json(send, answer(state, spec, method, params, charge=False))
    body = encode(answer(state, spec, method, params, charge=False))
    cut = body[: max(1, len(body) // 2)]
    return await _send(send, 200, cut, "application/json; charset=utf-8")


# ------------------------------------------------------------------------ control endpoints
def _state(request: Request) -> SandboxState:
    return request.app.state.sandbox


async def _json_body(request: Request) -> dict:
    raw = await request.body()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("JSON object expected")
    return data


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def clock_get(request: Request) -> JSONResponse:
    return JSONResponse(_state(request).clock.describe())


async def clock_post(request: Request) -> JSONResponse:
    state = _state(request)
    try:
        data = await _json_body(request)
        if "now" in data:
            state.clock.set(parse_iso(str(data["now"])).timestamp())
        if "advance_seconds" in data:
            state.clock.advance(float(data["advance_seconds"]))
        if "running" in data:
            now = state.clock.now()
            state.clock.running = bool(data["running"])
            state.clock.set(now)
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    return JSONResponse(state.clock.describe())


async def faults_get(request: Request) -> JSONResponse:
    return JSONResponse(_state(request).faults.describe())


async def faults_post(request: Request) -> JSONResponse:
    injector = _state(request).faults
    try:
        data = await _json_body(request)
        injector.configure(
            float(data.get("rate", injector.rate)),
            {str(k): float(v) for k, v in data.get("faults", injector.faults).items()},
            float(data.get("slow_seconds", injector.slow_seconds)),
        )
    except (ValueError, TypeError, AttributeError) as exc:
        return _bad(str(exc))
    return JSONResponse(injector.describe())


async def delete_posts(request: Request) -> JSONResponse:
    """Delete wall posts now: ``{"owner_id": -gid, "post_ids": [..]}``."""
    state = _state(request)
    try:
        data = await _json_body(request)
        gid = abs(int(data["owner_id"]))
        post_ids = [int(pid) for pid in data["post_ids"]]
    except (ValueError, TypeError, KeyError) as exc:
        return _bad(f"owner_id and post_ids expected: {exc}")
    if gid not in state.world.by_id:
        return _bad(f"unknown community {gid}")
    return JSONResponse({"deleted": state.world.delete_posts(gid, post_ids, state.clock.now())})


def community_summary(state: SandboxState, community: Any) -> dict:
    return {
        "id": community.id,
        "screen_name": community.screen_name,
        "name": community.name,
        "type": community.type,
        "status": community.status,
        "is_closed": community.is_closed,
        "deactivated": community.deactivated,
        "wall_enabled": community.wall_enabled,
        "wall_accessible": community.wall_accessible,
        "url": f"https://vk.com/{community.screen_name}",
    }


async def communities(request: Request) -> JSONResponse:
    state = _state(request)
    items = [community_summary(state, c) for c in state.world.communities]
    return JSONResponse({"count": len(items), "items": items, "users": _users()})


def _users() -> list[dict]:
    return [{"screen_name": name, "id": uid} for name, uid in USERS.items()]


def truth_payload(
    state: SandboxState, community_id: int | None, first: str | None, last: str | None
) -> dict:
    world, now = state.world, state.clock.now()
    first_day = date_day(first) if first else world.first_day
    last_day = date_day(last) if last else msk_day(now)
    if last_day < first_day:
        raise ValueError("'to' is before 'from'")
    if last_day - first_day > 3660:
        raise ValueError("range too long")
    if community_id is None:
        selected = world.communities
    elif community_id in world.by_id:
        selected = [world.by_id[community_id]]
    else:
        raise LookupError(f"unknown community {community_id}")
    items = []
    for community in selected:
        item = community_summary(state, community)
        item["members_count"] = world.members(community, now)
        item["counters"] = world.counters(community, now) if community.deactivated is None else None
        item["days"] = world.truth_days(community, now, first_day, last_day)
        items.append(item)
    return {
        "now": iso_utc(now),
        "timezone": "Europe/Moscow (UTC+3)",
        "history_start": iso_utc(world.start),
        "views_since": iso_utc(world.views_since),
        "communities": items,
    }


async def truth(request: Request) -> JSONResponse:
    query = request.query_params
    try:
        raw_id = query.get("community")
        community_id = abs(int(raw_id)) if raw_id else None
        payload = truth_payload(
            state=_state(request),
            community_id=community_id,
            first=query.get("from"),
            last=query.get("to"),
        )
    except ValueError as exc:
        return _bad(str(exc))
    except LookupError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    return JSONResponse(payload)


async def stats_get(request: Request) -> JSONResponse:
    state = _state(request)
    data = state.stats.snapshot()
    data["quota_used"] = state.quotas.snapshot(state.clock.now())
    return JSONResponse(data)


async def stats_reset(request: Request) -> JSONResponse:
    _state(request).stats.reset()
    return JSONResponse({"ok": True})


async def quotas_reset(request: Request) -> JSONResponse:
    _state(request).quotas.reset()
    return JSONResponse({"ok": True})


async def warm(request: Request) -> JSONResponse:
    """Generate the world up to the clock and encode its wall items now (see World.warm)."""
    state = _state(request)
    return JSONResponse({"posts": state.world.warm(state.clock.now())})


async def health(request: Request) -> JSONResponse:
    state = _state(request)
    return JSONResponse({"ok": True, "seed": state.config.seed, **state.clock.describe()})


class SandboxApp(Starlette):
    """Starlette app whose ``/method/`` path is served by a raw, fast ASGI handler."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:  # type: ignore[override]
        if scope["type"] == "http" and scope["path"].startswith("/method/"):
            return await handle_method(self.state.sandbox, scope, receive, send)
        await super().__call__(scope, receive, send)
        return None


def create_app(config: SandboxConfig) -> SandboxApp:
    """Build the sandbox ASGI app for ``config``."""
    routes = [
        Route("/_sandbox/health", health),
        Route("/_sandbox/clock", clock_get, methods=["GET"]),
        Route("/_sandbox/clock", clock_post, methods=["POST"]),
        Route("/_sandbox/faults", faults_get, methods=["GET"]),
        Route("/_sandbox/faults", faults_post, methods=["POST"]),
        Route("/_sandbox/communities", communities),
        Route("/_sandbox/truth", truth),
        Route("/_sandbox/delete_posts", delete_posts, methods=["POST"]),
        Route("/_sandbox/stats", stats_get),
        Route("/_sandbox/reset_stats", stats_reset, methods=["POST"]),
        Route("/_sandbox/reset_quotas", quotas_reset, methods=["POST"]),
        Route("/_sandbox/warm", warm, methods=["POST"]),
    ]
    app = SandboxApp(routes=routes)
    app.state.sandbox = SandboxState(config)
    return app


__all__ = ["DROP", "SandboxApp", "SandboxState", "create_app"]
