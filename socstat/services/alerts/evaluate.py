"""Evaluating rules: after each collection run (for the sources it touched) and on a
schedule (windows that closed, held digests).

Each rule fires at most once per window and source (threshold) or per publication
(baseline): the firing row's unique (rule, key) is the guarantee, so restarts and
several processes never produce a second one. Rules are claimed with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL so two evaluators do not do the same work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from socstat.models import AlertFiring, AlertRule, FiringState, Source, User
from socstat.services.analytics import Period, ResolvedScope
from socstat.services.analytics.alerting import (
    WindowFigures,
    recent_publications,
    window_figures,
)
from socstat.settings import get_settings

from .conditions import Outcome, baseline_outcome, evaluable_open, threshold_outcome
from .notices import announce, send_digests
from .scope import narrowed, rule_scope
from .windows import Window, local_day, window_containing

PERIODS = {"day": Period.day, "week": Period.week, "month": Period.month}

BASELINE_LOOKBACK_DAYS = 7


@dataclass
class EvaluationResult:
    """Ids of the firings this pass created, resolved and skipped; digests queued."""

    fired: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    digests: int = 0


def _claim_rules(session: Session, rule_ids: Iterable[int] | None = None) -> list[AlertRule]:
    query = select(AlertRule).where(AlertRule.enabled == True).order_by(col(AlertRule.id))  # noqa: E712
    if rule_ids is not None:
        query = query.where(col(AlertRule.id).in_(list(rule_ids)))
    return list(session.exec(query.with_for_update(skip_locked=True)).all())


def _insert_once(session: Session, firing: AlertFiring) -> AlertFiring | None:
    """Insert unless (rule, key) exists; None when it does (also when another process
    inserted it concurrently)."""
    exists = session.exec(
        select(AlertFiring.id).where(
            AlertFiring.rule_id == firing.rule_id, AlertFiring.key == firing.key
        )
    ).first()
    if exists is not None:
        return None
    try:
        with session.begin_nested():
            session.add(firing)
            session.flush()
    except IntegrityError:
        return None
    return firing


def _collected_through(source: Source, window: Window, now: datetime, *, closed: bool) -> bool:
    """Whether the collected data cover the window (closed: a collection after it ended)."""
    if source.last_collected_at is None:
        return False
    if closed:
        return source.last_collected_at >= window.closes_at(get_settings().tz)
    return local_day(source.last_collected_at, get_settings().tz) >= window.start


def _window_firing(
    rule: AlertRule,
    source_id: int,
    window: Window,
    outcome: Outcome,
    now: datetime,
    *,
    skipped: bool,
) -> AlertFiring:
    return AlertFiring(
        rule_id=rule.id or 0,
        key=f"{'skip:' if skipped else ''}{window.key}:{source_id}",
        state=FiringState.SKIPPED if skipped else FiringState.FIRED,
        source_id=source_id,
        window_start=window.start,
        window_end=window.end,
        value=outcome.value,
        reference=outcome.reference,
        reason=f"Пропущено: {outcome.reason}"[:1000] if skipped else "",
        created_at=now,
    )


def _fire(
    session: Session,
    rule: AlertRule,
    firing: AlertFiring,
    now: datetime,
    result: EvaluationResult,
) -> None:
    """Insert a FIRED row once; when it is new, stamp the rule and announce it."""
    inserted = _insert_once(session, firing)
    if inserted is not None:
        rule.last_triggered_at = now
        session.add(rule)
        announce(session, rule, inserted, now)
        result.fired.append(inserted.id or 0)


def _record(
    session: Session,
    rule: AlertRule,
    source_id: int,
    window: Window,
    outcome: Outcome,
    now: datetime,
    result: EvaluationResult,
) -> None:
    if outcome.holds is None:
        entry = _insert_once(
            session, _window_firing(rule, source_id, window, outcome, now, skipped=True)
        )
        if entry is not None:
            result.skipped.append(entry.id or 0)
        return
    if outcome.holds:
        _fire(
            session,
            rule,
            _window_firing(rule, source_id, window, outcome, now, skipped=False),
            now,
            result,
        )


def _resolve(
    session: Session,
    rule: AlertRule,
    source_id: int,
    window: Window,
    now: datetime,
    result: EvaluationResult,
) -> None:
    """The condition no longer holds in a closed window after earlier firings: back to
    normal (a message only when the rule asks for one)."""
    open_firings = session.exec(
        select(AlertFiring).where(
            AlertFiring.rule_id == rule.id,
            AlertFiring.source_id == source_id,
            AlertFiring.state == FiringState.FIRED,
            col(AlertFiring.window_end) < window.start,
        )
    ).all()
    for firing in open_firings:
        firing.state = FiringState.RESOLVED
        firing.resolved_at = now
        session.add(firing)
        result.resolved.append(firing.id or 0)
    if open_firings and rule.notify_resolved:
        announce(session, rule, open_firings[-1], now)


def _figures(
    session: Session,
    rule: AlertRule,
    resolved: ResolvedScope,
    sources: dict[int, Source],
    window: Window,
    now: datetime,
    *,
    closed: bool,
) -> list[WindowFigures]:
    ready = [
        s.id
        for s in resolved.sources
        if _collected_through(sources[s.id], window, now, closed=closed)
    ]
    if not ready:
        return []
    return window_figures(
        session,
        narrowed(resolved, ready),
        metric=rule.metric,
        period=PERIODS[rule.window](window.start),
        through=local_day(now, get_settings().tz),
    )


def _evaluate_threshold(
    session: Session,
    rule: AlertRule,
    resolved: ResolvedScope,
    sources: dict[int, Source],
    now: datetime,
    result: EvaluationResult,
) -> None:
    current = window_containing(rule.window, local_day(now, get_settings().tz))
    closed = current.previous()
    for figures in _figures(session, rule, resolved, sources, closed, now, closed=True):
        outcome = threshold_outcome(rule, figures)
        _record(session, rule, figures.source.id, closed, outcome, now, result)
        if outcome.holds is False:
            _resolve(session, rule, figures.source.id, closed, now, result)
    if evaluable_open(rule):
        for figures in _figures(session, rule, resolved, sources, current, now, closed=False):
            outcome = threshold_outcome(rule, figures)
            if outcome.holds:
                _record(session, rule, figures.source.id, current, outcome, now, result)


def _evaluate_baseline(
    session: Session,
    rule: AlertRule,
    resolved: ResolvedScope,
    now: datetime,
    result: EvaluationResult,
) -> None:
    since = local_day(now, get_settings().tz) - timedelta(days=BASELINE_LOOKBACK_DAYS)
    for source in resolved.sources:
        for publication in recent_publications(
            session,
            source_id=source.id,
            kind=rule.kind or "post",
            metric=rule.metric,
            since=since,
        ):
            outcome = baseline_outcome(session, rule, publication)
            if not outcome.holds:
                continue
            firing = AlertFiring(
                rule_id=rule.id or 0,
                key=f"pub:{publication.id}",
                state=FiringState.FIRED,
                source_id=publication.source_id,
                content_item_id=publication.id,
                window_start=publication.local_date,
                window_end=publication.local_date,
                value=outcome.value,
                reference=outcome.reference,
                created_at=now,
            )
            _fire(session, rule, firing, now, result)


def evaluate_rule(
    session: Session,
    rule: AlertRule,
    *,
    now: datetime,
    only_sources: set[int] | None = None,
    result: EvaluationResult | None = None,
) -> EvaluationResult:
    """Evaluate one rule for its scope (narrowed to ``only_sources``)."""
    result = result or EvaluationResult()
    owner = session.get(User, rule.owner_id)
    if owner is None or owner.blocked_at is not None:
        return result
    resolved = rule_scope(session, rule, owner, only_sources)
    if not resolved.sources:
        return result
    if rule.rule_type == "baseline":
        _evaluate_baseline(session, rule, resolved, now, result)
        return result
    rows = session.exec(select(Source).where(col(Source.id).in_(resolved.source_ids))).all()
    sources = {s.id: s for s in rows if s.id is not None}
    _evaluate_threshold(session, rule, resolved, sources, now, result)
    return result


def evaluate_after_collection(
    session: Session, *, source_ids: Iterable[int], now: datetime
) -> EvaluationResult:
    """The collection coordinator's post-run hook: every enabled rule, for the sources the
    run touched. The caller commits."""
    touched = set(source_ids)
    result = EvaluationResult()
    if not touched:
        return result
    for rule in _claim_rules(session):
        evaluate_rule(session, rule, now=now, only_sources=touched, result=result)
    result.digests = send_digests(session, now=now)
    return result


def evaluate_due(session: Session, *, now: datetime) -> EvaluationResult:
    """The scheduled pass: every enabled rule over its whole scope (windows that closed
    since the last collection), then digests whose quiet hours ended. The caller commits."""
    result = EvaluationResult()
    for rule in _claim_rules(session):
        evaluate_rule(session, rule, now=now, result=result)
    result.digests = send_digests(session, now=now)
    return result
