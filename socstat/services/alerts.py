"""Threshold alert rules: validated, owned by a user, checked against the acting user.

Evaluating rules after each collection builds on these functions.
"""

from __future__ import annotations

import math
from typing import Any

from sqlmodel import Session, col, select

from socstat.models import AlertRule, ContentKind, User
from socstat.services import audit
from socstat.services.authz import (
    PermissionDenied,
    ensure_can_read_user_data,
    ensure_can_write_user_data,
    require_active,
    visible_user_ids,
)
from socstat.services.sources import visible_source_ids

METRICS = {
    "count": "Публикаций",
    "likes": "Лайков",
    "reposts": "Репостов",
    "comments": "Комментариев",
    "views": "Просмотров",
    "members": "Подписчиков",
}
COMPARISONS = {"gt": "больше", "lt": "меньше", "change_pct": "изменение больше, %"}
WINDOWS = {"day": "за сутки", "week": "за неделю"}
CHANNELS = {"inapp": "в приложении", "email": "почта", "sms": "SMS", "telegram": "Telegram"}


class AlertRuleError(ValueError):
    """A rule that cannot be saved; the message (Russian) names the field."""


def rule_to_dict(rule: AlertRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "owner_id": rule.owner_id,
        "source_id": rule.source_id,
        "name": rule.name,
        "metric": rule.metric,
        "kind": rule.kind,
        "comparison": rule.comparison,
        "threshold": rule.threshold,
        "window": rule.window,
        "channels": list(rule.channels),
        "enabled": rule.enabled,
    }


def list_alert_rules(session: Session, *, actor: User | None) -> list[dict[str, Any]]:
    owners = visible_user_ids(session, actor)
    query = select(AlertRule).order_by(col(AlertRule.id))
    if owners is not None:
        query = query.where(col(AlertRule.owner_id).in_(sorted(owners)))
    return [rule_to_dict(r) for r in session.exec(query).all()]


def _validated(
    session: Session,
    actor: User,
    *,
    name: str,
    metric: str,
    comparison: str,
    threshold: float,
    window: str,
    channels: list[str],
    kind: str | None,
    source_id: int | None,
) -> dict[str, Any]:
    if metric not in METRICS:
        raise AlertRuleError("Неизвестный показатель.")
    if comparison not in COMPARISONS:
        raise AlertRuleError("Неизвестное условие.")
    if window not in WINDOWS:
        raise AlertRuleError("Неизвестный период.")
    if kind is not None and kind not in ContentKind.ALL:
        raise AlertRuleError("Неизвестный тип контента.")
    if not isinstance(threshold, int | float) or not math.isfinite(threshold) or threshold < 0:
        raise AlertRuleError("Порог должен быть неотрицательным числом.")
    if not channels or any(c not in CHANNELS for c in channels):
        raise AlertRuleError("Выберите хотя бы один канал из списка.")
    if source_id is not None:
        visible = visible_source_ids(session, actor=actor)
        if visible is not None and source_id not in visible:
            raise PermissionDenied("Нет доступа к этому источнику.")
    return {
        "name": name.strip()[:200],
        "metric": metric,
        "comparison": comparison,
        "threshold": float(threshold),
        "window": window,
        "channels": list(dict.fromkeys(channels)),
        "kind": kind,
        "source_id": source_id,
    }


def create_alert_rule(
    session: Session, *, actor: User | None, ip: str = "", **fields: Any
) -> dict[str, Any]:
    """A new rule owned by the actor (fields: name, metric, comparison, threshold, window,
    channels, kind, source_id)."""
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
    return rule_to_dict(rule)


def _rule(session: Session, actor: User | None, rule_id: int) -> AlertRule:
    rule = session.get(AlertRule, rule_id)
    if rule is None:
        raise LookupError("Правило не найдено.")
    try:
        ensure_can_read_user_data(session, actor, rule.owner_id)
    except PermissionDenied:
        raise LookupError("Правило не найдено.") from None
    return rule


def get_alert_rule(session: Session, *, actor: User | None, rule_id: int) -> dict[str, Any]:
    return rule_to_dict(_rule(session, actor, rule_id))


def set_alert_rule_enabled(
    session: Session, *, actor: User | None, rule_id: int, enabled: bool, ip: str = ""
) -> dict[str, Any]:
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
    return rule_to_dict(rule)


def delete_alert_rule(session: Session, *, actor: User | None, rule_id: int, ip: str = "") -> None:
    rule = _rule(session, actor, rule_id)
    ensure_can_write_user_data(session, actor, rule.owner_id)
    audit.record(
        session, actor=actor, action="alert.delete", target_type="alert", target_id=rule_id, ip=ip
    )
    session.delete(rule)
    session.flush()
