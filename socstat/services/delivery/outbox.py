"""Outbox: the queue every outgoing message is written to, and the deliverer that drains it.

``enqueue``/``enqueue_email`` add a row in the caller's transaction (nothing is sent
there). ``deliver_due`` (the scheduler's outbox job, ``socstat outbox send``) claims one
due message at a time — pending → sending with a lease → sent | failed — committing after
each step, so a crash leaves at most the one in-flight message, which is claimed again
when its lease runs out and goes out with the same Message-ID. PostgreSQL deliverers skip
each other's rows (FOR UPDATE SKIP LOCKED); on SQLite one deliverer runs at a time (a
file lock), and the claim itself is a single conditional UPDATE either way. Failures are
retried with exponential back-off up to the row's ``max_attempts``; then the row is
``failed`` until an admin (panel or CLI) re-queues it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from socstat.db import get_engine, session_scope
from socstat.models.accounts import User
from socstat.models.alerts import Outbox, OutboxStatus
from socstat.models.base import utcnow
from socstat.services import audit
from socstat.services.authz import require_admin
from socstat.services.delivery import links
from socstat.services.delivery.channels import (
    Attachment,
    DeliveryError,
    OutgoingMessage,
    get_channel,
    register_channel,
)
from socstat.services.delivery.email_channel import EMAIL, EmailChannel
from socstat.services.delivery.sms import SmsChannel
from socstat.services.delivery.telegram import TelegramChannel
from socstat.services.delivery.templates import render_email
from socstat.services.locks import ProcessLock
from socstat.services.processes import process_name
from socstat.services.system_settings import SettingsValidationError

log = logging.getLogger(__name__)

register_channel(EmailChannel())
register_channel(SmsChannel())
register_channel(TelegramChannel())

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
LEASE = timedelta(minutes=2)  # far longer than one send (SMTP timeout 15 s)
OUTBOX_LOCK_KEY = 0x50C57A7_0B0C
FAILED_AT = "failed_at"  # payload entry: when the message failed for good (ISO moment)


@dataclass
class DeliveryReport:
    """What one ``deliver_due`` pass did (outbox ids)."""

    sent: list[int] = field(default_factory=list)
    logged: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    busy: bool = False  # SQLite: another deliverer was running, this one did nothing


@dataclass(frozen=True)
class OutboxItem:
    """One outbox row as lists show it (recipient masked)."""

    id: int
    channel: str
    recipient: str
    subject: str
    status: str
    attempts: int
    max_attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


# --- queueing -------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    channel: str,
    to: str,
    subject: str,
    body: str,
    payload: dict[str, Any] | None = None,
    dedup_key: str | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> int:
    """Add a message for any registered channel to the outbox in the caller's transaction;
    returns its id. A ``dedup_key`` already present returns the existing row's id (also
    when a concurrent transaction inserted it first). ``payload`` may carry references
    to what the message is about (``alert_rule_id``: the rule whose history shows the
    message if it fails for good)."""
    get_channel(channel)
    if dedup_key:
        existing = _by_dedup_key(session, dedup_key)
        if existing is not None:
            return existing
    row = Outbox(
        channel=channel,
        recipient=to.strip(),
        subject=subject[:500],
        body=body,
        payload=payload or {},
        dedup_key=dedup_key,
        message_id=make_msgid(idstring=secrets.token_hex(6), domain=links.host()),
        max_attempts=max_attempts,
        next_attempt_at=utcnow(),
    )
    if not dedup_key:
        session.add(row)
        session.flush()
        return row.id or 0
    try:
        with session.begin_nested():  # a concurrent insert of the same key must not abort us
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = _by_dedup_key(session, dedup_key)
        if existing is None:
            raise
        return existing
    return row.id or 0


def _by_dedup_key(session: Session, dedup_key: str) -> int | None:
    return session.exec(select(Outbox.id).where(Outbox.dedup_key == dedup_key)).first()


def enqueue_email(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    dedup_key: str | None = None,
    attachments: Sequence[Attachment] = (),
    inline_images: dict[str, Attachment] | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    refs: dict[str, Any] | None = None,
) -> int:
    """Queue an email rendered from ``templates/email/<template>.txt|.html`` with
    ``context`` (in the caller's transaction); returns the outbox id. Attachments are
    files under the data directory (see ``save_attachment``), read when sending;
    ``inline_images`` (content id → image file) are shown by the HTML as ``cid:<id>``;
    ``refs`` are kept in the payload as for :func:`enqueue`."""
    rendered = render_email(template, context)
    payload: dict[str, Any] = {**(refs or {}), "template": template, "html": rendered.html}
    if attachments:
        payload["attachments"] = [item.to_payload() for item in attachments]
    if inline_images:
        payload["inline"] = [
            {**item.to_payload(), "cid": cid} for cid, item in inline_images.items()
        ]
    return enqueue(
        session,
        channel=EMAIL,
        to=to,
        subject=rendered.subject,
        body=rendered.text,
        payload=payload,
        dedup_key=dedup_key,
        max_attempts=max_attempts,
    )


# --- delivering -----------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the given number of failed attempts: 1, 2, 4 … minutes, at most 6 h."""
    return min(BASE_DELAY * (2 ** max(0, attempts - 1)), MAX_DELAY)


def worker_name() -> str:
    return f"{process_name()}:{secrets.token_hex(3)}"


def deliver_due(
    now: datetime | None = None, *, limit: int | None = None, worker: str | None = None
) -> DeliveryReport:
    """Deliver due messages one at a time until none is left (or ``limit`` were tried).
    ``now`` fixes the clock for the whole pass (tests); by default it is read per claim."""
    report = DeliveryReport()
    lock = None if get_engine().dialect.name == "postgresql" else _sqlite_lock()
    if lock is not None and not lock.acquire():
        report.busy = True
        return report
    worker = worker or worker_name()
    try:
        tried = 0
        while limit is None or tried < limit:
            moment = now or utcnow()
            message = _claim_next(moment, worker)
            if message is None:
                break
            tried += 1
            _deliver(message, worker=worker, now=moment, report=report)
    finally:
        if lock is not None:
            lock.release()
    return report


def _sqlite_lock() -> ProcessLock:
    return ProcessLock(key=OUTBOX_LOCK_KEY, name="outbox")


def _due(now: datetime) -> Any:
    return or_(
        and_(Outbox.status == OutboxStatus.PENDING, col(Outbox.next_attempt_at) <= now),
        and_(Outbox.status == OutboxStatus.SENDING, col(Outbox.leased_until) <= now),
    )


def _claim_next(now: datetime, worker: str) -> OutgoingMessage | None:
    """Claim the next due message in one statement and commit; None when none is due."""
    with session_scope() as session:
        pick = (
            select(Outbox.id)
            .where(_due(now))
            .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claimed = session.execute(
            update(Outbox)
            .where(col(Outbox.id) == pick, _due(now))
            .values(
                status=OutboxStatus.SENDING,
                leased_until=now + LEASE,
                claimed_by=worker,
                attempts=Outbox.attempts + 1,
            )
            .returning(Outbox.id)
            .execution_options(synchronize_session=False)
        ).scalar()
        if claimed is None:
            return None
        row = session.get(Outbox, claimed)
        assert row is not None
        return OutgoingMessage(
            id=claimed,
            channel=row.channel,
            recipient=row.recipient,
            subject=row.subject,
            body=row.body,
            message_id=row.message_id,
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            payload=dict(row.payload or {}),
        )


def _deliver(
    message: OutgoingMessage, *, worker: str, now: datetime, report: DeliveryReport
) -> None:
    note = ""
    error: DeliveryError | None = None
    with session_scope() as session:
        try:
            note = get_channel(message.channel).send(session, message)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a bug in a channel must not stop the queue
            log.exception("outbox %s: unexpected error", message.id)
            error = DeliveryError(f"{type(exc).__name__}: {exc}")
    with session_scope() as session:
        row = session.get(Outbox, message.id)
        if row is None or row.status != OutboxStatus.SENDING or row.claimed_by != worker:
            return  # the lease ran out and another deliverer took the message over
        row.leased_until = None
        if error is None:
            row.status = OutboxStatus.SENT
            row.sent_at = now
            row.last_error = ""
            if note:
                row.payload = {**(row.payload or {}), "note": note}
            (report.logged if note else report.sent).append(message.id)
        else:
            _record_failure(row, error, now=now, report=report)
        session.add(row)


def _record_failure(
    row: Outbox, error: DeliveryError, *, now: datetime, report: DeliveryReport
) -> None:
    row.last_error = str(error)[:2000]
    if error.retry_after is not None and not error.permanent:
        row.status = OutboxStatus.PENDING
        row.attempts -= 1  # a rate limit is a wait, not a failed attempt
        row.next_attempt_at = now + timedelta(seconds=error.retry_after)
        report.retrying.append(row.id or 0)
        return
    if error.permanent or row.attempts >= row.max_attempts:
        row.status = OutboxStatus.FAILED
        row.payload = {**(row.payload or {}), FAILED_AT: now.isoformat()}
        report.failed.append(row.id or 0)
        log.error("outbox %s (%s) failed after %s attempts", row.id, row.channel, row.attempts)
    else:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now + retry_delay(row.attempts)
        report.retrying.append(row.id or 0)
        log.warning("outbox %s not sent (attempt %s): %s", row.id, row.attempts, error)


# --- operators ------------------------------------------------------------------------


def list_messages(
    session: Session, *, actor: User | None, failed_only: bool = False, limit: int = 100
) -> list[OutboxItem]:
    """Admin only: the newest messages (only failed ones with ``failed_only``)."""
    require_admin(actor)
    query = select(Outbox).order_by(col(Outbox.id).desc()).limit(max(1, min(limit, 1000)))
    if failed_only:
        query = query.where(Outbox.status == OutboxStatus.FAILED)
    return [_item(row) for row in session.exec(query).all()]


def _item(row: Outbox) -> OutboxItem:
    try:
        recipient = get_channel(row.channel).mask(row.recipient)
    except DeliveryError:
        recipient = f"{row.recipient[:2]}***"
    return OutboxItem(
        id=row.id or 0,
        channel=row.channel,
        recipient=recipient,
        subject=row.subject,
        status=row.status,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
    )


def retry_message(session: Session, *, actor: User | None, outbox_id: int, ip: str = "") -> bool:
    """Admin only: put a failed message back in the queue (attempts start over; audited).
    False when there is no failed message with that id."""
    require_admin(actor)
    row = session.get(Outbox, outbox_id)
    if row is None or row.status != OutboxStatus.FAILED:
        return False
    row.status = OutboxStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = utcnow()
    row.claimed_by = ""
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="outbox.retried",
        target_type="outbox",
        target_id=outbox_id,
        details={"channel": row.channel, "last_error": row.last_error[:200]},
        ip=ip,
    )
    session.flush()
    return True


def send_test_email(session: Session, *, actor: User | None, to: str, ip: str = "") -> str:
    """Admin only: queue a test email (one attempt: an SMTP error shows up at once among
    the failed messages). Returns the Russian status message."""
    require_admin(actor)
    to = to.strip()
    if "@" not in to or len(to) > 320:
        raise SettingsValidationError("Укажите адрес получателя.", field="to")
    enqueue_email(session, to=to, template="test", context={}, max_attempts=1)
    audit.record(
        session, actor=actor, action="email.test", target_type="email", target_id=to, ip=ip
    )
    return (
        f"Тестовое письмо на {to} поставлено в очередь и уйдёт в течение минуты. "
        "Если отправить не удастся, оно появится в разделе «Неотправленные сообщения» "
        "с текстом ошибки."
    )
