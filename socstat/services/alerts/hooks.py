"""Evaluation after every collection run: the collection coordinator's post-run hook.

Hooks live in the process that collects, so every process that can collect installs it
(the web app and ``socstat worker`` through the scheduler's lifespan, ``socstat collect``).
Installing is cheap: the evaluator (analytics, delivery channels, templates) is imported
only when a run finds something to evaluate — an enabled rule or a held digest.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from socstat.db import run_in_session
from socstat.models import AlertFiring, AlertRule, utcnow
from socstat.services.collection import RunSummary, register_post_run_hook


async def after_collection(summary: RunSummary) -> None:
    """Evaluate every enabled rule for the sources the run stored."""
    source_ids = summary.source_ids
    if not source_ids:
        return
    now = utcnow()
    await run_in_session(lambda session: _evaluate(session, source_ids=source_ids, now=now))


def _evaluate(session: Session, *, source_ids: list[int], now: datetime) -> None:
    if not has_alert_work(session):
        return  # evaluate_after_collection would find no rule and no held firing
    from .evaluate import evaluate_after_collection

    evaluate_after_collection(session, source_ids=source_ids, now=now)


def has_alert_work(session: Session) -> bool:
    """Whether evaluation after a run can do anything: an enabled rule to check, or
    firings held back by quiet hours (a digest may be due)."""
    rule = session.exec(select(AlertRule.id).where(AlertRule.enabled == True).limit(1))  # noqa: E712
    if rule.first() is not None:
        return True
    held = session.exec(select(AlertFiring.id).where(AlertFiring.pending != "").limit(1))
    return held.first() is not None


def install() -> None:
    """Register :func:`after_collection` (idempotent)."""
    register_post_run_hook(after_collection)
