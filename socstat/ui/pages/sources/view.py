"""The sources page's plain logic (tested without Reflex): the list's strings for a URL
query, tag changes, the content kinds counted, unsubscribing, the «Обновить сейчас» plan
and summary. Each function takes the acting user and calls the services, which check
authorization."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from socstat import formatting
from socstat.models import User
from socstat.services.collection import RunSummary, mark_interrupted_runs
from socstat.services.errors import FieldError
from socstat.services.sources import own_source_ids, remove_subscription
from socstat.services.sources.kinds import set_tracked_kinds
from socstat.services.sources.listing import (
    SourceCard,
    others_label,
    parse_list_query,
    source_cards,
)
from socstat.services.sources.refresh import running_manual_run
from socstat.services.sources.tags import add_tag, remove_tag
from socstat.ui.viewmodels import InputError, parse_source_id, source_header

ALL = "all"  # the select value of "no filter"


def _signed(value: int | None) -> str:
    if value is None:
        return formatting.UNKNOWN
    text = formatting.integer(abs(value))
    return f"+{text}" if value > 0 else (f"\u2212{text}" if value < 0 else "0")


def card_view(card: SourceCard, tz_name: str | None) -> dict[str, str]:
    """One card's strings (flags are "1" or "")."""
    row = card.row
    header = source_header(row, tz_name=tz_name, history_start=row.history_start)
    first = row.collecting and row.last_collected_at is None
    return {
        **header,
        "name": card.name,
        "link_label": row.url.removeprefix("https://").removeprefix("http://") or row.screen_name,
        "collecting": "1" if first else "",
        "updating": "1" if row.collecting and not first else "",
        "publications": formatting.integer(card.publications),
        "publications_value": "" if card.publications is None else str(card.publications),
        "er": formatting.rate(card.er_post),
        "members_delta": f"{_signed(card.members_delta)} за 7 дн.",
        "tracked_by": "Отслеживают в socstat: "
        + formatting.quantity(row.subscribers, "пользователь", "пользователя", "пользователей"),
        "mine": "1" if row.mine else "",
        "owners": ", ".join(card.owners),
    }


def list_view(session: Session, user: User, *, params: dict[str, Any]) -> dict[str, Any]:
    """Everything the list shows for the URL query ``params``."""
    query, problems = parse_list_query(params)
    cards = source_cards(session, actor=user, query=query)
    every = (*cards.own, *cards.others)
    return {
        "own_cards": [card_view(c, user.timezone) for c in cards.own],
        "other_cards": [card_view(c, user.timezone) for c in cards.others],
        "card_tags": {str(c.row.id): list(c.tags) for c in every},
        "card_kinds": {str(c.row.id): list(c.kinds) for c in cards.own},
        "tag_options": list(cards.tags),
        "others_heading": others_label(user),
        "total": cards.total,
        "problems": list(problems),
        "search": query.search,
        "status": query.status or ALL,
        "tag": query.tag or ALL,
        "sort": query.sort,
        "descending": query.desc,
        "query": urlencode(query.params()),
        "any_collecting": any(c.row.collecting for c in every),
    }


def change_tag(
    session: Session, user: User, raw_id: Any, tag: Any, *, add: bool, ip: str = ""
) -> list[str]:
    """Add or remove a tag on the user's own subscription; its tags afterwards."""
    source_id = parse_source_id(raw_id)
    change = add_tag if add else remove_tag
    try:
        result = change(session, actor=user, source_id=source_id, tag=tag, ip=ip)
    except LookupError as exc:
        raise InputError(str(exc)) from None
    return list(result.tags)


def change_kinds(session: Session, user: User, raw_id: Any, kinds: Any, ip: str = "") -> bool:
    """Choose the content kinds the user's own subscription counts; whether anything
    changed. A bad or foreign source id is a FieldError of the whole control (shown on
    the card like a refused choice)."""
    try:
        source_id = parse_source_id(raw_id)
        result = set_tracked_kinds(session, actor=user, source_id=source_id, kinds=kinds, ip=ip)
    except (InputError, LookupError) as exc:
        raise FieldError(str(exc)) from None
    return result.changed


def remove_source(session: Session, user: User, raw_id: Any, ip: str = "") -> str:
    """Unsubscribe the user from the source (own subscription only)."""
    source_id = parse_source_id(raw_id)
    try:
        remove_subscription(session, actor=user, source_id=source_id, ip=ip)
    except LookupError:
        raise InputError("Вы не отслеживаете этот источник.") from None
    return "Источник удалён из списка."


def refresh_plan(session: Session, user: User) -> tuple[User, list[int], bool]:
    """(the actor, the source ids to refresh, whether a manual run of theirs is running).

    Runs whose process died (no heartbeat) are marked interrupted first, so a dead run
    never makes the button answer "already running"."""
    mark_interrupted_runs(session)
    ids = own_source_ids(session, actor=user)
    busy = running_manual_run(session, actor=user) is not None
    return user, ids, busy


def summary_text(summary: RunSummary) -> str:
    text = (
        f"Обновление завершено: успешно {summary.sources_ok}, частично "
        f"{summary.sources_partial}, с ошибкой {summary.sources_failed}; "
        f"новых публикаций {summary.items_new}, обновлено {summary.items_updated}."
    )
    if summary.error:
        text += f" Ошибка: {summary.error[:300]}"
    return text
