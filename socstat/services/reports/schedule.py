"""Scheduled reports: who gets which, when; exactly once per user × kind × period.

``create_due`` writes a pending report for every scheduled moment in the catch-up window
that has no report yet; the unique ``schedule_key`` makes a second run, a restart or a
second process create nothing new. ``run_due`` (the CLI and the scheduler job) creates
and then generates them; each finished scheduled report queues its email once.
"""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from socstat.db import session_scope
from socstat.models import (
    Report,
    ReportKind,
    ReportRecipient,
    ReportSchedule,
    Subscription,
    User,
    utcnow,
)
from socstat.services.accounts import AccountError, validate_email
from socstat.services.authz import ensure_can_write_user_data, require_active
from socstat.services.reports.generation import (
    ReportError,
    make_scope,
    process_pending,
    validate_formats,
)
from socstat.services.reports.periods import due_reports, schedule_key
from socstat.settings import get_settings

MAX_RECIPIENTS = 10


@dataclass(frozen=True)
class DeliverySettings:
    daily: bool
    weekly: bool
    monthly: bool
    formats: list[str]
    paused: bool
    recipients: list[tuple[str, bool]]  # (address, confirmed)


@dataclass
class RunDueResult:
    created: list[int] = field(default_factory=list)
    generated: list[int] = field(default_factory=list)


def user_zone(user: User) -> tzinfo:
    """The zone a user's scheduled reports follow: their own, else the installation's."""
    if user.timezone:
        try:
            return zoneinfo.ZoneInfo(user.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return get_settings().tz


def _schedule_row(session: Session, user_id: int) -> ReportSchedule:
    row = session.exec(select(ReportSchedule).where(ReportSchedule.user_id == user_id)).first()
    return row or ReportSchedule(user_id=user_id)


def _enabled_kinds(row: ReportSchedule) -> list[str]:
    if row.paused:
        return []
    flags = {
        ReportKind.DAILY: row.daily,
        ReportKind.WEEKLY: row.weekly,
        ReportKind.MONTHLY: row.monthly,
    }
    return [kind for kind, on in flags.items() if on]


def _tracking_user_ids(session: Session) -> set[int]:
    return set(session.exec(select(Subscription.user_id).distinct()).all())


def catch_up_window() -> timedelta:
    """How far back missed scheduled reports are still made (SOCSTAT_REPORTS_CATCH_UP_DAYS)."""
    return timedelta(days=get_settings().reports_catch_up_days)


def create_due(session: Session, *, now: datetime, window: timedelta | None = None) -> list[int]:
    """Pending reports for every due moment in (now - window, now] not made yet, for every
    active user tracking a source (not before the user existed). Caller commits."""
    window = catch_up_window() if window is None else window
    tracking = _tracking_user_ids(session)
    if not tracking:
        return []
    users = session.exec(
        select(User).where(col(User.id).in_(sorted(tracking)), col(User.blocked_at).is_(None))
    ).all()
    schedules = {
        row.user_id: row
        for row in session.exec(
            select(ReportSchedule).where(col(ReportSchedule.user_id).in_(sorted(tracking)))
        ).all()
    }
    created = []
    for user in users:
        schedule = schedules.get(user.id or 0) or ReportSchedule(user_id=user.id or 0)
        since = max(now - window, user.created_at)
        for kind in _enabled_kinds(schedule):
            for due in due_reports(kind, zone=user_zone(user), since=since, until=now):
                report_id = _insert_once(session, user, schedule, due.kind, due.start, due.end)
                if report_id is not None:
                    created.append(report_id)
    return created


def _insert_once(
    session: Session,
    user: User,
    schedule: ReportSchedule,
    kind: str,
    start,
    end,  # type: ignore[no-untyped-def]
) -> int | None:
    key = schedule_key(user.id or 0, kind, start)
    if session.exec(select(Report.id).where(Report.schedule_key == key)).first() is not None:
        return None
    report = Report(
        owner_id=user.id or 0,
        kind=kind,
        period_start=start,
        period_end=end,
        scope=make_scope(),
        formats=list(schedule.formats or ["xlsx"]),
        schedule_key=key,
        send_email=True,
    )
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:  # another process made it between our check and insert
        return None
    return report.id


def run_due(*, now: datetime | None = None, window: timedelta | None = None) -> RunDueResult:
    """Create the due scheduled reports, then generate every claimable report."""
    now = now or utcnow()
    result = RunDueResult()
    with session_scope() as session:
        result.created = create_due(session, now=now, window=window)
    result.generated = process_pending(now=now)
    return result


# --- delivery settings -----------------------------------------------------------------


def delivery_settings(session: Session, *, actor: User | None) -> DeliverySettings:
    user = require_active(actor)
    row = _schedule_row(session, user.id or 0)
    recipients = session.exec(
        select(ReportRecipient)
        .where(ReportRecipient.user_id == user.id)
        .order_by(col(ReportRecipient.email))
    ).all()
    return DeliverySettings(
        daily=row.daily,
        weekly=row.weekly,
        monthly=row.monthly,
        formats=list(row.formats or ["xlsx"]),
        paused=row.paused,
        recipients=[(r.email, r.confirmed_at is not None) for r in recipients],
    )


def save_delivery_settings(
    session: Session,
    *,
    actor: User | None,
    daily: bool,
    weekly: bool,
    monthly: bool,
    formats: Sequence[str],
    paused: bool,
) -> DeliverySettings:
    user = require_active(actor)
    ensure_can_write_user_data(session, actor, user.id or 0)
    row = _schedule_row(session, user.id or 0)
    row.daily, row.weekly, row.monthly, row.paused = daily, weekly, monthly, paused
    row.formats = validate_formats(formats)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return delivery_settings(session, actor=user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_recipient(session: Session, *, actor: User | None, email: str) -> str:
    """Add an extra address (unconfirmed) and queue its confirmation email; returns the
    normalised address. It receives reports only after following the link."""
    from socstat.services.reports.email import queue_recipient_confirmation

    user = require_active(actor)
    try:
        address = validate_email(email)
    except AccountError as exc:
        raise ReportError(str(exc)) from None
    existing = session.exec(
        select(ReportRecipient).where(
            ReportRecipient.user_id == user.id, ReportRecipient.email == address
        )
    ).all()
    if existing:
        raise ReportError("Этот адрес уже добавлен.")
    count = len(
        session.exec(select(ReportRecipient.id).where(ReportRecipient.user_id == user.id)).all()
    )
    if count >= MAX_RECIPIENTS:
        raise ReportError(f"Можно добавить не больше {MAX_RECIPIENTS} адресов.")
    token = secrets.token_urlsafe(32)
    row = ReportRecipient(user_id=user.id or 0, email=address, token_hash=_token_hash(token))
    session.add(row)
    session.flush()
    queue_recipient_confirmation(session, owner=user, address=address, token=token)
    return address


def remove_recipient(session: Session, *, actor: User | None, email: str) -> None:
    user = require_active(actor)
    for row in session.exec(
        select(ReportRecipient).where(
            ReportRecipient.user_id == user.id, ReportRecipient.email == email.strip().lower()
        )
    ).all():
        session.delete(row)
    session.flush()


def confirm_recipient(session: Session, *, token: str) -> str:
    """Confirm the address a link was sent to; returns it. LookupError for a bad link."""
    row = session.exec(
        select(ReportRecipient).where(ReportRecipient.token_hash == _token_hash(token.strip()))
    ).first()
    if row is None:
        raise LookupError("Ссылка недействительна.")
    if row.confirmed_at is None:
        row.confirmed_at = utcnow()
        session.add(row)
        session.flush()
    return row.email


def confirmed_recipients(session: Session, user_id: int) -> list[str]:
    rows = session.exec(
        select(ReportRecipient.email).where(
            ReportRecipient.user_id == user_id, col(ReportRecipient.confirmed_at).is_not(None)
        )
    ).all()
    return sorted(rows)
