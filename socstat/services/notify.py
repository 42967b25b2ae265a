"""Outgoing email through the outbox: nothing is sent without first being written there.

``enqueue_email`` adds an ``Outbox`` row to the caller's transaction. ``deliver_pending``
(the scheduler calls it every minute or so) sends due rows over SMTP with retries and
exponential back-off; after ``MAX_ATTEMPTS`` a row is ``dead``. With no SMTP server
configured, emails are written to the log (labelled) and marked sent with a note in
``payload["note"]``. Account emails are enqueued with ``deliver_after_commit=True``: they
are sent right after the caller's transaction commits, and retried later when that fails.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import event
from sqlmodel import Session, col, select

from socstat.db import session_scope
from socstat.models.alerts import Outbox, OutboxStatus
from socstat.models.base import utcnow
from socstat.services.system_settings import SmtpConfig, smtp_config
from socstat.settings import get_settings

log = logging.getLogger(__name__)

EMAIL = "email"
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
SMTP_TIMEOUT_SECONDS = 15
LOG_NOTE = "SMTP не настроен: письмо записано в журнал, не отправлено"
_PENDING_KEY = "socstat_deliver_after_commit"


class EmailDeliveryError(RuntimeError):
    """Sending one message failed (the SMTP error text)."""


@dataclass
class DeliveryReport:
    """What one ``deliver_pending`` pass did."""

    sent: list[int] = field(default_factory=list)
    logged: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class TestEmailResult:
    ok: bool
    message: str
    error: str = ""


def enqueue_email(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    dedup_key: str | None = None,
    deliver_after_commit: bool = False,
) -> Outbox:
    """Write an email to the outbox (in the caller's transaction). With a ``dedup_key``
    already present, returns the existing row instead of adding a second one. With
    ``deliver_after_commit`` the row is sent as soon as the caller commits."""
    if dedup_key:
        existing = session.exec(select(Outbox).where(Outbox.dedup_key == dedup_key)).first()
        if existing is not None:
            return existing
    row = Outbox(
        channel=EMAIL,
        recipient=to.strip(),
        subject=subject[:500],
        body=body,
        dedup_key=dedup_key,
        next_attempt_at=utcnow(),
    )
    session.add(row)
    session.flush()
    if deliver_after_commit and row.id is not None:
        _deliver_after_commit(session, row.id)
    return row


def _deliver_after_commit(session: Session, outbox_id: int) -> None:
    ids: set[int] | None = session.info.get(_PENDING_KEY)
    if ids is None:
        ids = set()
        session.info[_PENDING_KEY] = ids
        event.listen(session, "after_commit", _on_commit)
        event.listen(session, "after_rollback", _on_rollback)
    ids.add(outbox_id)


def _on_commit(session: Session) -> None:
    ids = session.info.get(_PENDING_KEY)
    if not ids:
        return
    batch = sorted(ids)
    ids.clear()
    try:
        deliver_pending(ids=batch)
    except Exception:  # delivery must never break the caller; the scheduler retries
        log.exception("immediate email delivery failed; will retry later")


def _on_rollback(session: Session) -> None:
    ids = session.info.get(_PENDING_KEY)
    if ids:
        ids.clear()


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the given number of failed attempts: 1, 2, 4 … minutes, at most 6 h."""
    return min(BASE_DELAY * (2 ** max(0, attempts - 1)), MAX_DELAY)


def deliver_pending(
    now: datetime | None = None, *, ids: list[int] | None = None, limit: int = 100
) -> DeliveryReport:
    """Send due pending emails (or only ``ids``, ignoring their schedule) in its own
    transaction. Safe to run in several processes (rows are claimed with SKIP LOCKED)."""
    now = now or utcnow()
    report = DeliveryReport()
    with session_scope() as session:
        query = select(Outbox).where(Outbox.status == OutboxStatus.PENDING, Outbox.channel == EMAIL)
        if ids is not None:
            query = query.where(col(Outbox.id).in_(ids))
        else:
            query = query.where(Outbox.next_attempt_at <= now)
        query = query.order_by(col(Outbox.id)).limit(limit).with_for_update(skip_locked=True)
        rows = session.exec(query).all()
        if not rows:
            return report
        config = smtp_config(session)
        for row in rows:
            _deliver_one(row, config=config, now=now, report=report)
            session.add(row)
    return report


def _deliver_one(
    row: Outbox, *, config: SmtpConfig | None, now: datetime, report: DeliveryReport
) -> None:
    row.attempts += 1
    if config is None:
        _write_to_log(row)
        row.status = OutboxStatus.SENT
        row.sent_at = now
        row.payload = {**(row.payload or {}), "note": LOG_NOTE}
        report.logged.append(row.id or 0)
        return
    try:
        send_email(config, to=row.recipient, subject=row.subject, body=row.body)
    except EmailDeliveryError as exc:
        row.last_error = str(exc)[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.DEAD
            report.dead.append(row.id or 0)
            log.error(
                "email %s to %s is dead after %s attempts", row.id, row.recipient, row.attempts
            )
        else:
            row.next_attempt_at = now + retry_delay(row.attempts)
            report.failed.append(row.id or 0)
            log.warning("email %s not sent (attempt %s): %s", row.id, row.attempts, exc)
        return
    row.status = OutboxStatus.SENT
    row.sent_at = now
    row.last_error = ""
    report.sent.append(row.id or 0)


def _write_to_log(row: Outbox) -> None:
    """The log formatter masks ``token=…`` in links; in dev/demo the full text also goes
    to stderr so that confirmation and reset links can be followed locally."""
    text = f"кому: {row.recipient}; тема: {row.subject}\n{row.body}\n[конец письма]"
    log.warning("[ПИСЬМО НЕ ОТПРАВЛЕНО — SMTP не настроен] %s", text)
    if get_settings().env in ("dev", "demo"):
        print(f"[ПИСЬМО (dev), SMTP не настроен] {text}", file=sys.stderr, flush=True)


def build_message(*, from_addr: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 email."""
    message = EmailMessage()
    message["From"] = from_addr
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=from_addr.rsplit("@", 1)[-1] or "socstat")
    message.set_content(body)
    return message


def send_email(config: SmtpConfig, *, to: str, subject: str, body: str) -> None:
    """Send one email now; raises EmailDeliveryError with the reason."""
    message = build_message(from_addr=config.from_addr, to=to, subject=subject, body=body)
    try:
        if config.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host,
                config.port,
                timeout=SMTP_TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            if config.starttls and not config.ssl:
                client.starttls(context=ssl.create_default_context())
            if config.user:
                client.login(config.user, config.password)
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise EmailDeliveryError(f"{type(exc).__name__}: {exc}") from exc


def send_test_email(session: Session, *, to: str) -> TestEmailResult:
    """Write a test email to the outbox, commit, and deliver it at once; reports the outcome.
    (Commits the caller's session.)"""
    row = enqueue_email(
        session,
        to=to,
        subject="socstat: проверка почты",
        body="Это тестовое письмо socstat. Если вы его получили, отправка почты настроена.",
    )
    session.commit()
    outbox_id = row.id or 0
    report = deliver_pending(ids=[outbox_id])
    if outbox_id in report.sent:
        return TestEmailResult(ok=True, message=f"Тестовое письмо отправлено на {to}.")
    if outbox_id in report.logged:
        return TestEmailResult(
            ok=True, message="SMTP не настроен: письмо записано в журнал сервера."
        )
    session.refresh(row)
    row.status = OutboxStatus.DEAD  # a failed test is reported now, not retried later
    session.add(row)
    session.commit()
    return TestEmailResult(ok=False, message="Письмо не отправлено.", error=row.last_error)
