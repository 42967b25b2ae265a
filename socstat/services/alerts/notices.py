"""Messages about firings: in-app notifications at once (also in quiet hours: they make
no noise and trigger nothing outside); email, SMS and Telegram through the outbox, held
during the rule's quiet hours (in the owner's zone) and then sent as one digest. Every
message has a dedup key, and every held firing is claimed by exactly one digest, so
nothing is queued twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from socstat import formatting
from socstat.models import (
    AlertFiring,
    AlertRule,
    ContentItem,
    FiringState,
    Notification,
    Outbox,
    Source,
    TelegramLink,
    User,
    UserPhone,
)
from socstat.services import delivery
from socstat.services.delivery import sms, telegram
from socstat.services.delivery.links import url
from socstat.settings import get_settings

from .rules import METRICS, RULE_REF, describe

EXTERNAL = ("email", "sms", "telegram")


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    link: str


def user_zone(user: User) -> ZoneInfo:
    return ZoneInfo(user.timezone) if user.timezone else get_settings().tz


def _parse(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(rule: AlertRule, user: User, now: datetime) -> bool:
    """True while ``now`` (in the owner's zone) is inside the rule's quiet hours."""
    if not rule.quiet_from or not rule.quiet_to:
        return False
    local = now.astimezone(user_zone(user)).time()
    start, end = _parse(rule.quiet_from), _parse(rule.quiet_to)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def publication_url(source: Source, item: ContentItem) -> str:
    kind = "clip" if item.kind == "clip" else "video" if item.kind == "video" else "wall"
    return f"https://vk.com/{kind}-{source.external_id}_{item.external_id}"


def firing_message(
    session: Session, rule: AlertRule, firing: AlertFiring, state: str | None = None
) -> Message:
    """The message about ``firing`` in ``state`` (its current state by default; a digest
    passes the state that was held, so a firing resolved meanwhile is still told as fired
    when the rule does not ask for "back to normal")."""
    source = session.get(Source, firing.source_id) if firing.source_id else None
    name = source.name or source.screen_name if source is not None else "источник"
    link = f"/sources/{source.id}" if source is not None else "/alerts"
    title_rule = rule.name or describe(rule)
    if (state or firing.state) == FiringState.RESOLVED:
        return Message(
            title=f"Снова в норме: {title_rule} — {name}",
            body=f"Условие «{describe(rule)}» больше не выполняется ({name}).",
            link=link,
        )
    metric = METRICS[rule.metric]
    if rule.rule_type == "baseline":
        item = session.get(ContentItem, firing.content_item_id) if firing.content_item_id else None
        ratio = (firing.value or 0) / firing.reference if firing.reference else 0
        url = publication_url(source, item) if source is not None and item is not None else ""
        preview = f" «{item.text_preview[:80]}»" if item is not None and item.text_preview else ""
        return Message(
            title=f"{title_rule}: {name}",
            body=(
                f"Публикация{preview}: {metric.lower()} {formatting.number(firing.value)} — в "
                f"{formatting.decimal(ratio)} раза больше медианы "
                f"{formatting.number(firing.reference)}. {url}"
            ).strip(),
            link=link,
        )
    window = (
        formatting.day(firing.window_start)
        if firing.window_start == firing.window_end
        else f"{formatting.day(firing.window_start)}–{formatting.day(firing.window_end)}"
    )
    versus = ""
    if rule.comparison in ("rise_pct", "fall_pct") and firing.reference is not None:
        versus = f" (прошлый период: {formatting.number(firing.reference)})"
    return Message(
        title=f"{title_rule}: {name}",
        body=(
            f"{metric} за {window}: {formatting.number(firing.value)}{versus}. "
            f"Условие: {describe(rule)}."
        ),
        link=link,
    )


def add_notification(
    session: Session, *, user_id: int, kind: str, message: Message, dedup_key: str
) -> bool:
    """An in-app notification, once per ``dedup_key`` (also when another process adds the
    same one at the same moment); False when it was there already."""
    exists = session.exec(
        select(Notification.id).where(Notification.dedup_key == dedup_key)
    ).first()
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                Notification(
                    user_id=user_id,
                    kind=kind,
                    title=message.title[:300],
                    body=message.body[:4000],
                    link=message.link,
                    dedup_key=dedup_key,
                )
            )
    except IntegrityError:
        return False
    return True


def _sms_sent_today(session: Session, phone: str, now: datetime) -> int:
    tz = get_settings().tz
    start = datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz)
    return session.exec(
        select(func.count())
        .select_from(Outbox)
        .where(Outbox.channel == sms.CHANNEL, Outbox.recipient == phone, Outbox.created_at >= start)
    ).one()


def queue_external(
    session: Session,
    *,
    user: User,
    channel: str,
    message: Message,
    dedup_key: str,
    now: datetime,
    rule_id: int | None = None,
) -> str:
    """Queue one message on ``channel``; "" when queued, else why not (Russian). A
    ``rule_id`` goes into the message's payload: if it fails for good, the rule's
    history shows it."""
    text = f"{message.title}\n{message.body}\n{url(message.link)}"
    key = f"{dedup_key}:{channel}"
    refs = {RULE_REF: rule_id} if rule_id is not None else {}
    if channel == "email":
        delivery.enqueue_email(
            session,
            to=user.email,
            template="alert",
            context={
                "user": user,
                "title": message.title,
                "body": message.body,
                "link": message.link,
            },
            dedup_key=key,
            refs=refs,
        )
        return ""
    if channel == "sms":
        phone = session.get(UserPhone, user.id)
        config = sms.gateway_config(session)
        if config is None or phone is None or phone.confirmed_at is None:
            return "SMS: номер не подтверждён или шлюз не настроен"
        if _sms_sent_today(session, phone.phone, now) >= config.daily_cap:
            return f"SMS: достигнут дневной лимит ({config.daily_cap})"
        delivery.enqueue(
            session,
            channel=sms.CHANNEL,
            to=phone.phone,
            subject="",
            body=f"{message.title}. {message.body}"[:670],
            payload=refs,
            dedup_key=key,
        )
        return ""
    if channel == "telegram":
        link = session.get(TelegramLink, user.id)
        if link is None or link.chat_id is None or telegram.bot_config(session) is None:
            return "Telegram: чат не привязан или бот не настроен"
        delivery.enqueue(
            session,
            channel=telegram.CHANNEL,
            to=link.chat_id,
            subject="",
            body=text,
            payload=refs,
            dedup_key=key,
        )
        return ""
    return f"{channel}: неизвестный канал"


def announce(session: Session, rule: AlertRule, firing: AlertFiring, now: datetime) -> None:
    """In-app at once; external channels now or, in quiet hours, held for the digest."""
    owner = session.get(User, rule.owner_id)
    if owner is None:
        return
    message = firing_message(session, rule, firing)
    dedup = f"alert:{firing.id}:{firing.state}"
    if "inapp" in rule.channels:
        add_notification(
            session, user_id=owner.id or 0, kind="alert", message=message, dedup_key=dedup
        )
    external = [c for c in rule.channels if c in EXTERNAL]
    if not external:
        return
    if in_quiet_hours(rule, owner, now):
        firing.pending = firing.state
        session.add(firing)
        return
    problems = [
        p
        for c in external
        if (
            p := queue_external(
                session,
                user=owner,
                channel=c,
                message=message,
                dedup_key=dedup,
                now=now,
                rule_id=rule.id,
            )
        )
    ]
    if problems:
        firing.reason = "; ".join(filter(None, [firing.reason, *problems]))[:1000]
        session.add(firing)


def _claim_held(session: Session, rule_id: int) -> list[tuple[AlertFiring, str]]:
    """Take the rule's held firings for one digest, each with the state it was held in,
    in firing order. Each ``UPDATE … WHERE pending = <state> RETURNING id`` takes what it
    changes, so a firing taken here is in no other digest: a concurrent sender waits for
    this transaction's row locks (SQLite: its write lock) and then finds them no longer
    pending."""
    held = []
    for state in (FiringState.FIRED, FiringState.RESOLVED):
        ids = session.exec(
            update(AlertFiring)
            .where(col(AlertFiring.rule_id) == rule_id, col(AlertFiring.pending) == state)
            .values(pending="")
            .returning(col(AlertFiring.id))
            .execution_options(synchronize_session=False)
        ).all()
        held += [(firing_id, state) for firing_id in ids]
    firings = []
    for firing_id, state in sorted(held):
        firing = session.get(AlertFiring, firing_id, populate_existing=True)
        if firing is not None:
            firings.append((firing, state))
    return firings


def send_digests(session: Session, *, now: datetime) -> int:
    """One digest per rule whose quiet hours are over, listing every held firing it
    claimed; returns how many digests were queued."""
    rule_ids = session.exec(
        select(AlertFiring.rule_id).where(AlertFiring.pending != "").distinct()
    ).all()
    sent = 0
    for rule_id in sorted(rule_ids):
        rule = session.get(AlertRule, rule_id)
        owner = session.get(User, rule.owner_id) if rule is not None else None
        if rule is None or owner is None or in_quiet_hours(rule, owner, now):
            continue
        firings = _claim_held(session, rule_id)
        if not firings:
            continue  # another sender took them
        lines = [
            f"• {m.title}: {m.body}"
            for m in (firing_message(session, rule, f, state) for f, state in firings)
        ]
        message = Message(
            title=f"Сводка за тихие часы: {rule.name or describe(rule)} ({len(firings)})",
            body="\n".join(lines),
            link="/alerts",
        )
        ids = [f.id for f, _ in firings]
        dedup = f"alert-digest:{rule_id}:{ids[0]}-{ids[-1]}"  # claims are disjoint
        for channel in (c for c in rule.channels if c in EXTERNAL):
            queue_external(
                session,
                user=owner,
                channel=channel,
                message=message,
                dedup_key=dedup,
                now=now,
                rule_id=rule.id,
            )
        sent += 1
    return sent
