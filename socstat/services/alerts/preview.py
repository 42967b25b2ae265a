"""What a rule would have fired on over the last 30 days (shown in the form before saving)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from socstat.models import AlertRule, User
from socstat.services.analytics import ResolvedScope
from socstat.services.analytics.alerting import recent_publications, window_figures
from socstat.services.authz import require_active
from socstat.settings import get_settings

from .conditions import Outcome, baseline_outcome, threshold_outcome
from .evaluate import PERIODS
from .rules import validate_rule
from .scope import rule_scope
from .windows import closed_windows_between, local_day

PREVIEW_DAYS = 30


@dataclass(frozen=True)
class PreviewHit:
    source_id: int
    source_name: str
    label: str
    value: float | None
    reference: float | None


@dataclass(frozen=True)
class Preview:
    hits: list[PreviewHit]
    checked: int
    skipped: int
    reasons: list[str] = field(default_factory=list)


def _threshold_cases(
    session: Session, rule: AlertRule, resolved: ResolvedScope, now: datetime
) -> list[tuple[int, str, str, Outcome]]:
    today = local_day(now, get_settings().tz)
    cases = []
    for window in closed_windows_between(rule.window, today - timedelta(days=PREVIEW_DAYS), today):
        for figures in window_figures(
            session,
            resolved,
            metric=rule.metric,
            period=PERIODS[rule.window](window.start),
            through=today,
        ):
            source = figures.source
            cases.append((source.id, source.name, window.label(), threshold_outcome(rule, figures)))
    return cases


def _baseline_cases(
    session: Session, rule: AlertRule, resolved: ResolvedScope, now: datetime
) -> list[tuple[int, str, str, Outcome]]:
    tz = get_settings().tz
    since = local_day(now, tz) - timedelta(days=PREVIEW_DAYS)
    return [
        (
            source.id,
            source.name,
            p.published_at.astimezone(tz).strftime("%d.%m.%Y %H:%M"),
            baseline_outcome(session, rule, p),
        )
        for source in resolved.sources
        for p in recent_publications(
            session, source_id=source.id, kind=rule.kind or "post", metric=rule.metric, since=since
        )
    ]


def preview_rule(session: Session, *, actor: User | None, now: datetime, **fields: Any) -> Preview:
    """Validate ``fields`` like saving would, then replay the rule over the last 30 days."""
    user = require_active(actor)
    rule = validate_rule(session, actor=user, **fields)
    resolved = rule_scope(session, rule, user)
    cases = (
        _baseline_cases(session, rule, resolved, now)
        if rule.rule_type == "baseline"
        else _threshold_cases(session, rule, resolved, now)
    )
    hits: list[PreviewHit] = []
    reasons: list[str] = []
    skipped = 0
    for source_id, name, label, outcome in cases:
        if outcome.holds is None:
            skipped += 1
            if outcome.reason not in reasons:
                reasons.append(outcome.reason)
        elif outcome.holds:
            hits.append(PreviewHit(source_id, name, label, outcome.value, outcome.reference))
    return Preview(hits=hits, checked=len(cases), skipped=skipped, reasons=reasons[:5])
