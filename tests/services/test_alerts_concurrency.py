"""Two evaluators at once over the same rules (threads, each with its own database
session, released together): exactly the firings one evaluator alone produces — one per
rule, window and source, one per publication for baseline rules — and one message each.
Sandbox data collected over HTTP, a fixed clock."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from socstat.models import AlertFiring, FiringState, Notification, Outbox
from socstat.services import alerts
from tests.services import test_alerts_evaluation
from tests.services.conftest import SANDBOX_NOW

world = test_alerts_evaluation.world  # the fixture: sandbox sources tracked and collected

Evaluator = Callable[[Session], alerts.EvaluationResult]


def _rules(session: Session, user) -> list[alerts.RuleView]:
    common = {"name": "", "channels": ["inapp", "email"], "scope": "mine"}
    rules = [
        alerts.create_alert_rule(session, actor=user, metric="posts", threshold=1, **common),
        alerts.create_alert_rule(
            session, actor=user, metric="views", window="week", threshold=1, **common
        ),
        alerts.create_alert_rule(
            session,
            actor=user,
            rule_type="baseline",
            metric="views",
            kind="post",
            threshold=1.2,
            **common,
        ),
    ]
    session.commit()
    return rules


def _together(engine: Engine, evaluators: list[Evaluator]) -> list[alerts.EvaluationResult]:
    barrier = threading.Barrier(len(evaluators))

    def run(evaluate: Evaluator) -> alerts.EvaluationResult:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            result = evaluate(session)
            session.commit()
            return result

    with ThreadPoolExecutor(max_workers=len(evaluators)) as pool:
        return list(pool.map(run, evaluators))


def _snapshot(session: Session) -> tuple[Counter, Counter, Counter]:
    """Firings by (rule, key); notifications and messages by the firing they announce
    (their dedup keys hold the firing's id, which differs from run to run)."""
    session.expire_all()
    rows = [f for f in session.exec(select(AlertFiring)).all() if f.state != FiringState.SKIPPED]
    firings = Counter((f.rule_id, f.key, f.state, f.value) for f in rows)
    ident = {str(f.id): (f.rule_id, f.key) for f in rows}

    def announced(dedup_key: str | None) -> tuple:
        kind, firing_id, *rest = (dedup_key or "").split(":")
        return (kind, ident.get(firing_id, firing_id), *rest)

    notes = Counter(announced(n.dedup_key) for n in session.exec(select(Notification)).all())
    messages = Counter(announced(m.dedup_key) for m in session.exec(select(Outbox)).all())
    return firings, notes, messages


def _forget_evaluations(session: Session) -> None:
    for model in (Notification, Outbox, AlertFiring):
        session.exec(delete(model))
    session.commit()


def _due(session: Session) -> alerts.EvaluationResult:
    return alerts.evaluate_due(session, now=SANDBOX_NOW)


async def test_two_evaluators_at_once_fire_once_per_window_and_publication(
    db, session, world
) -> None:
    user, sources = world
    rules = _rules(session, user)
    ids = [s.id for s in sources.values()]

    def after_collection(s: Session) -> alerts.EvaluationResult:
        return alerts.evaluate_after_collection(s, source_ids=ids, now=SANDBOX_NOW)

    alone = _together(db, [_due])  # the reference: one evaluator by itself
    reference = _snapshot(session)
    firings, notes, messages = reference
    fired_rules = {rule_id for rule_id, *_ in firings}
    assert fired_rules == {r.id for r in rules}, "every rule must fire for the test to mean much"
    baseline_keys = [key for rule_id, key, *_ in firings if rule_id == rules[2].id]
    assert baseline_keys and all(key.startswith("pub:") for key in baseline_keys)
    assert max(firings.values()) == 1
    assert len(notes) == len(messages) == sum(firings.values())  # in-app and email, once each
    assert len(alone[0].fired) == sum(firings.values())

    for pair in ([_due, _due], [after_collection, _due], [after_collection, after_collection]):
        _forget_evaluations(session)
        results = _together(db, pair)
        assert _snapshot(session) == reference, [p.__name__ for p in pair]
        assert sum(len(r.fired) for r in results) == sum(firings.values())
        # and once more from both: a restart or a late process adds nothing
        assert not any(r.fired for r in _together(db, pair))
        assert _snapshot(session) == reference
