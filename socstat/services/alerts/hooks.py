"""Evaluation after every collection run: the collection coordinator's post-run hook.

Hooks live in the process that collects, so every process that can collect installs it
(the web app and ``socstat worker`` through the scheduler's lifespan, ``socstat collect``).
"""

from __future__ import annotations

from socstat.db import run_in_session
from socstat.models import utcnow
from socstat.services.collection import RunSummary, register_post_run_hook

from .evaluate import evaluate_after_collection


async def after_collection(summary: RunSummary) -> None:
    """Evaluate every enabled rule for the sources the run stored."""
    source_ids = summary.source_ids
    if not source_ids:
        return
    now = utcnow()
    await run_in_session(
        lambda session: evaluate_after_collection(session, source_ids=source_ids, now=now)
    )


def install() -> None:
    """Register :func:`after_collection` (idempotent)."""
    register_post_run_hook(after_collection)
