"""Collection: which sources are due, claiming them, running the collector, storing results.

Modules: `due` (due-source selection and claims), `coordinator` (one run from claim to
journal, post-run hooks), `journal` (CollectionRun rows, heartbeats, dead runs),
`persistence` (upserts and the DailyStat rebuild), `tokens` (configured tokens, leases,
refused tokens), `worker` (each worker process's collection: a leased token, due sources
claimed in batches). Services import collectors only through `socstat.collectors.registry`.
"""

from socstat.services.collection.coordinator import (
    CollectionBusy,
    CollectionCoordinator,
    PostRunHook,
    collect_due_sources,
    collect_sources,
    register_post_run_hook,
    unregister_post_run_hook,
)
from socstat.services.collection.due import (
    collect_interval,
    due_source_ids,
    tracked_source_ids,
)
from socstat.services.collection.journal import RunSummary, Trigger, mark_interrupted_runs
from socstat.services.collection.persistence import (
    ItemCounts,
    Persisted,
    build_requests,
    local_date,
    local_midnight,
    persist_result,
    recompute_daily_stats,
)
from socstat.services.collection.tokens import configured_tokens, make_collector

__all__ = [
    "CollectionBusy",
    "CollectionCoordinator",
    "ItemCounts",
    "Persisted",
    "PostRunHook",
    "RunSummary",
    "Trigger",
    "build_requests",
    "collect_due_sources",
    "collect_interval",
    "collect_sources",
    "configured_tokens",
    "due_source_ids",
    "local_date",
    "local_midnight",
    "make_collector",
    "mark_interrupted_runs",
    "persist_result",
    "recompute_daily_stats",
    "register_post_run_hook",
    "tracked_source_ids",
    "unregister_post_run_hook",
]
