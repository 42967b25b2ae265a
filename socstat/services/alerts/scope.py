"""Which sources a rule watches, resolved against its owner's current access."""

from __future__ import annotations

from sqlmodel import Session, select

from socstat.models import AlertRule, Source, Subscription, User
from socstat.services.sources import visible_source_ids


def rule_source_ids(session: Session, rule: AlertRule, owner: User) -> list[int]:
    """The sources in the rule's scope the owner may read now, in id order."""
    if rule.scope == "team":
        visible = visible_source_ids(session, actor=owner)
        if visible is None:
            tracked = select(Subscription.source_id).distinct()
            return sorted(set(session.exec(tracked).all()))
        return sorted(visible)
    subscriptions = session.exec(select(Subscription).where(Subscription.user_id == owner.id)).all()
    if rule.scope == "source":
        visible = visible_source_ids(session, actor=owner)
        allowed = visible is None or rule.source_id in visible
        return [rule.source_id] if rule.source_id is not None and allowed else []
    if rule.scope == "tag":
        return sorted(
            s.source_id for s in subscriptions if rule.tag in {t.strip() for t in s.tags.split(",")}
        )
    return sorted(s.source_id for s in subscriptions)


def source_names(session: Session, source_ids: list[int]) -> dict[int, Source]:
    if not source_ids:
        return {}
    rows = session.exec(select(Source).where(Source.id.in_(source_ids))).all()  # type: ignore[union-attr]
    return {s.id: s for s in rows if s.id is not None}
