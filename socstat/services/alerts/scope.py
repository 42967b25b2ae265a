"""Which sources a rule watches: its scope resolved by services/analytics against its
owner's current access (tracked content kinds included)."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session

from socstat.models import AlertRule, ContentKind, User
from socstat.services.analytics import ResolvedScope, Scope, resolve_scope
from socstat.services.analytics.alerting import COUNT_METRICS
from socstat.services.authz import PermissionDenied


def rule_kinds(rule: AlertRule) -> tuple[str, ...]:
    """The content kinds a rule counts: its metric's kind, its chosen kind, or all."""
    if rule.metric in COUNT_METRICS and rule.rule_type != "baseline":
        return (COUNT_METRICS[rule.metric],)
    return (rule.kind,) if rule.kind else ContentKind.ALL


def analytics_scope(rule: AlertRule, owner: User) -> Scope:
    kinds = rule_kinds(rule)
    if rule.scope == "source" and rule.source_id is not None:
        return Scope(source_ids=(rule.source_id,), kinds=kinds)
    if rule.scope == "tag":
        return Scope(user_id=owner.id, tags=(rule.tag,), kinds=kinds)
    if rule.scope == "team":
        return Scope(kinds=kinds)  # the director's own and team's sources; admin: all
    return Scope(user_id=owner.id, kinds=kinds)


def rule_scope(
    session: Session, rule: AlertRule, owner: User, only: Collection[int] | None = None
) -> ResolvedScope:
    """The rule's sources the owner may read now (narrowed to ``only``); a source the
    owner lost access to is simply not watched any more."""
    try:
        resolved = resolve_scope(session, actor=owner, scope=analytics_scope(rule, owner))
    except PermissionDenied:
        return ResolvedScope(sources=(), kinds=rule_kinds(rule))
    if only is None:
        return resolved
    return narrowed(resolved, only)


def narrowed(resolved: ResolvedScope, only: Collection[int]) -> ResolvedScope:
    return ResolvedScope(
        sources=tuple(s for s in resolved.sources if s.id in only),
        kinds=resolved.kinds,
        owners=resolved.owners,
    )
