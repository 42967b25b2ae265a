"""What a rule would have fired on over the last 30 days (shown in the form before saving)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from socstat.models import User
from socstat.services.analytics.alert_figures import recent_publications
from socstat.services.authz import require_active
from socstat.settings import get_settings

from .conditions import baseline_outcome, threshold_outcome
from .rules import validate_rule
from .scope import rule_source_ids, source_names
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


def preview_rule(session: Session, *, actor: User | None, now: datetime, **fields: Any) -> Preview:
    """Validate ``fields`` like saving would, then replay the rule over the last 30 days."""
    user = require_active(actor)
    rule = validate_rule(session, actor=user, **fields)
    ids = rule_source_ids(session, rule, user)
    names = source_names(session, ids)
    today = local_day(now, get_settings().tz)
    first = today - timedelta(days=PREVIEW_DAYS)
    hits: list[PreviewHit] = []
    checked = skipped = 0
    reasons: list[str] = []
    for source_id in ids:
        source = names.get(source_id)
        name = (source.name or source.screen_name) if source is not None else str(source_id)
        if rule.rule_type == "baseline":
            cases = [
                (
                    p.published_at.astimezone(get_settings().tz).strftime("%d.%m.%Y %H:%M"),
                    baseline_outcome(session, rule, p),
                )
                for p in recent_publications(
                    session,
                    source_id=source_id,
                    kind=rule.kind or "post",
                    metric=rule.metric,
                    since=first,
                )
            ]
        else:
            cases = [
                (w.label(), threshold_outcome(session, rule, source_id, w))
                for w in closed_windows_between(rule.window, first, today)
            ]
        for label, outcome in cases:
            checked += 1
            if outcome.holds is None:
                skipped += 1
                if outcome.reason not in reasons:
                    reasons.append(outcome.reason)
            elif outcome.holds:
                hits.append(PreviewHit(source_id, name, label, outcome.value, outcome.reference))
    return Preview(hits=hits, checked=checked, skipped=skipped, reasons=reasons[:5])
