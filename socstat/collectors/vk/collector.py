"""VKCollector: the Collector protocol for VKontakte communities.

Throughput design: ``collect`` runs up to ``max_open`` communities at once. Every API call
of community number *i* (in request order) is queued with priority *i*, so the client's
batcher always fills an ``execute`` with the oldest work first: continuation pages of
communities already in progress go before first pages of new ones. That keeps the number
of half-done communities small while every request still carries 25 calls. For each
community ``groups.getById`` and the first ``wall.get`` page go out together; after the
first page, the posting rate seen so far estimates how many more pages reach ``since``,
and all of them are requested at once (one more round only if the estimate fell short).
The page after each round is prefetched: it goes out only in a free place of a request
that leaves anyway (the last ones of a run), so a short estimate there costs no extra
request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from socstat.collectors.base import (
    DEMO_TOKEN,
    CollectorError,
    CollectRequest,
    CommunityInfo,
    ContentRecord,
    LinkError,
    SourceResult,
    TokenProblem,
    UsageStats,
)
from socstat.collectors.vk.client import NoTokenError, VKApiError, VKClient
from socstat.collectors.vk.limits import DEFAULT_QUOTAS, moscow_today
from socstat.collectors.vk.links import parse_link
from socstat.collectors.vk.mapping import (
    GROUP_FIELDS,
    as_int,
    community_info,
    group_status,
    groups_of,
    media_records,
    post_record,
)
from socstat.settings import Settings, get_settings

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_PAGES_PER_ROUND = 20
BY_ID_CHUNK = 100  # posts per wall.getById call
RESOLVE_PRIORITY = -1
COMMUNITY_TYPES = ("group", "page", "event")
NOT_FOUND_CODES = frozenset({100, 113, 125})
ACCESS_CODES = frozenset({15, 18, 30, 203})


class VKCollector:
    """Collects VK communities through a :class:`VKClient` (one per token pool)."""

    platform = "vk"
    # Calls per token and Moscow day that VK allows (methods not named: no daily limit).
    daily_quotas: ClassVar[dict[str, int]] = DEFAULT_QUOTAS

    @staticmethod
    def quota_day(now: datetime | None = None) -> date:
        """The day VK's daily quotas count in (they reset at Moscow midnight)."""
        return moscow_today(now)

    def __init__(
        self,
        *,
        base_url: str | None = None,
        tokens: str | list[str] | None = None,
        timeout: float | None = None,
        api_version: str | None = None,
        settings: Settings | None = None,
        batch: bool = True,
        max_open: int = 2000,
        client: VKClient | None = None,
        **client_options: Any,
    ) -> None:
        if client is None:
            client = _client_from(
                settings, base_url, tokens, timeout, api_version, batch, client_options
            )
        self.client = client
        self.usage: UsageStats = client.usage
        self.max_open = max(1, max_open)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **options: Any) -> VKCollector:
        return cls(settings=settings or get_settings(), **options)

    @property
    def token_fingerprints(self) -> list[str]:
        return [spec.fingerprint for spec in self.client.tokens]

    @property
    def invalid_tokens(self) -> list[TokenProblem]:
        return self.client.invalid_tokens

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> VKCollector:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ resolve
    async def resolve(self, link: str) -> CommunityInfo:
        parsed = parse_link(link)
        gid = parsed.group_id
        if gid is None:
            gid = await self._resolve_name(link, parsed.screen_name or "")
        group_call = self._call("groups.getById", {"group_id": gid, "fields": GROUP_FIELDS})
        wall_call = self._call("wall.get", {"owner_id": -gid, "count": 1}, RESOLVE_PRIORITY)
        group_result, wall_result = await asyncio.gather(
            group_call, wall_call, return_exceptions=True
        )
        group = _single_group(link, group_result)
        if isinstance(wall_result, VKApiError):
            status = wall_error_status(wall_result, group)
            return community_info(group, status=status)
        posts = as_int(wall_result.get("count")) if isinstance(wall_result, dict) else None
        return community_info(group, posts=posts)

    async def _resolve_name(self, link: str, name: str) -> int:
        try:
            found = await self._call("utils.resolveScreenName", {"screen_name": name})
        except VKApiError as exc:
            raise CollectorError(f"Не удалось проверить ссылку «{link.strip()}»: {exc}") from exc
        if not isinstance(found, dict) or not found:
            raise LinkError(f"Сообщество «{link.strip()}» не найдено ВКонтакте")
        kind = found.get("type")
        if kind == "user":
            raise LinkError(f"«{link.strip()}»: это профиль пользователя, а не сообщество")
        gid = as_int(found.get("object_id"))
        if kind not in COMMUNITY_TYPES or not gid:
            raise LinkError(f"«{link.strip()}» — не сообщество ВКонтакте (тип: {kind})")
        return gid

    async def _call(
        self, method: str, params: dict[str, Any], priority: int = RESOLVE_PRIORITY
    ) -> Any:
        return await self.client.call(method, params, priority=priority)

    # ------------------------------------------------------------------ collect
    async def collect(self, requests: list[CollectRequest]) -> AsyncIterator[SourceResult]:
        """Yield one SourceResult per request as soon as it is complete (any order).

        Raises NoTokenError (a CollectorError) when every token turned out invalid.
        """
        results: asyncio.Queue[SourceResult | BaseException] = asyncio.Queue()
        jobs = iter(list(enumerate(requests)))
        workers = [
            asyncio.create_task(self._worker(jobs, results))
            for _ in range(min(self.max_open, len(requests)))
        ]
        try:
            for _ in range(len(requests)):
                item = await results.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for worker in workers:
                worker.cancel()
            for worker in workers:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    async def _worker(
        self,
        jobs: Iterable[tuple[int, CollectRequest]],
        results: asyncio.Queue[SourceResult | BaseException],
    ) -> None:
        for index, request in jobs:
            try:
                result = await self.collect_one(request, priority=index)
            except NoTokenError as exc:
                if exc.all_invalid:
                    await results.put(exc)
                    return
                result = SourceResult(
                    request.external_id, complete=False, error_code=29, error=str(exc)
                )
            except Exception as exc:  # a bug must not sink the whole run
                log.exception("collecting VK community %s failed", request.external_id)
                result = SourceResult(
                    request.external_id, complete=False, error=f"внутренняя ошибка: {exc!r}"
                )
            await results.put(result)

    async def collect_one(self, request: CollectRequest, priority: int = 0) -> SourceResult:
        """Collect one community (the building block of :meth:`collect`)."""
        try:
            gid = _group_id(request.external_id)
        except LinkError as exc:
            return _failed(request, None, exc)
        wall = _WallReader(self.client, gid, request.since.timestamp(), priority)
        group_task = asyncio.ensure_future(
            self.client.call(
                "groups.getById", {"group_id": gid, "fields": GROUP_FIELDS}, priority=priority
            )
        )
        first_page = asyncio.ensure_future(wall.fetch(0))
        wall.prefetch(PAGE_SIZE)
        try:
            return await self._read_wall(request, wall, group_task, first_page)
        finally:
            wall.forget_prefetched()
            # a failure (no usable token, say) leaves the other requests of this source
            # running: stop them and take their outcome, so that none is left unretrieved
            await _settled(group_task, first_page)

    async def _read_wall(
        self,
        request: CollectRequest,
        wall: _WallReader,
        group_task: asyncio.Future[Any],
        first_page: asyncio.Future[Any],
    ) -> SourceResult:
        try:
            group = _single_group(request.external_id, await group_task)
        except (VKApiError, LinkError) as exc:
            return _failed(request, None, exc)
        try:
            await wall.read(first_page)
        except NoTokenError as exc:
            if exc.all_invalid:
                raise
            info = community_info(group, posts=wall.total)
            return _failed(request, info, exc, wall.records())
        except VKApiError as exc:
            status = wall_error_status(exc, group)
            if status is not None and not wall.posts:
                return SourceResult(request.external_id, info=community_info(group, status=status))
            info = community_info(group, posts=wall.total)
            return _failed(request, info, exc, wall.records())
        deleted = await wall.confirm_deleted(request.known_posts)
        return SourceResult(
            request.external_id,
            info=community_info(group, posts=wall.total),
            items=wall.records(),
            deleted_posts=deleted,
        )


@dataclass
class _WallReader:
    """Pages of one community's wall, newest first, down to ``since``."""

    client: VKClient
    gid: int
    since: float
    priority: int
    posts: dict[int, dict[str, Any]] = field(default_factory=dict)
    total: int | None = None
    reached: bool = False
    next_offset: int = 0
    _dates: list[int] = field(default_factory=list)  # dates of non-pinned posts, page order
    _ahead: dict[int, asyncio.Future[Any]] = field(default_factory=dict)  # prefetched pages

    def _params(self, offset: int) -> dict[str, Any]:
        return {"owner_id": -self.gid, "count": PAGE_SIZE, "offset": offset}

    async def fetch(self, offset: int) -> Any:
        ahead = self._ahead.pop(offset, None)
        if ahead is not None:
            return await self.client.claim(ahead)
        return await self.client.call("wall.get", self._params(offset), priority=self.priority)

    def prefetch(self, offset: int) -> None:
        """The page at ``offset`` in a free place of a leaving request, if the wall has it."""
        if offset in self._ahead or (self.total is not None and offset >= self.total):
            return
        future = self.client.prefetch("wall.get", self._params(offset), priority=self.priority)
        self._ahead[offset] = future

    def forget_prefetched(self) -> None:
        for future in self._ahead.values():
            if not future.cancel() and not future.cancelled():
                future.exception()  # finished: its failure is not worth reporting
        self._ahead.clear()

    async def read(self, first_page: asyncio.Future[Any]) -> None:
        self._absorb(0, await first_page)
        while not self._done():
            offsets = self._next_offsets()
            self.prefetch(offsets[-1] + PAGE_SIZE)
            pages = await asyncio.gather(
                *(self.fetch(offset) for offset in offsets), return_exceptions=True
            )
            for offset, page in zip(offsets, pages, strict=True):
                if isinstance(page, BaseException):
                    raise page
                self._absorb(offset, page)

    def _done(self) -> bool:
        return self.reached or self.total is None or self.next_offset >= self.total

    def _absorb(self, offset: int, page: Any) -> None:
        if not isinstance(page, dict):
            raise VKApiError(None, "неожиданный ответ wall.get", "wall.get", transient=True)
        count = as_int(page.get("count"))
        self.total = count if self.total is None or count is None else max(self.total, count)
        items = [item for item in page.get("items") or [] if isinstance(item, dict)]
        for item in items:
            post_id, date = as_int(item.get("id")), as_int(item.get("date")) or 0
            if post_id is None:
                continue
            self.posts.setdefault(post_id, item)
            if item.get("is_pinned"):
                continue
            self._dates.append(date)
            if date < self.since:
                self.reached = True
        self.next_offset = max(self.next_offset, offset + PAGE_SIZE)
        if not items:
            self.reached = True

    def _next_offsets(self) -> list[int]:
        """Pages that should reach ``since``, judged by the posting rate seen so far."""
        total = self.total or 0
        pages = 1
        dates = self._dates
        if len(dates) >= 2 and dates[0] > dates[-1]:
            per_item = (dates[0] - dates[-1]) / (len(dates) - 1)
            missing = max(0.0, dates[-1] - self.since) / per_item
            pages = max(1, math.ceil(missing / PAGE_SIZE))
        offsets = []
        offset = self.next_offset
        while offset < total and len(offsets) < min(pages, MAX_PAGES_PER_ROUND):
            offsets.append(offset)
            offset += PAGE_SIZE
        return offsets or [self.next_offset]

    async def confirm_deleted(self, known_posts: Iterable[str]) -> list[str]:
        """Known posts the wall pages did not show, asked by id: those VK no longer returns
        are deleted. A post the pages skipped (the wall shifted while paging) is kept.
        On any error nothing is reported deleted: a missing answer proves nothing."""
        missing = sorted({int(p) for p in known_posts if p.isdigit()} - set(self.posts))
        found: set[int] = set()
        for start in range(0, len(missing), BY_ID_CHUNK):
            ids = ",".join(f"-{self.gid}_{pid}" for pid in missing[start : start + BY_ID_CHUNK])
            try:
                answer = await self.client.call(
                    "wall.getById", {"posts": ids}, priority=self.priority
                )
            except NoTokenError as exc:
                if exc.all_invalid:
                    raise
                return []
            except VKApiError as exc:
                log.info("wall.getById failed for club%s: %s", self.gid, exc)
                return []
            for item in _by_id_items(answer):
                post_id = as_int(item.get("id"))
                if post_id is not None and as_int(item.get("owner_id")) in (None, -self.gid):
                    found.add(post_id)
                    self.posts.setdefault(post_id, item)
        return [str(pid) for pid in missing if pid not in found]

    def records(self) -> list[ContentRecord]:
        records: list[ContentRecord] = []
        media: dict[tuple[str, str], ContentRecord] = {}
        for item in sorted(
            self.posts.values(), key=lambda i: as_int(i.get("date")) or 0, reverse=True
        ):
            if (as_int(item.get("date")) or 0) < self.since:
                continue
            records.append(post_record(item))
            for record in media_records(item, -self.gid):
                if record.published_at.timestamp() >= self.since:
                    media.setdefault((record.kind, record.external_id), record)
        return records + list(media.values())


# ---------------------------------------------------------------------- helpers
def _by_id_items(answer: Any) -> list[dict[str, Any]]:
    """wall.getById answers ``{"items": [...]}`` (5.199) or, in older versions, a list."""
    items = answer.get("items") if isinstance(answer, dict) else answer
    return [item for item in items or [] if isinstance(item, dict)]


def _client_from(
    settings: Settings | None,
    base_url: str | None,
    tokens: str | list[str] | None,
    timeout: float | None,
    api_version: str | None,
    batch: bool,
    options: dict[str, Any],
) -> VKClient:
    if settings is None and (base_url is None or tokens is None):
        settings = get_settings()
    if tokens is None and settings is not None:
        tokens = settings.vk_tokens or (DEMO_TOKEN if settings.demo_mode else "")
    return VKClient(
        base_url or (settings.effective_vk_api_url if settings else ""),
        tokens or "",
        api_version=api_version or (settings.vk_api_version if settings else "5.199"),
        timeout=timeout or (settings.vk_timeout_seconds if settings else 10.0),
        batch=batch,
        **options,
    )


def _group_id(external_id: str) -> int:
    text = str(external_id).strip()
    number = as_int(text.lstrip("-")) if text.lstrip("-").isdigit() else None
    if number:
        return number
    parsed = parse_link(text)
    if parsed.group_id is None:
        raise LinkError(f"«{text}» — не числовой id сообщества")
    return parsed.group_id


def _single_group(link: str, response: Any) -> dict[str, Any]:
    if isinstance(response, VKApiError):
        if response.code in NOT_FOUND_CODES:
            raise LinkError(f"Сообщество «{str(link).strip()}» не найдено ВКонтакте")
        raise CollectorError(f"VK не ответил о сообществе «{str(link).strip()}»: {response}")
    if isinstance(response, BaseException):
        raise response
    groups = groups_of(response)
    if not groups or not as_int(groups[0].get("id")):
        raise LinkError(f"Сообщество «{str(link).strip()}» не найдено ВКонтакте")
    return groups[0]


def wall_error_status(error: VKApiError, group: dict[str, Any]) -> str | None:
    """The community status a wall access error means (None: not a status error)."""
    if error.code not in ACCESS_CODES:
        return None
    status = group_status(group)
    if status in ("deleted", "banned"):
        return status
    message = error.message.lower()
    if "wall is disabled" in message:
        return "wall_disabled"
    if "blocked" in message:
        return "banned"
    if error.code == 18 or "deactivated" in message or "deleted" in message:
        return "deleted"
    return "private" if status == "private" else "closed"


def _failed(
    request: CollectRequest,
    info: CommunityInfo | None,
    exc: Exception,
    items: list[ContentRecord] | None = None,
) -> SourceResult:
    code = exc.code if isinstance(exc, VKApiError) else None
    if isinstance(exc, LinkError):
        code = 100
    elif isinstance(exc, NoTokenError):
        code = 29
    return SourceResult(
        request.external_id,
        info=info,
        items=items or [],
        complete=False,
        error_code=code,
        error=str(exc),
    )


async def _settled(*futures: asyncio.Future[Any]) -> None:
    """Cancel what is still running and wait for every outcome (a failure is dropped)."""
    for future in futures:
        future.cancel()
    await asyncio.gather(*futures, return_exceptions=True)
