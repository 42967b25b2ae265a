"""Which content kinds a subscription counts: posts, videos, clips (``Subscription.track_*``).

Analytics reads them (`socstat.services.analytics.scope.tracked_kinds`): a source counts
only the kinds its subscriber tracks, in the cards, the dashboard, reports and alerts.
Collection is not affected — every kind is still collected, so turning a kind back on
shows its history at once. A user changes only their own subscription; a change is
audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from socstat.models import ContentKind, Subscription, User
from socstat.services import audit
from socstat.services.analytics.scope import tracked_kinds
from socstat.services.authz import require_active
from socstat.services.errors import FieldError
from socstat.services.sources.access import own_subscription

KIND_LABELS: dict[str, str] = {
    ContentKind.POST: "Посты",
    ContentKind.VIDEO: "Видео",
    ContentKind.CLIP: "Клипы",
}
_FLAGS = {
    ContentKind.POST: "track_posts",
    ContentKind.VIDEO: "track_videos",
    ContentKind.CLIP: "track_clips",
}


@dataclass(frozen=True)
class TrackedKinds:
    """The kinds the actor's subscription to ``source_id`` counts after a change (in
    ``ContentKind.ALL`` order); ``changed``: whether anything was stored."""

    source_id: int
    kinds: tuple[str, ...]
    changed: bool


def normalize_kinds(raw: Any) -> tuple[str, ...]:
    """The chosen kinds in ``ContentKind.ALL`` order; FieldError (field "kinds") for an
    unknown kind or an empty choice."""
    if isinstance(raw, str) or not isinstance(raw, list | tuple | set | frozenset):
        raise FieldError("Неверный выбор типов публикаций.", field="kinds")
    if any(not isinstance(kind, str) or kind not in ContentKind.ALL for kind in raw):
        raise FieldError("Неизвестный тип публикаций.", field="kinds")
    kinds = tuple(kind for kind in ContentKind.ALL if kind in raw)
    if not kinds:
        raise FieldError("Выберите хотя бы один тип: посты, видео или клипы.", field="kinds")
    return kinds


def own_tracked_kinds(subscription: Subscription) -> tuple[str, ...]:
    """The kinds a subscription counts, in ``ContentKind.ALL`` order."""
    tracked = tracked_kinds(subscription)
    return tuple(kind for kind in ContentKind.ALL if kind in tracked)


def set_tracked_kinds(
    session: Session, *, actor: User, source_id: int, kinds: Any, ip: str = ""
) -> TrackedKinds:
    """Choose which kinds the actor's own subscription counts (at least one). LookupError
    when the actor does not track the source (someone else's is not revealed); the
    caller's unit of work commits."""
    actor = require_active(actor)
    wanted = normalize_kinds(kinds)
    subscription = own_subscription(session, actor=actor, source_id=source_id)
    before = own_tracked_kinds(subscription)
    if wanted == before:
        return TrackedKinds(source_id, wanted, changed=False)
    for kind, flag in _FLAGS.items():
        setattr(subscription, flag, kind in wanted)
    session.add(subscription)
    audit.record(
        session,
        actor=actor,
        action="source.kinds",
        target_type="source",
        target_id=str(source_id),
        details={"kinds": list(wanted), "before": list(before)},
        ip=ip,
    )
    session.flush()
    return TrackedKinds(source_id, wanted, changed=True)
