"""Alerts: rules (validated, owned), evaluation after collection and on a schedule,
firings kept unique per window or publication, messages on every channel.

The names below are loaded on first use (PEP 562): importing the package, or one light
module of it such as `hooks`, does not load the evaluator, delivery channels and
templates — `socstat collect` registers the post-run hook without paying for them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS: dict[str, str] = {
    "EvaluationResult": "evaluate",
    "evaluate_after_collection": "evaluate",
    "evaluate_due": "evaluate",
    "evaluate_rule": "evaluate",
    "NotificationView": "inbox",
    "list_notifications": "inbox",
    "mark_all_read": "inbox",
    "mark_read": "inbox",
    "unread_count": "inbox",
    "Preview": "preview",
    "PreviewHit": "preview",
    "preview_rule": "preview",
    "CHANNELS": "rules",
    "COMPARISONS": "rules",
    "METRICS": "rules",
    "RULE_TYPES": "rules",
    "SCOPES": "rules",
    "AlertRuleError": "rules",
    "FiringView": "rules",
    "RuleView": "rules",
    "SourceChoice": "rules",
    "create_alert_rule": "rules",
    "delete_alert_rule": "rules",
    "get_alert_rule": "rules",
    "list_alert_rules": "rules",
    "rule_history": "rules",
    "set_alert_rule_enabled": "rules",
    "source_choices": "rules",
    "update_alert_rule": "rules",
    "user_tags": "rules",
    "WINDOWS": "windows",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
