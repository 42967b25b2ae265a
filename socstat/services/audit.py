"""The audit trail: record who did what, and let admins browse it.

Well-known actions: auth.sign_in, auth.sign_in_failed, auth.sign_out, auth.sign_out_all,
auth.lockout, auth.password_changed, auth.password_reset_requested, auth.password_reset,
auth.registered, auth.confirmed, auth.invitation_accepted, auth.2fa_enabled,
auth.2fa_disabled, auth.2fa_reset, auth.recovery_codes_regenerated, auth.session_revoked,
user.created, user.invited, user.role_changed, user.blocked, user.unblocked,
user.teams_changed, user.sessions_revoked, user.email_change_requested,
user.email_change_cancelled, user.email_changed, team.created, team.renamed,
team.director_changed, team.members_changed, team.deleted, settings.changed, token.added,
token.removed, email.test, source.add, source.remove, alert.create, alert.enable,
alert.delete, report.download, report.delete.
Details never contain secrets (passwords, tokens, codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from socstat.models.accounts import User
from socstat.models.audit import AuditEvent
from socstat.services.authz import require_admin

_SECRET_KEYS = ("password", "token", "secret", "code")


@dataclass(frozen=True)
class AuditPage:
    """One page of audit events (plain dicts for the UI) and the total matching count."""

    items: list[dict[str, Any]]
    total: int


def _clean(details: dict[str, Any] | None) -> dict[str, Any]:
    if not details:
        return {}
    return {
        key: ("***" if any(s in key.lower() for s in _SECRET_KEYS) else value)
        for key, value in details.items()
    }


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    target_type: str = "",
    target_id: str | int = "",
    details: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEvent:
    """Add an audit event to the session (committed with the caller's transaction)."""
    event = AuditEvent(
        user_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else "",
        action=action[:64],
        target_type=target_type[:32],
        target_id=str(target_id)[:64],
        details=_clean(details),
        ip=(ip or "")[:64],
    )
    session.add(event)
    return event


def event_to_dict(event: AuditEvent) -> dict[str, Any]:
    """An audit event as a plain dict."""
    return {
        "id": event.id,
        "created_at": event.created_at,
        "user_id": event.user_id,
        "actor_email": event.actor_email,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "details": dict(event.details or {}),
    }


def list_events(
    session: Session,
    *,
    actor: User | None,
    user_id: int | None = None,
    action: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """Admin only: events newest first, filtered by acting user, action (exact, or prefix
    when it ends with '.' or '*'), and a [date_from, date_to) range of aware datetimes."""
    require_admin(actor)
    query = select(AuditEvent)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if action:
        if action.endswith(("*", ".")):
            query = query.where(col(AuditEvent.action).startswith(action.rstrip("*")))
        else:
            query = query.where(AuditEvent.action == action)
    if date_from is not None:
        query = query.where(AuditEvent.created_at >= date_from)
    if date_to is not None:
        query = query.where(AuditEvent.created_at < date_to)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    limit = max(1, min(int(limit), 500))
    rows = session.exec(
        query.order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(max(0, int(offset)))
    ).all()
    return AuditPage(items=[event_to_dict(row) for row in rows], total=int(total))
