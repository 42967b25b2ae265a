"""Scope: whose sources a figure covers, expressed once, resolved with authorization here.

A scope is the actor's default (analyst: own subscriptions; director: own and the team's;
admin: every source), one user's sources, one team's, narrowed by explicit source ids, by
tags (``Subscription.tags``, comma-separated) and by content kinds. Each source counts the
kinds some subscription in scope tracks. Asking for a source outside what the actor may
read is refused (PermissionDenied), never dropped or answered with someone else's data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from functools import cached_property
from typing import Any

from sqlalchemy import DateTime, bindparam, type_coerce
from sqlmodel import Session, select

from socstat.models import ContentKind, Role, Source, Subscription, Team, TeamMember, User
from socstat.services.analytics.coverage import Coverage, Spans, coverage_from, coverages
from socstat.services.analytics.periods import AnalyticsError
from socstat.services.authz import (
    PermissionDenied,
    ensure_can_read_user_data,
    require_active,
    visible_user_ids,
)
from socstat.settings import get_settings

NO_SOURCE_ACCESS = "Нет доступа к источнику: он не найден или не входит в ваши источники."

KIND_LABELS: dict[str, str] = {
    ContentKind.POST: "Посты",
    ContentKind.VIDEO: "Видео",
    ContentKind.CLIP: "Клипы",
}
KIND_NAMES: dict[str, str] = {  # one item of the kind, e.g. a row of a publications list
    ContentKind.POST: "Пост",
    ContentKind.VIDEO: "Видео",
    ContentKind.CLIP: "Клип",
}


def parse_tags(text: str) -> tuple[str, ...]:
    """Tags as stored in ``Subscription.tags``: comma-separated, trimmed, without repeats."""
    return tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


def validate_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    """Known content kinds in the canonical order; all of them for None."""
    if kinds is None:
        return ContentKind.ALL
    wanted = set(kinds)
    unknown = sorted(k for k in wanted if k not in ContentKind.ALL)
    if unknown:
        raise AnalyticsError(f"Неизвестный тип публикаций: {', '.join(map(str, unknown))}.")
    if not wanted:
        raise AnalyticsError("Выберите хотя бы один тип публикаций.")
    return tuple(k for k in ContentKind.ALL if k in wanted)


@dataclass(frozen=True)
class Scope:
    """What to count. ``user_id``/``team_id`` pick whose sources (at most one of them);
    ``source_ids`` and ``tags`` narrow them; ``kinds`` picks content kinds."""

    user_id: int | None = None
    team_id: int | None = None
    source_ids: tuple[int, ...] | None = None
    tags: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ContentKind.ALL


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A source in scope, with the kinds counted for it."""

    id: int
    name: str
    screen_name: str
    external_id: str
    url: str
    status: str
    kinds: frozenset[str]
    stats_token: str = field(default="", compare=False)  # see analytics.store
    coverage: Coverage | None = field(default=None, compare=False)  # None: not read with it


@dataclass(frozen=True)
class ResolvedScope:
    """The sources of a scope after authorization (ordered by name)."""

    sources: tuple[SourceRef, ...]
    kinds: tuple[str, ...]
    owners: dict[int, tuple[int, ...]] = field(default_factory=dict, compare=False)

    def coverages(self, session: Session) -> dict[int, Coverage]:
        """The sources' collected days, as read with the scope (read anew for sources
        made elsewhere)."""
        found = self._read_coverages
        return found if found is not None else coverages(session, self.source_ids)

    def spans(self, covs: dict[int, Coverage]) -> Spans:
        """``covs`` of the sources as ``Spans`` (row by row); those read with the scope are
        converted once, as the scope is reused."""
        if covs is self._read_coverages:
            return self._read_spans
        return Spans.of([covs.get(s.id) for s in self.sources])

    @cached_property
    def _read_coverages(self) -> dict[int, Coverage] | None:
        found = {s.id: s.coverage for s in self.sources if s.coverage is not None}
        return found if len(found) == len(self.sources) else None

    @cached_property
    def _read_spans(self) -> Spans:
        return Spans.of([s.coverage for s in self.sources])

    @property
    def source_ids(self) -> list[int]:
        return [s.id for s in self.sources]

    def ids_by_kind(self) -> dict[str, list[int]]:
        """For each kind, the sources counting it (kinds nobody counts are left out)."""
        result: dict[str, list[int]] = {}
        for kind in self.kinds:
            ids = [s.id for s in self.sources if kind in s.kinds]
            if ids:
                result[kind] = ids
        return result


def resolve_scope(session: Session, *, actor: User | None, scope: Scope) -> ResolvedScope:
    """The sources of ``scope`` the actor may read; PermissionDenied for anything else."""
    actor = require_active(actor)
    kinds = validate_kinds(scope.kinds)
    if scope.user_id is not None and scope.team_id is not None:
        raise AnalyticsError("Выберите либо пользователя, либо команду.")
    users = _scope_users(session, actor, scope)
    connection = session.connection()
    if users is None:  # an admin's default: every source
        subscriptions = tuple(map(tuple, connection.execute(_SUBSCRIPTIONS).all()))
        every = tuple(map(tuple, connection.execute(_EVERY_SOURCE).all()))
    else:
        read = connection.execute(_SUBSCRIPTIONS_OF, {"users": sorted(users) or [-1]})
        subscriptions, every = tuple(map(tuple, read.all())), None
    key = (scope, kinds, subscriptions, every, get_settings().timezone)
    found = _RESOLVED.get(key)
    if found is None:
        found = _resolved(scope, kinds, subscriptions, every)
        if len(_RESOLVED) >= _RESOLVED_KEPT:
            _RESOLVED.clear()
        _RESOLVED[key] = found
    return found


# Scopes resolved from the rows just read, by those rows: the same rows (no subscription,
# source or its stats changed) give the same scope, without building it again.
_RESOLVED: dict[tuple[Any, ...], ResolvedScope] = {}
_RESOLVED_KEPT = 256


def _resolved(
    scope: Scope,
    kinds: tuple[str, ...],
    subscriptions: tuple[Any, ...],
    every: tuple[Any, ...] | None,
) -> ResolvedScope:
    allowed: set[int] = set()
    tracked: dict[int, set[str]] = {}
    owners: dict[int, set[int]] = {}
    rows: dict[int, Any] = {}
    wanted_tags = {t.casefold() for t in scope.tags}
    for source_id, user_id, tags, *flags_and_source in subscriptions:
        allowed.add(source_id)
        rows[source_id] = flags_and_source[3:]
        if wanted_tags and not wanted_tags & {t.casefold() for t in parse_tags(tags)}:
            continue
        tracked.setdefault(source_id, set()).update(_kinds_on(flags_and_source[:3]))
        owners.setdefault(source_id, set()).add(user_id)
    for source in every or ():  # untracked ones count every kind
        allowed.add(source[0])
        rows[source[0]] = source
        if not wanted_tags:
            tracked.setdefault(source[0], set(ContentKind.ALL))
    if scope.source_ids is not None:
        wanted = set(scope.source_ids)
        if not wanted <= allowed:
            raise PermissionDenied(NO_SOURCE_ACCESS)
        tracked = {sid: k for sid, k in tracked.items() if sid in wanted}
    wanted_kinds = set(kinds)
    refs = tuple(
        sorted(
            (
                _ref(rows[source_id], frozenset(counted))
                for source_id, kinds_tracked in tracked.items()
                if (counted := kinds_tracked & wanted_kinds)
            ),
            key=lambda ref: (ref.name.casefold(), ref.id),
        )
    )
    return ResolvedScope(
        sources=refs,
        kinds=kinds,
        owners={sid: tuple(sorted(uids)) for sid, uids in owners.items()},
    )


def _scope_users(session: Session, actor: User, scope: Scope) -> set[int] | None:
    """Whose subscriptions the scope reads; None = every source (admin's default)."""
    if scope.user_id is not None:
        ensure_can_read_user_data(session, actor, scope.user_id)
        return {scope.user_id}
    if scope.team_id is not None:
        return _team_users(session, actor, scope.team_id)
    return visible_user_ids(session, actor)


def _team_users(session: Session, actor: User, team_id: int) -> set[int]:
    team = session.get(Team, team_id)
    if team is None or not (actor.role == Role.ADMIN or team.director_id == actor.id):
        raise PermissionDenied("Нет доступа к данным этой команды.")
    members = session.exec(select(TeamMember.user_id).where(TeamMember.team_id == team_id))
    director = {team.director_id} if team.director_id is not None else set()
    return director | set(members.all())


def tracked_kinds(sub: Any) -> set[str]:
    """The content kinds the subscription counts (set with `sources.kinds`)."""
    return _kinds_on((sub.track_posts, sub.track_videos, sub.track_clips))


def _kinds_on(flags: Sequence[bool]) -> set[str]:
    """The kinds of the flags ``track_posts``, ``track_videos``, ``track_clips`` that are on."""
    return {kind for kind, on in zip(ContentKind.ALL, flags, strict=True) if on}


_SOURCE_COLUMNS = (  # what a SourceRef is made of (``_ref``)
    Source.id,
    Source.name,
    Source.screen_name,
    Source.external_id,
    Source.url,
    Source.status,
    Source.stats_token,
    Source.history_start,
    # as stored (naive UTC): made aware only when a scope is built from the rows
    type_coerce(Source.last_collected_at, DateTime()).label("last_collected_at"),
)
# The reads of a scope, built once: a statement built anew for every call cost SQLAlchemy
# more than the read itself (it matched the new statement's columns to the cached form's).
# One read each: the subscriptions with their sources' columns (a director's scope has
# hundreds of subscriptions: columns, not models).
_SUBSCRIPTIONS = select(
    Subscription.source_id,
    Subscription.user_id,
    Subscription.tags,
    Subscription.track_posts,
    Subscription.track_videos,
    Subscription.track_clips,
    *_SOURCE_COLUMNS,
).join(Source, Source.id == Subscription.source_id)
_SUBSCRIPTIONS_OF = _SUBSCRIPTIONS.where(
    Subscription.user_id.in_(bindparam("users", expanding=True))
)
_EVERY_SOURCE = select(*_SOURCE_COLUMNS)


def source_name(source: Any) -> str:
    """A source's (or a row with its name columns) name as shown."""
    return display_name(source.name, source.screen_name, source.external_id)


def display_name(name: str, screen_name: str, external_id: str) -> str:
    """A source's name as shown: its name, else its screen name, else its id."""
    return name or screen_name or external_id


def _ref(source: Sequence[Any], kinds: frozenset[str]) -> SourceRef:
    """From the values of ``_SOURCE_COLUMNS``, in that order."""
    source_id, name, screen_name, external_id, url, status, token, first, last = source
    return SourceRef(
        id=source_id,
        name=display_name(name, screen_name, external_id),
        screen_name=screen_name,
        external_id=external_id,
        url=url,
        status=status,
        kinds=kinds,
        stats_token=token,
        coverage=coverage_from(status, first, last and last.replace(tzinfo=UTC)),
    )


@dataclass(frozen=True)
class ScopeChoices:
    """What the actor may pick as a scope besides their default: users, teams, tags."""

    users: tuple[tuple[int, str], ...]
    teams: tuple[tuple[int, str], ...]
    tags: tuple[str, ...]


def scope_choices(session: Session, *, actor: User | None) -> ScopeChoices:
    """Admin: every user and team; director: the team's members and own teams; analyst:
    none. Tags: those on subscriptions the actor may read."""
    actor = require_active(actor)
    visible = visible_user_ids(session, actor)
    users: tuple[tuple[int, str], ...] = ()
    teams: tuple[tuple[int, str], ...] = ()
    if actor.role in (Role.ADMIN, Role.DIRECTOR):
        user_query = select(User).order_by(User.email)
        team_query = select(Team).order_by(Team.name)
        if visible is not None:
            user_query = user_query.where(User.id.in_(sorted(visible)))
            team_query = team_query.where(Team.director_id == actor.id)
        users = tuple((u.id, u.name or u.email) for u in session.exec(user_query).all())
        teams = tuple((t.id, t.name) for t in session.exec(team_query).all())
    tag_query = select(Subscription.tags).where(Subscription.tags != "")
    if visible is not None:
        tag_query = tag_query.where(Subscription.user_id.in_(sorted(visible) or [-1]))
    found: dict[str, str] = {}
    for text in session.exec(tag_query).all():
        for tag in parse_tags(text):
            found.setdefault(tag.casefold(), tag)
    return ScopeChoices(users, teams, tuple(sorted(found.values(), key=str.casefold)))
