"""Who may read and act on which sources and subscriptions (every sources call starts here).

Analysts manage their own subscriptions, directors read their team's sources, admins see
and manage everything (see `socstat.services.authz`).
"""

from __future__ import annotations

from sqlmodel import Session, select

from socstat.models import Subscription, User
from socstat.services.authz import PermissionDenied, is_admin, require_active, visible_user_ids


def visible_source_ids(session: Session, *, actor: User) -> set[int] | None:
    """Sources the actor may read; None means every source (admins)."""
    users = visible_user_ids(session, require_active(actor))
    if users is None:
        return None
    if not users:
        return set()
    rows = session.exec(
        select(Subscription.source_id).where(Subscription.user_id.in_(sorted(users)))
    ).all()
    return set(rows)


def manageable_source_ids(session: Session, *, actor: User) -> set[int] | None:
    """Sources the actor may act on (collect, unsubscribe): own ones; None = all (admins)."""
    actor = require_active(actor)
    if is_admin(actor):
        return None
    return set(own_source_ids(session, actor=actor))


def own_source_ids(session: Session, *, actor: User) -> list[int]:
    """The sources the actor subscribes to: what "Обновить сейчас" refreshes for anyone,
    admins included (refreshing the whole system is the scheduler's or the CLI's job)."""
    actor = require_active(actor)
    rows = session.exec(
        select(Subscription.source_id)
        .where(Subscription.user_id == actor.id)
        .order_by(Subscription.source_id)
    ).all()
    return list(rows)


def own_subscription(session: Session, *, actor: User, source_id: int) -> Subscription:
    """The actor's own subscription to the source; LookupError when there is none (also
    for someone else's source: its existence is not revealed)."""
    actor = require_active(actor)
    subscription = session.exec(
        select(Subscription).where(
            Subscription.user_id == actor.id, Subscription.source_id == source_id
        )
    ).first()
    if subscription is None:
        raise LookupError("Вы не отслеживаете этот источник.")
    return subscription


def subscriber_for(session: Session, actor: User, user_id: int | None) -> User:
    """Whom a new subscription belongs to: the actor, or (admins only) another user."""
    if user_id is None or user_id == actor.id:
        return actor
    if not is_admin(actor):
        raise PermissionDenied("Добавлять источники другим пользователям может только админ.")
    target = session.get(User, user_id)
    if target is None:
        raise LookupError("Пользователь не найден.")
    return target


def check_can_subscribe(session: Session, *, actor: User, user_id: int | None = None) -> int:
    """Raise PermissionDenied/LookupError unless the actor may add sources for `user_id`
    (default: themselves); the subscriber's id. Call it before resolving links, so a refused
    actor never makes the platform work."""
    subscriber = subscriber_for(session, require_active(actor), user_id)
    assert subscriber.id is not None
    return subscriber.id
