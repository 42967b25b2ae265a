"""Alert rules: validated, owned by a user, checked against the acting user.

A user reads and edits their own rules; a director reads their team's, an admin all
(the same policy as for the rest of a user's data). Rules are private otherwise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from socstat.models import (
    AlertFiring,
    AlertRule,
    ContentKind,
    Outbox,
    OutboxStatus,
    Role,
    Source,
    Subscription,
    TelegramLink,
    User,
    UserPhone,
    utcnow,
)
from socstat.services import audit
from socstat.services.analytics import Scope, resolve_scope
from socstat.services.analytics.alerting import (
    BASELINE_METRICS,
    COUNT_METRICS,
    ER_METRICS,
    WINDOW_METRICS,
)
from socstat.services.analytics.filters import METRIC_LABELS
from socstat.services.analytics.scope import source_name
from socstat.services.authz import (
    PermissionDenied,
    ensure_can_read_user_data,
    ensure_can_write_user_data,
    is_admin,
    require_active,
    visible_user_ids,
)
from socstat.services.delivery import sms, telegram
from socstat.services.delivery.outbox import FAILED_AT
from socstat.services.sources import visible_source_ids

from .windows import WINDOWS

METRICS = METRIC_LABELS
COMPARISONS = {
    "ge": "не меньше",
    "le": "не больше",
    "rise_pct": "выросло на, % к прошлому периоду",
    "fall_pct": "упало на, % к прошлому периоду",
}
RULE_TYPES = {"threshold": "Порог", "baseline": "Публикация выше обычного"}
SCOPES = {
    "source": "Один источник",
    "tag": "Источники с тегом",
    "mine": "Все мои источники",
    "team": "Источники команды",
}
CHANNELS = {"inapp": "в приложении", "email": "почта", "sms": "SMS", "telegram": "Telegram"}
BASELINE_KINDS = (ContentKind.POST, ContentKind.CLIP)
BASELINE_SAMPLE = 20
PROFILE_LINK = "/profile#channels"  # the phone and Telegram section
PROFILE_EMAIL_LINK = "/profile"
ADMIN_CHANNELS_LINK = "/admin?tab=settings"  # the SMS and Telegram section
RULE_REF = "alert_rule_id"  # outbox payload: the rule a message was sent for
UNDELIVERED = "undelivered"  # a history entry: a message the outbox gave up on
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_WHOLE_METRICS = (*COUNT_METRICS, "likes", "reposts", "comments", "views", "members")


class AlertRuleError(ValueError):
    """A rule that cannot be saved; the message (Russian) names the field. ``link`` points
    to where the missing set-up is done, when there is one."""

    def __init__(self, message: str, *, link: str = "") -> None:
        super().__init__(message)
        self.link = link


@dataclass(frozen=True)
class RuleView:
    id: int
    owner_id: int
    name: str
    rule_type: str
    scope: str
    source_id: int | None
    tag: str
    metric: str
    kind: str | None
    comparison: str
    threshold: float
    window: str
    channels: list[str]
    quiet_from: str
    quiet_to: str
    notify_resolved: bool
    enabled: bool
    last_triggered_at: datetime | None
    description: str


@dataclass(frozen=True)
class FiringView:
    id: int
    rule_id: int
    state: str
    source_id: int | None
    content_item_id: int | None
    window_label: str
    value: float | None
    reference: float | None
    reason: str
    created_at: datetime
    resolved_at: datetime | None
    source_name: str = ""
    channel: str = ""  # undelivered entries: the channel the message failed on


@dataclass(frozen=True)
class SourceChoice:
    id: int
    name: str


def describe(rule: AlertRule) -> str:
    """The rule in plain Russian, e.g. «Просмотры за сутки не меньше 100000»."""
    number = f"{rule.threshold:g}"
    if rule.rule_type == "baseline":
        kind = "пост" if rule.kind == ContentKind.POST else "клип"
        return (
            f"{kind.capitalize()} набрал {METRICS[rule.metric].lower()} ≥ {number}× медианы "
            f"последних {BASELINE_SAMPLE} публикаций"
        )
    condition = {
        "ge": f"≥ {number}",
        "le": f"≤ {number}",
        "rise_pct": f"выросли на {number} % и больше к прошлому периоду",
        "fall_pct": f"упали на {number} % и больше к прошлому периоду",
    }[rule.comparison]
    return f"{METRICS[rule.metric]} {WINDOWS[rule.window]} {condition}"


def rule_view(rule: AlertRule) -> RuleView:
    return RuleView(
        id=rule.id or 0,
        owner_id=rule.owner_id,
        name=rule.name,
        rule_type=rule.rule_type,
        scope=rule.scope,
        source_id=rule.source_id,
        tag=rule.tag,
        metric=rule.metric,
        kind=rule.kind,
        comparison=rule.comparison,
        threshold=rule.threshold,
        window=rule.window,
        channels=list(rule.channels),
        quiet_from=rule.quiet_from,
        quiet_to=rule.quiet_to,
        notify_resolved=rule.notify_resolved,
        enabled=rule.enabled,
        last_triggered_at=rule.last_triggered_at,
        description=describe(rule),
    )


def list_alert_rules(
    session: Session, *, actor: User | None, own_only: bool = False
) -> list[RuleView]:
    """Rules the actor may read (own only with ``own_only``), oldest first."""
    user = require_active(actor)
    owners = {user.id} if own_only else visible_user_ids(session, user)
    query = select(AlertRule).order_by(col(AlertRule.id))
    if owners is not None:
        query = query.where(col(AlertRule.owner_id).in_(sorted(owners)))
    return [rule_view(r) for r in session.exec(query).all()]


def source_choices(session: Session, *, actor: User | None) -> list[SourceChoice]:
    """The sources the actor tracks, for the rule form (ordered by name)."""
    user = require_active(actor)
    resolved = resolve_scope(session, actor=user, scope=Scope(user_id=user.id))
    return [SourceChoice(s.id, s.name) for s in resolved.sources]


def user_tags(session: Session, *, user_id: int) -> list[str]:
    """The tags the user put on their subscriptions (comma-separated in ``tags``)."""
    rows = session.exec(select(Subscription.tags).where(Subscription.user_id == user_id)).all()
    return sorted({t.strip() for row in rows for t in row.split(",") if t.strip()})


def _not_set_up(user: User, what: str) -> AlertRuleError:
    """A channel the admins have not set up: an admin gets the link to the settings."""
    if is_admin(user):
        return AlertRuleError(
            f"{what} не настроен: задайте его в разделе «Администрирование → Настройки».",
            link=ADMIN_CHANNELS_LINK,
        )
    return AlertRuleError(f"{what} не настроен: обратитесь к администратору.")


def channel_problem(session: Session, user: User, channel: str) -> AlertRuleError | None:
    """Why ``channel`` cannot be used by ``user`` yet (with where to fix it), or None."""
    if channel == "email" and user.confirmed_at is None:
        return AlertRuleError(
            "Почта не подтверждена: подтвердите адрес в профиле.", link=PROFILE_EMAIL_LINK
        )
    if channel == "sms":
        if sms.gateway_config(session) is None:
            return _not_set_up(user, "SMS-шлюз")
        phone = session.get(UserPhone, user.id)
        if phone is None or phone.confirmed_at is None:
            return AlertRuleError(
                "Для SMS добавьте и подтвердите номер телефона в профиле.", link=PROFILE_LINK
            )
    if channel == "telegram":
        if telegram.bot_config(session) is None:
            return _not_set_up(user, "Telegram-бот")
        link = session.get(TelegramLink, user.id)
        if link is None or link.chat_id is None:
            return AlertRuleError("Для Telegram привяжите чат в профиле.", link=PROFILE_LINK)
    return None


def _number(value: Any, message: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AlertRuleError(message)
    return float(value)


def _check_threshold(metric: str, comparison: str, threshold: float) -> None:
    if threshold < 0:
        raise AlertRuleError("Порог должен быть неотрицательным числом.")
    if comparison == "rise_pct" and not 0 < threshold <= 10000:
        raise AlertRuleError("Рост задаётся в процентах: больше 0 и не больше 10000.")
    if comparison == "fall_pct" and not 0 < threshold <= 100:
        raise AlertRuleError("Падение задаётся в процентах: больше 0 и не больше 100.")
    if comparison in ("ge", "le"):
        if metric in ER_METRICS and threshold > 1000:
            raise AlertRuleError("ER задаётся в процентах: не больше 1000.")
        if metric in _WHOLE_METRICS and threshold != int(threshold):
            raise AlertRuleError("Порог для количества — целое число.")


def _check_scope(
    session: Session, user: User, scope: str, source_id: int | None, tag: str
) -> tuple[int | None, str]:
    if scope not in SCOPES:
        raise AlertRuleError("Неизвестная область правила.")
    if scope == "source":
        if source_id is None:
            raise AlertRuleError("Выберите источник.")
        visible = visible_source_ids(session, actor=user)
        if visible is not None and source_id not in visible:
            raise PermissionDenied("Нет доступа к этому источнику.")
        return source_id, ""
    if scope == "tag":
        tag = tag.strip()
        if tag not in user_tags(session, user_id=user.id or 0):
            raise AlertRuleError("Выберите тег, который стоит у ваших источников.")
        return None, tag
    if scope == "team" and user.role not in (Role.DIRECTOR, Role.ADMIN):
        raise AlertRuleError("Правило по источникам команды доступно руководителю.")
    return None, ""


def _check_quiet(quiet_from: str, quiet_to: str) -> tuple[str, str]:
    quiet_from, quiet_to = quiet_from.strip(), quiet_to.strip()
    if not quiet_from and not quiet_to:
        return "", ""
    if not (_HHMM.match(quiet_from) and _HHMM.match(quiet_to)):
        raise AlertRuleError("Тихие часы задаются как ЧЧ:ММ — ЧЧ:ММ (например 23:00 — 08:00).")
    if quiet_from == quiet_to:
        raise AlertRuleError("Начало и конец тихих часов совпадают.")
    return quiet_from, quiet_to


def _validated(
    session: Session,
    actor: User,
    *,
    name: str,
    metric: str,
    comparison: str = "ge",
    threshold: Any,
    window: str = "day",
    channels: list[str],
    kind: str | None = None,
    source_id: int | None = None,
    rule_type: str = "threshold",
    scope: str | None = None,
    tag: str = "",
    quiet_from: str = "",
    quiet_to: str = "",
    notify_resolved: bool = False,
) -> dict[str, Any]:
    if rule_type not in RULE_TYPES:
        raise AlertRuleError("Неизвестный тип правила.")
    value = _number(threshold, "Порог должен быть числом.")
    if rule_type == "baseline":
        if metric not in BASELINE_METRICS:
            raise AlertRuleError("Для публикаций сравниваются просмотры, лайки или ERview.")
        if kind not in BASELINE_KINDS:
            raise AlertRuleError("Выберите, что сравнивать: посты или клипы.")
        if not 1 < value <= 1000:
            raise AlertRuleError("Во сколько раз выше медианы: больше 1 и не больше 1000.")
        comparison, window = "ge", "day"
    else:
        if metric not in WINDOW_METRICS:
            raise AlertRuleError("Неизвестный показатель.")
        if comparison not in COMPARISONS:
            raise AlertRuleError("Неизвестное условие.")
        if window not in WINDOWS:
            raise AlertRuleError("Неизвестный период.")
        if kind is not None and kind not in ContentKind.ALL:
            raise AlertRuleError("Неизвестный тип контента.")
        if metric in COUNT_METRICS or metric == "members":
            kind = None
        _check_threshold(metric, comparison, value)
    if not channels or any(c not in CHANNELS for c in channels):
        raise AlertRuleError("Выберите хотя бы один канал из списка.")
    channels = list(dict.fromkeys(channels))
    for channel in channels:
        problem = channel_problem(session, actor, channel)
        if problem is not None:
            raise problem
    scope = scope or ("source" if source_id is not None else "mine")
    source_id, tag = _check_scope(session, actor, scope, source_id, tag)
    quiet_from, quiet_to = _check_quiet(quiet_from, quiet_to)
    return {
        "name": name.strip()[:200],
        "rule_type": rule_type,
        "metric": metric,
        "comparison": comparison,
        "threshold": value,
        "window": window,
        "channels": channels,
        "kind": kind,
        "scope": scope,
        "source_id": source_id,
        "tag": tag,
        "quiet_from": quiet_from,
        "quiet_to": quiet_to,
        "notify_resolved": bool(notify_resolved),
    }


def validate_rule(session: Session, *, actor: User | None, **fields: Any) -> AlertRule:
    """An unsaved rule from ``fields`` (for a preview); AlertRuleError when invalid."""
    user = require_active(actor)
    return AlertRule(owner_id=user.id, **_validated(session, user, **fields))


def create_alert_rule(
    session: Session, *, actor: User | None, ip: str = "", **fields: Any
) -> RuleView:
    """A new rule owned by the actor (fields: name, rule_type, scope, source_id, tag, metric,
    kind, comparison, threshold, window, channels, quiet_from, quiet_to, notify_resolved)."""
    user = require_active(actor)
    rule = AlertRule(owner_id=user.id, **_validated(session, user, **fields))
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor=user,
        action="alert.create",
        target_type="alert",
        target_id=rule.id or "",
        ip=ip,
    )
    return rule_view(rule)


def _rule(session: Session, actor: User | None, rule_id: int) -> AlertRule:
    rule = session.get(AlertRule, rule_id) if isinstance(rule_id, int) else None
    if rule is None:
        raise LookupError("Правило не найдено.")
    try:
        ensure_can_read_user_data(session, actor, rule.owner_id)
    except PermissionDenied:
        raise LookupError("Правило не найдено.") from None
    return rule


def get_alert_rule(session: Session, *, actor: User | None, rule_id: int) -> RuleView:
    return rule_view(_rule(session, actor, rule_id))


def update_alert_rule(
    session: Session, *, actor: User | None, rule_id: int, ip: str = "", **fields: Any
) -> RuleView:
    """Replace a rule's settings (the same fields as for creating). Its history stays."""
    rule = _rule(session, actor, rule_id)
    ensure_can_write_user_data(session, actor, rule.owner_id)
    owner = session.get(User, rule.owner_id)
    for name, value in _validated(session, require_active(owner), **fields).items():
        setattr(rule, name, value)
    rule.updated_at = utcnow()
    session.add(rule)
    audit.record(
        session, actor=actor, action="alert.update", target_type="alert", target_id=rule_id, ip=ip
    )
    return rule_view(rule)


def set_alert_rule_enabled(
    session: Session, *, actor: User | None, rule_id: int, enabled: bool, ip: str = ""
) -> RuleView:
    rule = _rule(session, actor, rule_id)
    ensure_can_write_user_data(session, actor, rule.owner_id)
    rule.enabled = bool(enabled)
    session.add(rule)
    audit.record(
        session,
        actor=actor,
        action="alert.enable" if enabled else "alert.disable",
        target_type="alert",
        target_id=rule_id,
        ip=ip,
    )
    return rule_view(rule)


def delete_alert_rule(session: Session, *, actor: User | None, rule_id: int, ip: str = "") -> None:
    rule = _rule(session, actor, rule_id)
    ensure_can_write_user_data(session, actor, rule.owner_id)
    audit.record(
        session, actor=actor, action="alert.delete", target_type="alert", target_id=rule_id, ip=ip
    )
    session.delete(rule)
    session.flush()


def firing_view(firing: AlertFiring, source_name: str = "") -> FiringView:
    label = ""
    if firing.window_start is not None and firing.window_end is not None:
        start, end = firing.window_start, firing.window_end
        label = (
            start.strftime("%d.%m.%Y")
            if start == end
            else f"{start.strftime('%d.%m.%Y')}–{end.strftime('%d.%m.%Y')}"
        )
    return FiringView(
        id=firing.id or 0,
        rule_id=firing.rule_id,
        state=firing.state,
        source_id=firing.source_id,
        content_item_id=firing.content_item_id,
        window_label=label,
        value=firing.value,
        reference=firing.reference,
        reason=firing.reason,
        created_at=firing.created_at,
        resolved_at=firing.resolved_at,
        source_name=source_name,
    )


def rule_history(
    session: Session, *, actor: User | None, rule_id: int, limit: int = 100
) -> list[FiringView]:
    """The rule's firings, back-to-normal and skipped entries, and the messages sent for
    it that the outbox gave up on (state ``undelivered``: channel, reason, time), newest
    first."""
    rule = _rule(session, actor, rule_id)
    limit = max(1, min(limit, 500))
    rows = session.exec(
        select(AlertFiring, Source)
        .outerjoin(Source, col(Source.id) == AlertFiring.source_id)
        .where(AlertFiring.rule_id == rule.id)
        .order_by(col(AlertFiring.created_at).desc(), col(AlertFiring.id).desc())
        .limit(limit)
    ).all()
    entries = [firing_view(f, source_name(s) if s is not None else "") for f, s in rows]
    entries += _undelivered(session, rule.id or 0, limit)
    entries.sort(key=lambda e: e.created_at, reverse=True)
    return entries[:limit]


def _undelivered(session: Session, rule_id: int, limit: int) -> list[FiringView]:
    failed = session.exec(
        select(Outbox)
        .where(
            Outbox.status == OutboxStatus.FAILED,
            col(Outbox.payload)[RULE_REF].as_integer() == rule_id,
        )
        .order_by(col(Outbox.id).desc())
        .limit(limit)
    ).all()
    return [
        FiringView(
            id=row.id or 0,
            rule_id=rule_id,
            state=UNDELIVERED,
            source_id=None,
            content_item_id=None,
            window_label="",
            value=None,
            reference=None,
            reason=f"{CHANNELS.get(row.channel, row.channel)}: {row.last_error}"[:1000],
            created_at=_failed_at(row),
            resolved_at=None,
            channel=row.channel,
        )
        for row in failed
    ]


def _failed_at(row: Outbox) -> datetime:
    raw = (row.payload or {}).get(FAILED_AT)
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else row.created_at
    except ValueError:
        return row.created_at
