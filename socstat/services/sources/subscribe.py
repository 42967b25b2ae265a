"""Subscribing and unsubscribing: a user starts or stops tracking communities.

One `Source` row per platform community, shared by every user who tracks it; a
`Subscription` ties a user to it. `subscribe` takes what `resolve_links` found; the
caller's unit of work commits. Both actions are audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from socstat.collectors.base import CommunityInfo
from socstat.models import Source, SourceStatus, Subscription, User
from socstat.services import audit
from socstat.services.authz import PermissionDenied, is_admin, require_active
from socstat.services.sources.access import subscriber_for
from socstat.services.sources.resolve import ResolvedLink

# Statuses whose community object VK shows as a placeholder ("DELETED", no photo).
DEACTIVATED = frozenset({SourceStatus.DELETED, SourceStatus.BANNED})


class AddOutcome:
    ADDED = "added"
    ALREADY = "already"
    ERROR = "error"


@dataclass(frozen=True)
class AddResult:
    """The outcome of one link given to `subscribe` (message is for the user, Russian).
    ``uncollected``: the source has never been collected (its first collection is due)."""

    link: str
    outcome: str
    message: str
    source_id: int | None = None
    name: str = ""
    uncollected: bool = False


def subscribe(
    session: Session,
    *,
    actor: User,
    resolved: list[ResolvedLink],
    user_id: int | None = None,
    ip: str = "",
) -> list[AddResult]:
    """Subscribe the user (default: the actor; an admin may name another) to each resolved
    community; one result per link. The caller's unit of work commits."""
    actor = require_active(actor)
    subscriber = subscriber_for(session, actor, user_id)
    results: list[AddResult] = []
    for item in resolved:
        if item.info is None:
            message = item.error or "Неверная ссылка."
            results.append(AddResult(item.link, AddOutcome.ERROR, message))
            continue
        results.append(
            _store_subscription(
                session,
                actor=actor,
                subscriber=subscriber,
                link=item.link,
                info=item.info,
                platform=item.platform,
                ip=ip,
            )
        )
    return results


def _store_subscription(
    session: Session,
    *,
    actor: User,
    subscriber: User,
    link: str,
    info: CommunityInfo,
    platform: str,
    ip: str,
) -> AddResult:
    source = _find_or_create_source(session, platform=platform, info=info)
    existing = session.exec(
        select(Subscription).where(
            Subscription.user_id == subscriber.id, Subscription.source_id == source.id
        )
    ).first()
    label = source.name or source.screen_name or source.external_id
    uncollected = source.last_collected_at is None
    if existing is not None:
        message = "Уже отслеживается."
        return AddResult(link, AddOutcome.ALREADY, message, source.id, label, uncollected)
    session.add(Subscription(user_id=subscriber.id, source_id=source.id))
    audit.record(
        session,
        actor=actor,
        action="source.add",
        target_type="source",
        target_id=str(source.id),
        details={"link": link, "user_id": subscriber.id, "external_id": source.external_id},
        ip=ip,
    )
    session.flush()
    return AddResult(link, AddOutcome.ADDED, "Добавлено.", source.id, label, uncollected)


def _find_or_create_source(session: Session, *, platform: str, info: CommunityInfo) -> Source:
    source = session.exec(
        select(Source).where(Source.platform == platform, Source.external_id == info.external_id)
    ).first()
    if source is not None:
        return source
    source = Source(platform=platform, external_id=info.external_id)
    apply_info(source, info)
    try:
        with session.begin_nested():
            session.add(source)
    except IntegrityError:  # a concurrent add of the same community won the race
        found = session.exec(
            select(Source).where(
                Source.platform == platform, Source.external_id == info.external_id
            )
        ).first()
        if found is None:
            raise
        return found
    return source


def apply_info(source: Source, info: CommunityInfo) -> None:
    """Copy what the platform says about the community onto the source row.

    A deleted or banned community comes back as a placeholder ("DELETED", no photo, no
    members): its last known name, photo and members stay; a community never seen alive
    is named by its screen name."""
    source.status = info.status
    source.status_reason = info.status_reason[:500]
    source.screen_name = info.screen_name[:200] or source.screen_name
    if info.status in DEACTIVATED:
        source.name = source.name or source.screen_name or info.external_id
        source.url = source.url or info.url[:500]
        return
    source.name = info.name[:500]
    source.url = info.url[:500]
    source.photo_url = info.photo_url[:1000]
    source.community_type = info.community_type[:16]
    if info.members_count is not None:
        source.members_count = info.members_count


def remove_subscription(
    session: Session, *, actor: User, source_id: int, user_id: int | None = None, ip: str = ""
) -> None:
    """Stop tracking: the actor's own subscription, or (admins) another user's.

    The source row and its collected data stay (other users may track it).
    """
    actor = require_active(actor)
    owner_id = actor.id if user_id is None else user_id
    if owner_id != actor.id and not is_admin(actor):
        raise PermissionDenied("Удалять чужие подписки может только администратор.")
    subscription = session.exec(
        select(Subscription).where(
            Subscription.user_id == owner_id, Subscription.source_id == source_id
        )
    ).first()
    if subscription is None:
        raise LookupError("Подписка на источник не найдена.")
    session.delete(subscription)
    audit.record(
        session,
        actor=actor,
        action="source.remove",
        target_type="source",
        target_id=str(source_id),
        details={"user_id": owner_id},
        ip=ip,
    )
    session.flush()
