"""Collection in every worker process: lease a token, claim due sources in batches, repeat.

Every process that runs the scheduler service (`socstat worker`, and a web process unless
SOCSTAT_SCHEDULER=off) runs one CollectionWorker, leader or not. On PostgreSQL it leases
ONE configured token nobody else holds (an advisory lock: `tokens.TokenLeases`), so N
workers collect with N tokens at once and a worker beyond the tokens finds none free and
waits; holding its token, it claims the oldest due sources in batches (`FOR UPDATE SKIP
LOCKED` with a lease: `due.claim_due_batch`), one CollectionRun per batch, until nothing
is claimable. A worker that dies (kill -9) loses its token with its connection, and its
claims expire after SOCSTAT_COLLECT_LEASE_SECONDS; the others then finish those sources.
SQLite collects in one process at a time (the collection process lock) with every token.

Batches are each worker's share of what is claimable now (guided self-scheduling: the
batches shrink towards the end), never more than SOCSTAT_COLLECT_BATCH_SIZE and never less
than MIN_BATCH, so workers finish together. The workers sharing the sources are counted
as the runs collecting right now plus this one (at least the tokens this process may
lease): a worker configured with one token of its own still leaves the others their share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from typing import Any

from socstat.db import get_engine, run_in_session
from socstat.services.collection import due, journal, tokens
from socstat.services.collection.coordinator import CollectionBusy, CollectionCoordinator
from socstat.settings import Settings, get_settings

log = logging.getLogger(__name__)

MIN_BATCH = 25  # fewer communities leave the collector's execute requests half empty


def batch_size(claimable: int, workers: int, largest: int) -> int:
    """The next batch: one worker's share of what is claimable now, bounded."""
    share = math.ceil(claimable / max(1, workers))
    return max(1, min(largest, max(MIN_BATCH, share)))


TOKEN_TAKEOVER_PAUSE_SECONDS = 1.0


class CollectionWorker:
    """One process's share of collection (see the module docstring)."""

    def __init__(self, settings: Settings | None = None, **collector_options: Any) -> None:
        self.settings = settings or get_settings()
        self.collector_options = collector_options

    async def run(self, stop: asyncio.Event) -> None:
        """Collect whatever is due, then look again every SOCSTAT_COLLECT_POLL_SECONDS,
        until `stop` is set (cancelling interrupts the current batch cleanly)."""
        while not stop.is_set():
            try:
                handled = await self.collect_available(stop)
            except Exception:
                log.exception("collection worker: pass failed")
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.collect_poll_seconds):
                        await stop.wait()

    async def collect_available(self, stop: asyncio.Event | None = None) -> int:
        """Lease a token and collect batches until nothing is claimable. Returns how many
        sources this process handled (0: nothing claimable, or no token free)."""
        if not await run_in_session(lambda s: due.claimable_count(s)):
            # idle: still close the journal of a run whose process died after its sources
            # were taken over (no batch starts here to notice it)
            await run_in_session(journal.mark_interrupted_runs)
            return 0
        pool = await asyncio.to_thread(tokens.collection_tokens, None, self.settings)
        if not pool:
            log.warning("collection worker: no VK tokens configured")
            return 0
        if get_engine().dialect.name == "postgresql":
            choices, workers = [[token] for token in random.sample(pool, len(pool))], len(pool)
        else:
            choices, workers = [pool], 1
        for chosen in choices:
            collector = await asyncio.to_thread(
                lambda chosen=chosen: tokens.make_collector(
                    settings=self.settings, tokens=chosen, **self.collector_options
                )
            )
            coordinator = CollectionCoordinator(collector, settings=self.settings)
            try:
                async with coordinator.exclusive():
                    if workers > 1:
                        # A worker killed a moment ago may have used this token within the
                        # platform's per-second window: let that window pass first.
                        await asyncio.sleep(TOKEN_TAKEOVER_PAUSE_SECONDS)
                    return await self._batches(coordinator, workers, stop)
            except CollectionBusy:
                continue  # another worker holds this token
            finally:
                await collector.aclose()
        return 0

    async def _batches(
        self, coordinator: CollectionCoordinator, workers: int, stop: asyncio.Event | None
    ) -> int:
        handled = 0
        while stop is None or not stop.is_set():
            claimable, others = await run_in_session(
                lambda s: (due.claimable_count(s), journal.live_runs(s))
            )
            if not claimable:
                break
            sharing = max(workers, others + 1)
            size = batch_size(claimable, sharing, self.settings.collect_batch_size)
            summary = await coordinator.collect_next_batch(size=size)
            if summary is None:
                break
            handled += summary.sources_ok + summary.sources_partial + summary.sources_failed
            if coordinator.collector.invalid_tokens:
                break  # the platform refused this token: the next pass takes another
        return handled
