"""Alerts: rules (validated, owned), evaluation after collection and on a schedule,
firings kept unique per window or publication, messages on every channel."""

from .evaluate import EvaluationResult, evaluate_after_collection, evaluate_due, evaluate_rule
from .inbox import (
    NotificationView,
    list_notifications,
    mark_all_read,
    mark_read,
    unread_count,
)
from .preview import Preview, PreviewHit, preview_rule
from .rules import (
    CHANNELS,
    COMPARISONS,
    METRICS,
    RULE_TYPES,
    SCOPES,
    AlertRuleError,
    FiringView,
    RuleView,
    create_alert_rule,
    delete_alert_rule,
    get_alert_rule,
    list_alert_rules,
    rule_history,
    set_alert_rule_enabled,
    update_alert_rule,
    user_tags,
)
from .windows import WINDOWS

__all__ = [
    "CHANNELS",
    "COMPARISONS",
    "METRICS",
    "RULE_TYPES",
    "SCOPES",
    "WINDOWS",
    "AlertRuleError",
    "EvaluationResult",
    "FiringView",
    "NotificationView",
    "Preview",
    "PreviewHit",
    "RuleView",
    "create_alert_rule",
    "delete_alert_rule",
    "evaluate_after_collection",
    "evaluate_due",
    "evaluate_rule",
    "get_alert_rule",
    "list_alert_rules",
    "list_notifications",
    "mark_all_read",
    "mark_read",
    "preview_rule",
    "rule_history",
    "set_alert_rule_enabled",
    "unread_count",
    "update_alert_rule",
    "user_tags",
]
