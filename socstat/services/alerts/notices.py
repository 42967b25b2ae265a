"""Messages about firings: in-app notifications at once; email, SMS and Telegram through
the outbox, held during the rule's quiet hours (in the owner's zone) and then sent as one
digest. Every message has a dedup key, so nothing is queued twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

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


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if value == int(value):
        return f"{int(value):,}".replace(",", " ")
    return f"{value:.2f}"


def publication_url(source: Source, item: ContentItem) -> str:
    kind = "clip" if item.kind == "clip" else "video" if item.kind == "video" else "wall"
    return f"https://vk.com/{kind}-{source.external_id}_{item.external_id}"


def firing_message(session: Session, rule: AlertRule, firing: AlertFiring) -> Message:
    source = session.get(Source, firing.source_id) if firing.source_id else None
    name = source.name or source.screen_name if source is not None else "источник"
    link = f"/sources/{source.id}" if source is not None else "/alerts"
    title_rule = rule.name or describe(rule)
    if firing.state == FiringState.RESOLVED:
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
                f"Публикация{preview}: {metric.lower()} {_number(firing.value)} — в "
                f"{ratio:.1f} раза больше медианы {_number(firing.reference)}. {url}"
            ).strip(),
            link=link,
        )
    window = (
        firing.window_start.strftime("%d.%m.%Y")
        if firing.window_start == firing.window_end and firing.window_start
        else f"{firing.window_start:%d.%m.%Y}–{firing.window_end:%d.%m.%Y}"
    )
    versus = ""
    if rule.comparison in ("rise_pct", "fall_pct") and firing.reference is not None:
        versus = f" (прошлый период: {_number(firing.reference)})"
    return Message(
        title=f"{title_rule}: {name}",
        body=f"{metric} за {window}: {_number(firing.value)}{versus}. Условие: {describe(rule)}.",
        link=link,
    )


def add_notification(
    session: Session, *, user_id: int, kind: str, message: Message, dedup_key: str
) -> None:
    """An in-app notification, once per ``dedup_key``."""
    exists = session.exec(
        select(Notification.id).where(Notification.dedup_key == dedup_key)
    ).first()
    if exists is None:
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


def send_digests(session: Session, *, now: datetime) -> int:
    """One digest per rule whose quiet hours are over, listing every held firing;
    returns how many digests were queued."""
    held = session.exec(
        select(AlertFiring)
        .where(AlertFiring.pending != "")
        .order_by(col(AlertFiring.rule_id), col(AlertFiring.id))
    ).all()
    by_rule: dict[int, list[AlertFiring]] = {}
    for firing in held:
        by_rule.setdefault(firing.rule_id, []).append(firing)
    sent = 0
    for rule_id, firings in by_rule.items():
        rule = session.get(AlertRule, rule_id)
        owner = session.get(User, rule.owner_id) if rule is not None else None
        if rule is None or owner is None or in_quiet_hours(rule, owner, now):
            continue
        lines = [
            f"• {m.title}: {m.body}" for m in (firing_message(session, rule, f) for f in firings)
        ]
        message = Message(
            title=f"Сводка за тихие часы: {rule.name or describe(rule)} ({len(firings)})",
            body="\n".join(lines),
            link="/alerts",
        )
        dedup = f"alert-digest:{rule_id}:{firings[0].id}-{firings[-1].id}"
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
        for firing in firings:
            firing.pending = ""
            session.add(firing)
        sent += 1
    return sent
