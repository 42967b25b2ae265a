"""Whether a rule's condition holds for one source's window figures, or one publication.

Shared by evaluation and the 30-day preview. ``holds`` None ⇒ the figures are unknown
and ``reason`` says why: such a window never fires as if its figure were 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from socstat.models import AlertRule
from socstat.services.analytics.alerting import (
    COUNT_METRICS,
    SUM_METRICS,
    Publication,
    WindowFigures,
    baseline_median,
)

MIN_BASELINE_SAMPLE = 5
# sums only grow while a window is open: "≥" on them may fire before the window closes
OPEN_WINDOW_METRICS = (*COUNT_METRICS, *SUM_METRICS)


@dataclass(frozen=True)
class Outcome:
    holds: bool | None
    value: float | None
    reference: float | None = None
    reason: str = ""


def evaluable_open(rule: AlertRule) -> bool:
    return rule.comparison == "ge" and rule.metric in OPEN_WINDOW_METRICS


def threshold_outcome(rule: AlertRule, figures: WindowFigures) -> Outcome:
    current = figures.current
    if current.value is None:
        return Outcome(None, None, reason=current.unknown)
    value = current.value
    if rule.comparison == "ge":
        return Outcome(value >= rule.threshold, value, rule.threshold)
    if rule.comparison == "le":
        return Outcome(value <= rule.threshold, value, rule.threshold)
    previous = figures.previous
    if previous.value is None:
        return Outcome(None, value, reason=f"прошлый период: {previous.unknown}")
    if previous.value == 0:
        return Outcome(None, value, 0.0, reason="в прошлом периоде было 0 — процент не определён")
    change = 100.0 * (value - previous.value) / previous.value
    if rule.comparison == "rise_pct":
        return Outcome(change >= rule.threshold, value, previous.value)
    return Outcome(-change >= rule.threshold, value, previous.value)


def baseline_outcome(session: Session, rule: AlertRule, publication: Publication) -> Outcome:
    if publication.value is None:
        return Outcome(None, None, reason="VK не отдал этот показатель публикации")
    median, sample = baseline_median(
        session,
        source_id=publication.source_id,
        kind=publication.kind,
        metric=rule.metric,
        before=publication.published_at,
    )
    if median is None or sample < MIN_BASELINE_SAMPLE:
        return Outcome(None, publication.value, median, reason="мало прошлых публикаций")
    if median <= 0:
        return Outcome(None, publication.value, median, reason="медиана равна 0")
    return Outcome(publication.value >= rule.threshold * median, publication.value, median)
