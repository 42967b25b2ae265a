"""The in-app notification centre: a user's own notifications only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from socstat.models import Notification, User, utcnow
from socstat.services.authz import require_active

KINDS = {"alert": "Оповещения", "system": "Система", "report": "Отчёты", "info": "Прочее"}


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read: bool


def unread_count(session: Session, *, actor: User | None) -> int:
    user = require_active(actor)
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, col(Notification.read_at).is_(None))
    ).one()


def list_notifications(
    session: Session,
    *,
    actor: User | None,
    kind: str | None = None,
    unread_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[NotificationView]:
    """The actor's notifications, newest first (filters: kind, unread only)."""
    user = require_active(actor)
    query = select(Notification).where(Notification.user_id == user.id)
    if kind in KINDS:
        query = query.where(Notification.kind == kind)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    query = query.order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
    rows = session.exec(query.offset(max(0, offset)).limit(max(1, min(limit, 200)))).all()
    return [
        NotificationView(
            id=n.id or 0,
            kind=n.kind,
            title=n.title,
            body=n.body,
            link=n.link,
            created_at=n.created_at,
            read=n.read_at is not None,
        )
        for n in rows
    ]


def mark_read(session: Session, *, actor: User | None, notification_id: int) -> bool:
    """Mark one of the actor's notifications read; False when it is not theirs."""
    user = require_active(actor)
    note = session.get(Notification, notification_id) if isinstance(notification_id, int) else None
    if note is None or note.user_id != user.id:
        return False
    if note.read_at is None:
        note.read_at = utcnow()
        session.add(note)
    return True


def mark_all_read(session: Session, *, actor: User | None) -> int:
    user = require_active(actor)
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0
