"""Listing sources: one source (`get_source`), the plain list (`list_sources`) and the
list page's cards (`source_cards`) with their key numbers, search, filters, sort and the
director's own/team groups.

Every function takes the acting user and reveals nothing outside what
`visible_source_ids` / `visible_user_ids` allow. The numbers come from
`socstat.services.analytics` (unknown stays None, never 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import func
from sqlmodel import Session, select

from socstat.models import Role, Source, SourceStatus, Subscription, User, utcnow
from socstat.services import analytics
from socstat.services.authz import require_active, visible_user_ids
from socstat.services.sources.access import visible_source_ids
from socstat.services.sources.kinds import own_tracked_kinds


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
    history_start: date | None = None
    last_attempt_at: datetime | None = None
    collecting: bool = False  # never collected yet, or being collected now


def list_sources(session: Session, *, actor: User | None) -> list[SourceRow]:
    """Every source the actor may see, by name."""
    actor = require_active(actor)
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
    now = utcnow()
    return [_row(s, counts.get(s.id, 0), s.id in mine, now) for s in sources]


def get_source(session: Session, *, actor: User, source_id: int) -> SourceRow:
    """One source, if the actor may see it (LookupError otherwise: no existence leak)."""
    actor = require_active(actor)
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
    return _row(source, counts.get(source_id, 0), mine is not None, utcnow())


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


def _row(source: Source, subscribers: int, mine: bool, now: datetime) -> SourceRow:
    assert source.id is not None
    claimed = source.claimed_until is not None and source.claimed_until > now
    never = source.last_collected_at is None and source.last_attempt_at is None
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
        history_start=source.history_start,
        last_attempt_at=source.last_attempt_at,
        collecting=claimed or never,
    )


# --- the list page's cards -------------------------------------------------------------


class ListSort:
    NAME = "name"
    MEMBERS = "members"
    POSTS = "posts"
    ER = "er"
    COLLECTED = "collected"
    LABELS: ClassVar[dict[str, str]] = {
        NAME: "По названию",
        MEMBERS: "По участникам",
        POSTS: "По публикациям за 7 дней",
        ER: "По ER",
        COLLECTED: "По последнему сбору",
    }


class StatusFilter:
    ACTIVE = "active"
    COLLECTING = "collecting"
    UNAVAILABLE = "unavailable"
    PROBLEM = "problem"
    LABELS: ClassVar[dict[str, str]] = {
        ACTIVE: "Активные",
        COLLECTING: "Идёт первый сбор",
        UNAVAILABLE: "Недоступные (закрыты, удалены)",
        PROBLEM: "С ошибкой сбора",
    }


UNAVAILABLE = frozenset(
    {
        SourceStatus.CLOSED,
        SourceStatus.PRIVATE,
        SourceStatus.DELETED,
        SourceStatus.BANNED,
        SourceStatus.WALL_DISABLED,
    }
)
MAX_SEARCH = 100
NUMBERS_PERIOD = "7d"  # the cards' numbers: the last 7 installation days


@dataclass(frozen=True)
class ListQuery:
    """What the list shows: search by name, status and tag filters, sort (URL query
    ``?q=…&status=…&tag=…&sort=…&desc=1``)."""

    search: str = ""
    status: str = ""
    tag: str = ""
    sort: str = ListSort.NAME
    desc: bool = False

    def params(self) -> dict[str, str]:
        """The URL query of this view (defaults left out)."""
        values = {
            "q": self.search,
            "status": self.status,
            "tag": self.tag,
            "sort": "" if self.sort == ListSort.NAME else self.sort,
            "desc": "1" if self.desc else "",
        }
        return {k: v for k, v in values.items() if v}


def parse_list_query(params: Mapping[str, Any]) -> tuple[ListQuery, tuple[str, ...]]:
    """The view asked by a URL query, and a message for each value replaced by its default."""

    def text(key: str, limit: int) -> str:
        value = params.get(key, "")
        return value.strip()[:limit] if isinstance(value, str) else ""

    problems: list[str] = []
    sort, status = text("sort", 20) or ListSort.NAME, text("status", 20)
    if sort not in ListSort.LABELS:
        problems.append("Неизвестная сортировка — показано по названию.")
        sort = ListSort.NAME
    if status and status not in StatusFilter.LABELS:
        problems.append("Неизвестный статус — показаны все источники.")
        status = ""
    query = ListQuery(
        search=text("q", MAX_SEARCH),
        status=status,
        tag=text("tag", 100),
        sort=sort,
        desc=text("desc", 5) in ("1", "true"),
    )
    return query, tuple(problems)


@dataclass(frozen=True)
class SourceCard:
    """One card of the list: the source, the actor's tags on it (others' for a team source,
    read-only), who else tracks it, and its numbers over the last 7 days. ``kinds``: the
    content kinds the actor's own subscription counts (empty on a card not their own)."""

    row: SourceRow
    tags: tuple[str, ...]
    owners: tuple[str, ...]
    publications: int | None
    er_post: float | None
    members_delta: int | None
    kinds: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.row.name or self.row.screen_name or self.row.external_id


@dataclass(frozen=True)
class SourceCards:
    """The list after search, filters and sort: the actor's own sources and the others
    they may see (a director's team; every other source for an admin), and every tag the
    actor may filter by. ``total``: sources before search and filters."""

    own: tuple[SourceCard, ...]
    others: tuple[SourceCard, ...]
    tags: tuple[str, ...]
    total: int
    query: ListQuery


def source_cards(
    session: Session,
    *,
    actor: User | None,
    query: ListQuery = ListQuery(),
    today: date | None = None,
) -> SourceCards:
    """The list page's cards for ``query`` (numbers of the 7 days up to ``today``)."""
    actor = require_active(actor)
    rows = list_sources(session, actor=actor)
    ids = [r.id for r in rows]
    tags, owners = _tags_and_owners(session, actor, ids)
    kinds = _own_kinds(session, actor, ids)
    period = analytics.preset_period(NUMBERS_PERIOD, today or analytics.installation_today())
    numbers = {
        line.source.id: line.current
        for line in analytics.totals_by_source(
            session, actor=actor, scope=analytics.Scope(), period=period
        )
    }
    cards = []
    for row in rows:
        figures = numbers.get(row.id)
        cards.append(
            SourceCard(
                row=row,
                tags=tags.get(row.id, ()),
                owners=owners.get(row.id, ()),
                publications=figures.publications if figures else None,
                er_post=figures.er_post.value if figures else None,
                members_delta=figures.members_delta.value if figures else None,
                kinds=kinds.get(row.id, ()),
            )
        )
    all_tags: dict[str, str] = {}
    for card in cards:
        for tag in card.tags:
            all_tags.setdefault(tag.casefold(), tag)
    shown = _sorted([c for c in cards if _matches(c, query)], query)
    return SourceCards(
        own=tuple(c for c in shown if c.row.mine),
        others=tuple(c for c in shown if not c.row.mine),
        tags=tuple(sorted(all_tags.values(), key=str.casefold)),
        total=len(cards),
        query=query,
    )


def others_label(actor: User) -> str:
    """The heading of the cards that are not the actor's own."""
    return "Источники команды" if actor.role == Role.DIRECTOR else "Другие источники"


def _tags_and_owners(
    session: Session, actor: User, ids: list[int]
) -> tuple[dict[int, tuple[str, ...]], dict[int, tuple[str, ...]]]:
    """Per source: the actor's own tags (for a source they do not track: the tags of the
    subscribers they may see) and the other subscribers they may know about, by email."""
    if not ids:
        return {}, {}
    visible_users = visible_user_ids(session, actor)
    query = (
        select(
            Subscription.source_id, Subscription.user_id, Subscription.tags, User.name, User.email
        )
        .join(User, User.id == Subscription.user_id)
        .where(Subscription.source_id.in_(ids))
        .order_by(Subscription.source_id, func.lower(User.email))
    )
    if visible_users is not None:
        query = query.where(Subscription.user_id.in_(sorted(visible_users) or [-1]))
    own: dict[int, tuple[str, ...]] = {}
    others: dict[int, dict[str, str]] = {}
    owners: dict[int, list[str]] = {}
    for source_id, user_id, text, name, email in session.exec(query).all():
        if user_id == actor.id:
            own[source_id] = analytics.parse_tags(text)
            continue
        owners.setdefault(source_id, []).append(name or email)
        for tag in analytics.parse_tags(text):
            others.setdefault(source_id, {}).setdefault(tag.casefold(), tag)
    tags = {sid: tuple(found.values()) for sid, found in others.items()}
    tags.update(own)
    return tags, {sid: tuple(names) for sid, names in owners.items()}


def _own_kinds(session: Session, actor: User, ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Per source the actor tracks: the content kinds their subscription counts."""
    if not ids:
        return {}
    subscriptions = session.exec(
        select(Subscription).where(
            Subscription.user_id == actor.id, Subscription.source_id.in_(ids)
        )
    ).all()
    return {sub.source_id: own_tracked_kinds(sub) for sub in subscriptions}


def _matches(card: SourceCard, query: ListQuery) -> bool:
    row = card.row
    if query.search:
        wanted = query.search.casefold()
        if not any(wanted in text.casefold() for text in (card.name, row.screen_name)):
            return False
    if query.tag and query.tag.casefold() not in {t.casefold() for t in card.tags}:
        return False
    if query.status == StatusFilter.ACTIVE:
        return row.status == SourceStatus.ACTIVE and not row.stale
    if query.status == StatusFilter.COLLECTING:
        return row.collecting and row.last_collected_at is None
    if query.status == StatusFilter.UNAVAILABLE:
        return row.status in UNAVAILABLE
    if query.status == StatusFilter.PROBLEM:
        return row.stale or row.status == SourceStatus.ERROR
    return True


def _sorted(cards: list[SourceCard], query: ListQuery) -> list[SourceCard]:
    """By name; by a number with unknown values last whatever the direction."""
    by_name = sorted(cards, key=lambda c: (c.name.casefold(), c.row.id), reverse=query.desc)
    if query.sort == ListSort.NAME:
        return by_name
    value = {
        ListSort.MEMBERS: lambda c: c.row.members_count,
        ListSort.POSTS: lambda c: c.publications,
        ListSort.ER: lambda c: c.er_post,
        ListSort.COLLECTED: lambda c: c.row.last_collected_at,
    }[query.sort]
    name_order = sorted(cards, key=lambda c: (c.name.casefold(), c.row.id))
    known = [c for c in name_order if value(c) is not None]
    unknown = [c for c in name_order if value(c) is None]
    return sorted(known, key=value, reverse=query.desc) + unknown
