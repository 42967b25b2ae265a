"""Async VK API client: token pool, rate limiting, daily quotas, retries, execute batching.

Callers just ``await client.call(method, params, priority=...)``. Calls go into one
priority queue (lower priority value first, FIFO within a priority). Every token has a
sender task: it waits for work it may do, takes a rate-limiter slot, waits until 25
eligible calls are queued or no request is in flight any more (answers bring new calls),
then fires them as one ``execute`` request in a separate task (several requests in
flight), so requests leave as fast as each token's limit allows and every one carries 25
calls while work remains. With ``batch=False`` every call is
its own request (for comparison benchmarks).

Callers may also :meth:`~VKClient.prefetch` a call they will probably need (the next page
of a wall): prefetched calls never make a request leave or wait, they only fill the free
places of a request that leaves with fewer than 25 calls — the last requests of a run,
whose answers would otherwise bring calls for one more request. :meth:`~VKClient.claim`
turns a prefetched call into a needed one (queued now if it has not left yet); once a
prefetched call has left, it is retried like any other.

Failures: 6/9/10/1, HTTP 5xx, timeouts, dropped connections and broken JSON are retried
with exponential backoff and jitter (per call, ``max_retries``); 29 parks the token for
that method until the Moscow day changes; 5/17/27/28 mark the token invalid (reported in
``invalid_tokens``, the token itself is never logged); 12/13 and unmatched ``false``
slots of ``execute`` fall back to direct calls. Other VK errors fail the call with
:class:`VKApiError`. When no token can serve a call, it fails with :class:`NoTokenError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from socstat.collectors.base import CollectorError, TokenProblem, UsageStats
from socstat.collectors.vk.limits import (
    QuotaLedger,
    RateLimiter,
    TokenSpec,
    moscow_today,
    parse_tokens,
)

log = logging.getLogger(__name__)

MAX_EXECUTE_CALLS = 25
QUIET_TURNS = 5  # event-loop turns a partial request waits once nothing is in flight
RETRY_CODES = frozenset({1, 6, 9, 10})
INVALID_TOKEN_CODES = frozenset({5, 17, 27, 28})
EXECUTE_CODES = frozenset({12, 13})
QUOTA_CODE = 29
_METHOD_NAME = re.compile(r"^[a-z]+\.[A-Za-z]+$")


class VKApiError(Exception):
    """A VK API call failed for good. ``code`` is VK's error code (None: network/HTTP)."""

    def __init__(
        self, code: int | None, message: str, method: str = "", transient: bool = False
    ) -> None:
        super().__init__(f"VK {method}: {message}" + (f" (код {code})" if code else ""))
        self.code = code
        self.message = message
        self.method = method
        self.transient = transient


class NoTokenError(CollectorError):
    """No configured token may make this call (all invalid, or daily quota used up)."""

    def __init__(self, message: str, method: str = "", all_invalid: bool = False) -> None:
        super().__init__(message)
        self.method = method
        self.all_invalid = all_invalid


@dataclass(eq=False)
class _Call:
    method: str
    params: dict[str, Any]
    future: asyncio.Future[Any]
    priority: int
    attempts: int = 0
    direct: bool = False
    prefetched: bool = False  # only fills free places of a leaving request


@dataclass(eq=False)
class _Token:
    spec: TokenSpec
    limiter: RateLimiter
    invalid: TokenProblem | None = None
    sender: asyncio.Task[None] | None = None
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list | tuple | set):
        return ",".join(_form_value(item) for item in value)
    return str(value)


def build_execute_code(calls: Iterable[tuple[str, dict[str, Any]]]) -> str:
    """``return [API.m({...}), ...];`` with parameters serialised as JSON."""
    parts = []
    for method, params in calls:
        if not _METHOD_NAME.match(method):
            raise ValueError(f"bad VK method name {method!r}")
        values = {key: _json_value(value) for key, value in params.items()}
        parts.append(f"API.{method}({json.dumps(values, ensure_ascii=False)})")
    return "return [" + ",".join(parts) + "];"


def _json_value(value: Any) -> Any:
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int | float | str):
        return value
    return _form_value(value)


class VKClient:
    """One client per token pool. Use from a single event loop; close with :meth:`aclose`."""

    def __init__(
        self,
        base_url: str,
        tokens: str | Iterable[str] | Iterable[TokenSpec],
        *,
        api_version: str = "5.199",
        timeout: float = 10.0,
        batch: bool = True,
        max_batch: int = MAX_EXECUTE_CALLS,
        max_retries: int = 5,
        quotas: dict[str, int] | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        rate_margin: float = 0.015,
        ledger: QuotaLedger | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        specs = _token_specs(tokens)
        if not specs:
            raise CollectorError("Не настроены токены VK (SOCSTAT_VK_TOKENS пуст)")
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.batch = batch
        self.max_batch = max(1, min(MAX_EXECUTE_CALLS, max_batch)) if batch else 1
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.usage = UsageStats()
        self.ledger = ledger or QuotaLedger(quotas, today=moscow_today)
        self._tokens = [_Token(spec, RateLimiter(spec.rps, margin=rate_margin)) for spec in specs]
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        self._queue: list[tuple[int, int, _Call]] = []
        self._spare: list[tuple[int, int, _Call]] = []  # prefetched calls, same order
        self._spare_calls: dict[asyncio.Future[Any], _Call] = {}  # those not sent yet
        self._seq = itertools.count()
        self._inflight: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()  # a call was queued or a request finished
        self._delayed: set[_Call] = set()
        self._closed = False

    # ------------------------------------------------------------------ public API
    @property
    def tokens(self) -> list[TokenSpec]:
        return [token.spec for token in self._tokens]

    @property
    def invalid_tokens(self) -> list[TokenProblem]:
        return [token.invalid for token in self._tokens if token.invalid is not None]

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, priority: int = 0
    ) -> Any:
        """Make one API call (batched with others); returns VK's ``response`` value."""
        if self._closed:
            raise CollectorError("VK client is closed")
        if not _METHOD_NAME.match(method):
            raise ValueError(f"bad VK method name {method!r}")
        loop = asyncio.get_running_loop()
        call = _Call(method, dict(params or {}), loop.create_future(), priority)
        self._start_senders()
        self._push(call)
        return await call.future

    def prefetch(
        self, method: str, params: dict[str, Any] | None = None, *, priority: int = 0
    ) -> asyncio.Future[Any]:
        """Make a call only in a free place of a request that leaves anyway (see the
        module doc). :meth:`claim` the returned future when the answer is needed after
        all; cancel it when it is not."""
        if self._closed:
            raise CollectorError("VK client is closed")
        if not _METHOD_NAME.match(method):
            raise ValueError(f"bad VK method name {method!r}")
        future = asyncio.get_running_loop().create_future()
        future.add_done_callback(self._prefetch_done)
        call = _Call(method, dict(params or {}), future, priority, prefetched=True)
        self._spare_calls[future] = call
        self._start_senders()
        self._push(call)
        return future

    def _prefetch_done(self, future: asyncio.Future[Any]) -> None:
        self._spare_calls.pop(future, None)
        if not future.cancelled():
            future.exception()  # an answer nobody asked for: its error is not worth a warning

    async def claim(self, future: asyncio.Future[Any]) -> Any:
        """The answer of a :meth:`prefetch`: the call is queued like any other if it is
        still waiting for a free place."""
        call = self._spare_calls.pop(future, None)
        if call is not None and call.prefetched:
            call.prefetched = False
            self._push(call)
        return await future

    async def aclose(self) -> None:
        self._closed = True
        tasks = [t.sender for t in self._tokens if t.sender is not None] + list(self._inflight)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        closed = CollectorError("VK client is closed")
        for _, _, call in self._queue + self._spare:
            _fail(call, closed)
        for call in self._delayed:
            _fail(call, closed)
        self._queue.clear()
        self._spare.clear()
        self._spare_calls.clear()
        self._delayed.clear()
        if self._owns_http:
            await self._http.aclose()

    # ------------------------------------------------------------------ queue
    def _start_senders(self) -> None:
        for token in self._tokens:
            if token.sender is None and token.invalid is None:
                token.sender = asyncio.create_task(self._sender(token))

    def _push(self, call: _Call) -> None:
        self._delayed.discard(call)
        if call.future.done():
            return
        if self._closed:
            _fail(call, CollectorError("VK client is closed"))
            return
        problem = self._unservable(call.method)
        if problem is not None:
            _fail(call, problem)
            return
        if call.prefetched:
            if len(self._spare) > 2 * len(self._spare_calls) + 64:  # mostly cancelled ones
                self._spare = [e for e in self._spare if e[2].future in self._spare_calls]
                heapq.heapify(self._spare)
            heapq.heappush(self._spare, (call.priority, next(self._seq), call))
            return  # never a reason to send: it waits for a request that leaves anyway
        heapq.heappush(self._queue, (call.priority, next(self._seq), call))
        self._changed.set()
        for token in self._tokens:
            token.wakeup.set()

    def _push_later(self, call: _Call, delay: float) -> None:
        self._delayed.add(call)
        asyncio.get_running_loop().call_later(delay, self._push, call)

    def _usable(self, token: _Token, method: str) -> bool:
        return token.invalid is None and self.ledger.available(token.spec.token, method)

    def _unservable(self, method: str) -> NoTokenError | None:
        if all(token.invalid is not None for token in self._tokens):
            reasons = "; ".join(f"{t.masked}: {t.reason}" for t in self.invalid_tokens)
            return NoTokenError(
                f"Нет рабочих токенов VK: все токены недействительны ({reasons})",
                method,
                all_invalid=True,
            )
        if not any(self._usable(token, method) for token in self._tokens):
            return NoTokenError(
                f"Дневной лимит вызовов {method} исчерпан на всех токенах VK; "
                "сбор продолжится после полуночи по Москве",
                method,
            )
        return None

    def _fail_unservable(self) -> None:
        kept = []
        for entry in self._queue:
            problem = self._unservable(entry[2].method)
            if problem is None:
                kept.append(entry)
            else:
                _fail(entry[2], problem)
        if len(kept) != len(self._queue):
            heapq.heapify(kept)
            self._queue = kept

    def _has_work(self, token: _Token) -> bool:
        return any(self._usable(token, entry[2].method) for entry in self._queue)

    def _take(self, token: _Token) -> list[_Call]:
        limit = self.max_batch
        taken: list[_Call] = []
        skipped: list[tuple[int, int, _Call]] = []
        while self._queue and len(taken) < limit:
            entry = heapq.heappop(self._queue)
            call = entry[2]
            if call.future.done():
                continue
            if not self._usable(token, call.method) or (call.direct and taken):
                skipped.append(entry)
                continue
            taken.append(call)
            self.ledger.charge(token.spec.token, call.method)
            if call.direct:
                break
        for entry in skipped:
            heapq.heappush(self._queue, entry)
        if taken and not taken[-1].direct:
            taken += self._take_spare(token, limit - len(taken))
        methods = {call.method for call in taken}
        if any(not self.ledger.available(token.spec.token, method) for method in methods):
            self._fail_unservable()  # this token just used up a quota: maybe nobody is left
        return taken

    def _take_spare(self, token: _Token, room: int) -> list[_Call]:
        """Up to ``room`` prefetched calls (oldest work first) for a request's free places."""
        taken: list[_Call] = []
        skipped: list[tuple[int, int, _Call]] = []
        while self._spare and len(taken) < room:
            entry = heapq.heappop(self._spare)
            call = entry[2]
            if call.future.done() or not call.prefetched:
                self._spare_calls.pop(call.future, None)
                continue  # cancelled, or claimed by now (it is in the main queue)
            if not self._usable(token, call.method):
                skipped.append(entry)
                continue
            self._spare_calls.pop(call.future, None)
            call.prefetched = False  # it leaves: from now on a call like any other
            taken.append(call)
            self.ledger.charge(token.spec.token, call.method)
        for entry in skipped:
            heapq.heappush(self._spare, entry)
        return taken

    # ------------------------------------------------------------------ sending
    async def _sender(self, token: _Token) -> None:
        while not self._closed and token.invalid is None:
            while not self._has_work(token):
                token.wakeup.clear()
                await token.wakeup.wait()
                if token.invalid is not None:
                    return
            stamp = await token.limiter.acquire()
            await self._fill(token)
            calls = self._take(token)
            if not calls:
                token.limiter.refund()
                continue
            task = asyncio.create_task(self._send(token, calls, stamp))
            self._inflight.add(task)
            task.add_done_callback(self._landed)

    def _landed(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._changed.set()

    async def _fill(self, token: _Token) -> None:
        """Wait until a full ``execute`` (25 calls) is queued, or no more work can come.

        New calls come from callers reacting to answers, so while a request is in flight a
        partly filled one waits for it: a request slot spent on 10 calls where 25 could go
        is a whole request lost. With nothing in flight, a few loop turns let the callers
        just woken by the last answer queue their next calls before a partial one leaves.
        """
        if not self.batch:
            return
        quiet_turns = 0
        while not self._closed and self._eligible(token) < self.max_batch:
            if self._inflight:
                quiet_turns = 0
                self._changed.clear()
                await self._changed.wait()
            elif quiet_turns < QUIET_TURNS:
                quiet_turns += 1
                await asyncio.sleep(0)
            else:
                return

    def _eligible(self, token: _Token) -> int:
        """Queued calls this token may make, counted up to a full request."""
        count = 0
        for entry in self._queue:
            if self._usable(token, entry[2].method):
                count += 1
                if count == self.max_batch:
                    break
        return count

    async def _send(self, token: _Token, calls: list[_Call], stamp: float | None = None) -> None:
        direct = len(calls) == 1 and (calls[0].direct or not self.batch)
        if direct:
            method, params = calls[0].method, calls[0].params
        else:
            method = "execute"
            params = {"code": build_execute_code((c.method, c.params) for c in calls)}
        self.usage.requests += 1
        self.usage.calls += len(calls)
        if stamp is not None:
            stamp = token.limiter.touch(stamp)
        body = await self._post(token, method, params, calls, stamp)
        if body is None:
            return
        error = body.get("error")
        if isinstance(error, dict):
            self._request_error(token, calls, error, direct)
        elif direct:
            self.usage.count_call(token.spec.token, calls[0].method)
            _resolve(calls[0], body.get("response"))
        else:
            self._distribute(token, calls, body)

    async def _post(
        self,
        token: _Token,
        method: str,
        params: dict[str, Any],
        calls: list[_Call],
        stamp: float | None = None,
    ) -> dict[str, Any] | None:
        data = {key: _form_value(value) for key, value in params.items()}
        data.update(v=self.api_version, access_token=token.spec.token)
        url = f"{self.base_url}/method/{method}"

        async def trace(event: str, info: dict[str, Any]) -> None:
            # The request is on the wire only now (a first request also opens the
            # connection, tens of milliseconds on a busy machine): its rate-limit slot
            # counts from here, as VK's window does.
            if stamp is not None and event.endswith(".send_request_body.complete"):
                token.limiter.touch(stamp)

        try:
            response = await self._http.post(url, data=data, extensions={"trace": trace})
        except httpx.TimeoutException:
            return self._transport_failure(token, method, calls, "timeout", "VK не ответил вовремя")
        except httpx.HTTPError as exc:
            return self._transport_failure(
                token, method, calls, "network", f"сбой соединения: {type(exc).__name__}"
            )
        if response.status_code != 200:
            status = response.status_code
            return self._transport_failure(token, method, calls, f"http{status}", f"HTTP {status}")
        try:
            body = json.loads(response.content)
        except ValueError:
            return self._transport_failure(
                token, method, calls, "bad_json", "ответ VK оборван или не JSON"
            )
        if not isinstance(body, dict):
            return self._transport_failure(token, method, calls, "bad_json", "неожиданный ответ VK")
        return body

    def _transport_failure(
        self, token: _Token, method: str, calls: list[_Call], key: str, message: str
    ) -> None:
        self.usage.count_error(key, token=token.spec.token, method=method)
        for call in calls:
            self._retry(call, None, message)
        return None

    # ------------------------------------------------------------------ errors & results
    def _request_error(
        self, token: _Token, calls: list[_Call], error: dict[str, Any], direct: bool
    ) -> None:
        code, message = _error_fields(error)
        method = calls[0].method if direct else "execute"
        self.usage.count_error(code, token=token.spec.token, method=method)
        if code == 6:  # widen the limiter's safety margin once per refused request
            token.limiter.penalize()
        if not direct and code not in RETRY_CODES | INVALID_TOKEN_CODES | {QUOTA_CODE}:
            for call in calls:  # execute itself failed (12/13/...): ask one by one
                call.direct = True
                self._push(call)
            return
        for call in calls:
            self._call_error(token, call, code, message, counted=True)

    def _call_error(
        self, token: _Token, call: _Call, code: int, message: str, counted: bool = False
    ) -> None:
        if not counted:
            self.usage.count_error(code, token=token.spec.token, method=call.method)
        if code in INVALID_TOKEN_CODES:
            self._invalidate(token, code, message)
            self._push(call)
        elif code == QUOTA_CODE:
            self._park(token, call.method)
            self._push(call)
        elif code == 6:  # the limiter paces the retry
            self._retry(call, code, message, delay=0.0)
        elif code in RETRY_CODES:
            self._retry(call, code, message)
        elif code in EXECUTE_CODES and not call.direct:
            call.direct = True
            self._push(call)
        else:
            _fail(call, VKApiError(code, message, call.method))

    def _distribute(self, token: _Token, calls: list[_Call], body: dict[str, Any]) -> None:
        results = body.get("response")
        if not isinstance(results, list) or len(results) != len(calls):
            self.usage.count_error("execute_shape", token=token.spec.token, method="execute")
            for call in calls:
                call.direct = True
                self._push(call)
            return
        errors = iter(body.get("execute_errors") or [])
        matched = True
        for call, value in zip(calls, results, strict=True):
            if value is not False:
                self.usage.count_call(token.spec.token, call.method)
                _resolve(call, value)
                continue
            error = next(errors, None) if matched else None
            if not isinstance(error, dict) or error.get("method", call.method) != call.method:
                matched = False  # cannot tell which error is whose: ask this call directly
                call.direct = True
                self._push(call)
                continue
            code, message = _error_fields(error)
            self._call_error(token, call, code, message)

    def _retry(
        self, call: _Call, code: int | None, message: str, delay: float | None = None
    ) -> None:
        call.attempts += 1
        if call.attempts > self.max_retries:
            text = f"{message}; попыток: {call.attempts}"
            _fail(call, VKApiError(code, text, call.method, transient=True))
            return
        if delay is None:
            delay = self.backoff_delay(call.attempts)
        if delay <= 0:
            self._push(call)
        else:
            self._push_later(call, delay)

    def backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: base·2^(attempt−1) (capped) × U(0.5, 1.5)."""
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return delay * random.uniform(0.5, 1.5)

    def _invalidate(self, token: _Token, code: int, message: str) -> None:
        if token.invalid is None:
            spec = token.spec
            token.invalid = TokenProblem(spec.masked, spec.kind, code, message, spec.fingerprint)
            log.warning(
                "VK token %s (%s) is invalid: VK error %s: %s",
                spec.masked,
                spec.kind,
                code,
                message,
            )
            token.wakeup.set()
            self._fail_unservable()

    def _park(self, token: _Token, method: str) -> None:
        if self.ledger.available(token.spec.token, method):
            log.warning("VK token %s: daily quota of %s reached", token.spec.masked, method)
        self.ledger.park(token.spec.token, method)
        self._fail_unservable()


def _token_specs(tokens: str | Iterable[str] | Iterable[TokenSpec]) -> list[TokenSpec]:
    if isinstance(tokens, str):
        return parse_tokens(tokens)
    items = list(tokens)
    if all(isinstance(item, TokenSpec) for item in items):
        return list(items)  # type: ignore[arg-type]
    return parse_tokens(str(item) for item in items)


def _error_fields(error: dict[str, Any]) -> tuple[int, str]:
    try:
        code = int(error.get("error_code", 0))
    except (TypeError, ValueError):
        code = 0
    return code, str(error.get("error_msg", "неизвестная ошибка"))


def _resolve(call: _Call, value: Any) -> None:
    if not call.future.done():
        call.future.set_result(value)


def _fail(call: _Call, exc: BaseException) -> None:
    if not call.future.done():
        call.future.set_exception(exc)
