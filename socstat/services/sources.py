"""Tracked communities: adding by link, listing, unsubscribing (with authorization).

One `Source` row per platform community, shared by every user who tracks it; a
`Subscription` ties a user to it. Analysts manage their own subscriptions, directors read
their team's sources, admins see and manage everything (see `socstat.services.authz`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from socstat.collectors.base import Collector, CollectorError, CommunityInfo, LinkError
from socstat.models import Source, Subscription, User
from socstat.services import audit
from socstat.services.authz import PermissionDenied, is_admin, require_active, visible_user_ids


class AddOutcome:
    ADDED = "added"
    ALREADY = "already"
    ERROR = "error"


@dataclass(frozen=True)
class AddResult:
    """The outcome of one link given to `subscribe` (message is for the user, Russian)."""

    link: str
    outcome: str
    message: str
    source_id: int | None = None
    name: str = ""


@dataclass(frozen=True)
class SourceRow:
    """A source as shown in lists (plain data, safe to keep in UI state)."""

    id: int
    platform: str
    external_id: str
    screen_name: str
    name: str
    url: str
    photo_url: str
    members_count: int | None
    status: str
    status_reason: str
    stale: bool
    last_collected_at: datetime | None
    last_error: str
    subscribers: int
    mine: bool


# --- authorization -------------------------------------------------------------------


def _require_actor(actor: User | None) -> User:
    return require_active(actor)


def _is_admin(actor: User) -> bool:
    return is_admin(actor)


def visible_source_ids(session: Session, *, actor: User) -> set[int] | None:
    """Sources the actor may read; None means every source (admins)."""
    users = visible_user_ids(session, _require_actor(actor))
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
    actor = _require_actor(actor)
    if _is_admin(actor):
        return None
    rows = session.exec(select(Subscription.source_id).where(Subscription.user_id == actor.id))
    return set(rows.all())


def _subscriber_for(session: Session, actor: User, user_id: int | None) -> User:
    """Whom a new subscription belongs to: the actor, or (admins only) another user."""
    if user_id is None or user_id == actor.id:
        return actor
    if not _is_admin(actor):
        raise PermissionDenied("Добавлять источники другим пользователям может только админ.")
    target = session.get(User, user_id)
    if target is None:
        raise LookupError("Пользователь не найден.")
    return target


# --- adding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedLink:
    """One link as the platform described it (`info`), or why it could not (`error`)."""

    link: str
    platform: str
    info: CommunityInfo | None = None
    error: str = ""


async def resolve_links(collector: Collector, links: list[str]) -> list[ResolvedLink]:
    """Ask the platform about each link (no database: hold no session while waiting).

    All links are asked at once (the collector batches the calls); results keep the links'
    order. Blank links are skipped; a bad link yields an error entry, not an exception.
    """

    async def _one(link: str) -> ResolvedLink:
        try:
            info = await collector.resolve(link)
        except LinkError as exc:
            return ResolvedLink(link, collector.platform, error=str(exc))
        except CollectorError as exc:
            error = f"Не удалось проверить ссылку: {exc}"
            return ResolvedLink(link, collector.platform, error=error)
        return ResolvedLink(link, collector.platform, info=info)

    wanted = [link.strip() for link in links if link.strip()]
    return list(await asyncio.gather(*(_one(link) for link in wanted)))


def check_can_subscribe(session: Session, *, actor: User, user_id: int | None = None) -> int:
    """Raise PermissionDenied/LookupError unless the actor may add sources for `user_id`
    (default: themselves); the subscriber's id. Call it before resolving links, so a refused
    actor never makes the platform work."""
    subscriber = _subscriber_for(session, _require_actor(actor), user_id)
    assert subscriber.id is not None
    return subscriber.id


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
    actor = _require_actor(actor)
    subscriber = _subscriber_for(session, actor, user_id)
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
    if existing is not None:
        return AddResult(link, AddOutcome.ALREADY, "Уже отслеживается.", source.id, label)
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
    return AddResult(link, AddOutcome.ADDED, "Добавлено.", source.id, label)


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
    """Copy what the platform says about the community onto the source row."""
    source.screen_name = info.screen_name[:200]
    source.name = info.name[:500]
    source.url = info.url[:500]
    source.photo_url = info.photo_url[:1000]
    source.community_type = info.community_type[:16]
    if info.members_count is not None:
        source.members_count = info.members_count
    source.status = info.status
    source.status_reason = info.status_reason[:500]


# --- reading and removing -------------------------------------------------------------


def list_sources(session: Session, *, actor: User | None) -> list[SourceRow]:
    """Every source the actor may see, by name."""
    actor = _require_actor(actor)
    visible = visible_source_ids(session, actor=actor)
    query = select(Source).order_by(func.lower(Source.name), Source.id)
    if visible is not None:
        if not visible:
            return []
        query = query.where(Source.id.in_(sorted(visible)))
    sources = session.exec(query).all()
    counts = _subscriber_counts(session, [s.id for s in sources])
    mine = set(
        session.exec(select(Subscription.source_id).where(Subscription.user_id == actor.id)).all()
    )
    return [_row(s, counts.get(s.id, 0), s.id in mine) for s in sources]


def get_source(session: Session, *, actor: User, source_id: int) -> SourceRow:
    """One source, if the actor may see it (LookupError otherwise: no existence leak)."""
    actor = _require_actor(actor)
    visible = visible_source_ids(session, actor=actor)
    source = session.get(Source, source_id)
    if source is None or (visible is not None and source_id not in visible):
        raise LookupError("Источник не найден.")
    counts = _subscriber_counts(session, [source_id])
    mine = session.exec(
        select(Subscription.id).where(
            Subscription.user_id == actor.id, Subscription.source_id == source_id
        )
    ).first()
    return _row(source, counts.get(source_id, 0), mine is not None)


def remove_subscription(
    session: Session, *, actor: User, source_id: int, user_id: int | None = None, ip: str = ""
) -> None:
    """Stop tracking: the actor's own subscription, or (admins) another user's.

    The source row and its collected data stay (other users may track it).
    """
    actor = _require_actor(actor)
    owner_id = actor.id if user_id is None else user_id
    if owner_id != actor.id and not _is_admin(actor):
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


def _subscriber_counts(session: Session, source_ids: list[int | None]) -> dict[int, int]:
    ids = [i for i in source_ids if i is not None]
    if not ids:
        return {}
    rows = session.exec(
        select(Subscription.source_id, func.count())
        .where(Subscription.source_id.in_(ids))
        .group_by(Subscription.source_id)
    ).all()
    return {source_id: count for source_id, count in rows}


def _row(source: Source, subscribers: int, mine: bool) -> SourceRow:
    assert source.id is not None
    return SourceRow(
        id=source.id,
        platform=source.platform,
        external_id=source.external_id,
        screen_name=source.screen_name,
        name=source.name,
        url=source.url,
        photo_url=source.photo_url,
        members_count=source.members_count,
        status=source.status,
        status_reason=source.status_reason,
        stale=source.stale,
        last_collected_at=source.last_collected_at,
        last_error=source.last_error,
        subscribers=subscribers,
        mine=mine,
    )
