"""Tags on a subscription: a user's own labels for the communities they track
(«конкуренты», «клиент А»), used to filter the list, the dashboard, reports and alerts.

Stored in ``Subscription.tags`` comma-separated (read with
`socstat.services.analytics.parse_tags`). A user tags only their own subscriptions; tags
are compared case-insensitively, so «Конкуренты» and «конкуренты» are one tag. Adding and
removing are audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from socstat.models import Subscription, User
from socstat.services import audit
from socstat.services.analytics import parse_tags
from socstat.services.authz import require_active
from socstat.services.errors import FieldError
from socstat.services.sources.access import own_subscription

MAX_TAG_LENGTH = 40
MAX_TAGS = 10
_STORED_LENGTH = 500  # Subscription.tags
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class SubscriptionTags:
    """The tags of the actor's subscription to ``source_id`` after a change."""

    source_id: int
    tags: tuple[str, ...]


def normalize_tag(raw: Any) -> str:
    """A tag as stored: trimmed, inner whitespace collapsed; FieldError (field "tag") for an
    empty, too long or comma-containing one."""
    text = _SPACES.sub(" ", raw if isinstance(raw, str) else "").strip()
    if not text:
        raise FieldError("Введите тег.", field="tag")
    if len(text) > MAX_TAG_LENGTH:
        raise FieldError(f"Тег длиннее {MAX_TAG_LENGTH} символов.", field="tag")
    if "," in text:
        raise FieldError("Запятая в теге не допускается.", field="tag")
    if not text.isprintable():
        raise FieldError("В теге недопустимые символы.", field="tag")
    return text


def add_tag(
    session: Session, *, actor: User, source_id: int, tag: Any, ip: str = ""
) -> SubscriptionTags:
    """Tag the actor's own subscription; a tag already there (in any letter case) is
    refused. LookupError when the actor does not track the source."""
    actor = require_active(actor)
    text = normalize_tag(tag)
    subscription = own_subscription(session, actor=actor, source_id=source_id)
    tags = parse_tags(subscription.tags)
    if text.casefold() in {t.casefold() for t in tags}:
        raise FieldError(f"Тег «{text}» уже есть у этого источника.", field="tag")
    if len(tags) >= MAX_TAGS:
        raise FieldError(f"У источника может быть не больше {MAX_TAGS} тегов.", field="tag")
    new = (*tags, text)
    if len(",".join(new)) > _STORED_LENGTH:
        raise FieldError("Слишком много тегов у этого источника.", field="tag")
    _save(session, actor, subscription, new, "source.tag_add", text, ip)
    return SubscriptionTags(source_id, new)


def remove_tag(
    session: Session, *, actor: User, source_id: int, tag: Any, ip: str = ""
) -> SubscriptionTags:
    """Remove a tag (any letter case) from the actor's own subscription. LookupError when
    the actor does not track the source or the tag is not there."""
    actor = require_active(actor)
    wanted = tag.strip().casefold() if isinstance(tag, str) else ""
    subscription = own_subscription(session, actor=actor, source_id=source_id)
    tags = parse_tags(subscription.tags)
    kept = tuple(t for t in tags if t.casefold() != wanted)
    if len(kept) == len(tags):
        raise LookupError("У источника нет такого тега.")
    removed = next(t for t in tags if t.casefold() == wanted)
    _save(session, actor, subscription, kept, "source.tag_remove", removed, ip)
    return SubscriptionTags(source_id, kept)


def _save(
    session: Session,
    actor: User,
    subscription: Subscription,
    tags: tuple[str, ...],
    action: str,
    tag: str,
    ip: str,
) -> None:
    subscription.tags = ",".join(tags)
    session.add(subscription)
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="source",
        target_id=str(subscription.source_id),
        details={"tag": tag},
        ip=ip,
    )
    session.flush()
