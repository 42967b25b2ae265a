"""The outbox and email delivery through a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from socstat.models.accounts import Role
from socstat.models.alerts import Outbox, OutboxStatus
from socstat.models.audit import AuditEvent
from socstat.models.base import utcnow
from socstat.services import accounts, delivery, system_settings
from socstat.services.authz import PermissionDenied
from socstat.services.delivery import outbox
from socstat.settings import reset_settings_cache
from tests import smtp
from tests.services.accounts_fixtures import make_user
from tests.smtp import SmtpServer, SmtpSink

smtp_server = smtp.smtp_server  # the fixtures
smtp_controller = smtp.smtp_controller
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rows(session: Session) -> list[Outbox]:
    session.expire_all()
    return list(session.exec(select(Outbox).order_by(Outbox.id)).all())


def queue(session: Session, count: int, prefix: str = "r") -> list[str]:
    recipients = [f"{prefix}{i}@example.com" for i in range(count)]
    for address in recipients:
        delivery.enqueue_email(session, to=address, template="test", context={})
    session.commit()
    return recipients


def test_enqueue_renders_templates_and_only_the_deliverer_sends(session, smtp_server: SmtpSink):
    user = make_user(session, "anna@example.com", Role.ANALYST)
    outbox_id = delivery.enqueue_email(
        session,
        to="anna@example.com",
        template="reset",
        context={"user": user, "link": "http://localhost:3100/reset-password?token=abc"},
    )
    session.commit()
    assert smtp_server.messages == []  # nothing is sent before the deliverer runs
    [row] = rows(session)
    assert row.id == outbox_id and row.status == OutboxStatus.PENDING and row.message_id
    report = delivery.deliver_due()
    assert report.sent == [outbox_id]
    [message] = smtp_server.wait_for(1, deliver=False)
    assert message["Subject"] == "socstat: восстановление пароля"
    assert message["Message-ID"] == row.message_id
    assert "reset-password?token=abc" in SmtpSink.body(message)
    html = message.get_body(preferencelist=("html",))
    assert html is not None and 'href="http://localhost:3100/reset-password?token=abc"' in (
        html.get_content()
    )
    [row] = rows(session)
    assert row.status == OutboxStatus.SENT and row.sent_at and row.attempts == 1
    assert row.leased_until is None


def test_attachments_travel_with_the_email(session, smtp_server: SmtpSink):
    report = delivery.save_attachment(b"%PDF-1.4 fake", filename="report.pdf")
    delivery.enqueue_email(
        session, to="boss@example.com", template="test", context={}, attachments=[report]
    )
    session.commit()
    delivery.deliver_due()
    [message] = smtp_server.wait_for(1)
    [part] = list(message.iter_attachments())
    assert part.get_filename() == "report.pdf" and part.get_content() == b"%PDF-1.4 fake"


def test_dedup_key(session):
    first = delivery.enqueue_email(
        session, to="a@example.com", template="test", context={}, dedup_key="k"
    )
    second = delivery.enqueue_email(
        session, to="a@example.com", template="test", context={}, dedup_key="k"
    )
    session.commit()
    assert first == second and len(rows(session)) == 1


def test_without_smtp_emails_go_to_the_log(session, caplog):
    delivery.enqueue_email(session, to="log@example.com", template="test", context={})
    session.commit()
    report = delivery.deliver_due()
    assert len(report.logged) == 1
    assert "SMTP не настроен" in caplog.text and "тестовое письмо" in caplog.text
    [row] = rows(session)
    assert row.status == OutboxStatus.SENT and "журнал" in row.payload["note"]


class SilentServer:
    """Accepts TCP connections and never says a word (an SMTP server that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]


@pytest.fixture
def silent_smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentServer]:
    server = SilentServer()
    smtp.point_settings_at(monkeypatch, server.port)
    yield server
    server.sock.close()
    monkeypatch.undo()
    reset_settings_cache()


def test_registration_returns_at_once_when_smtp_never_answers(session, silent_smtp):
    start = time.monotonic()
    accounts.register(session, email="new@example.com", password="Correct-Horse-Battery-9")
    session.commit()
    assert time.monotonic() - start < 5  # the SMTP timeout is 15 s: nothing waited on it
    [row] = rows(session)
    assert row.status == OutboxStatus.PENDING and row.attempts == 0


def test_smtp_down_three_attempts_then_up_delivers_everything_once(
    session, smtp_controller: SmtpServer
):
    recipients = queue(session, 5)
    moment = utcnow()
    for attempt in range(1, 4):
        report = delivery.deliver_due(now=moment)
        assert len(report.retrying) == 5 and not report.sent
        assert all(
            r.attempts == attempt and r.status == OutboxStatus.PENDING for r in rows(session)
        )
        assert delivery.deliver_due(now=moment + timedelta(seconds=1)).retrying == []  # not due
        moment += outbox.retry_delay(attempt) + timedelta(seconds=1)
    assert rows(session)[0].next_attempt_at < moment
    smtp_controller.start()
    assert len(delivery.deliver_due(now=moment).sent) == 5
    assert delivery.deliver_due(now=moment + timedelta(days=1)).sent == []
    received = Counter(str(m["To"]) for m in smtp_controller.sink.wait_for(5, deliver=False))
    assert received == Counter(recipients)
    assert all(r.status == OutboxStatus.SENT and r.last_error == "" for r in rows(session))


def test_failed_after_max_attempts_is_listed_and_retried_by_an_admin(
    session, smtp_controller: SmtpServer
):
    boss = make_user(session, "boss@example.com", Role.ADMIN)
    analyst = make_user(session, "ann@example.com", Role.ANALYST)
    queue(session, 1, prefix="dead")
    moment = utcnow()
    for _ in range(outbox.MAX_ATTEMPTS):
        delivery.deliver_due(now=moment)
        moment += timedelta(days=1)
    [row] = rows(session)
    assert row.status == OutboxStatus.FAILED and row.attempts == outbox.MAX_ATTEMPTS
    [item] = delivery.list_messages(session, actor=boss, failed_only=True)
    assert item.recipient == "de***@example.com" and "Connection" in item.last_error
    with pytest.raises(PermissionDenied):
        delivery.list_messages(session, actor=analyst)
    with pytest.raises(PermissionDenied):
        delivery.retry_message(session, actor=analyst, outbox_id=row.id)
    assert delivery.retry_message(session, actor=boss, outbox_id=row.id, ip="10.0.0.1")
    session.commit()
    assert not delivery.retry_message(session, actor=boss, outbox_id=row.id)  # not failed now
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "outbox.retried")).one()
    assert audit.target_id == str(row.id)
    smtp_controller.start()
    assert delivery.deliver_due().sent == [row.id]
    assert delivery.list_messages(session, actor=boss, failed_only=True) == []


def test_a_refused_recipient_fails_at_once(session, smtp_controller: SmtpServer):
    class Refusing(SmtpSink):
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 no such user"

    smtp_controller.sink = Refusing()
    smtp_controller.start()
    queue(session, 1)
    assert len(delivery.deliver_due().failed) == 1
    [row] = rows(session)
    assert row.status == OutboxStatus.FAILED and row.attempts == 1


def test_test_email_is_queued_not_sent_inline(session, smtp_controller: SmtpServer):
    boss = make_user(session, "boss@example.com", Role.ADMIN)
    message = delivery.send_test_email(session, actor=boss, to="me@example.com")
    session.commit()
    assert "в очередь" in message
    [row] = rows(session)
    assert row.status == OutboxStatus.PENDING and row.max_attempts == 1
    with pytest.raises(system_settings.SettingsValidationError):
        delivery.send_test_email(session, actor=boss, to="nobody")
    # SMTP down: one attempt, then it is among the failed messages with the error
    delivery.deliver_due()
    session.expire_all()
    [item] = delivery.list_messages(session, actor=boss, failed_only=True)
    assert item.id == row.id and item.last_error


def test_database_smtp_settings_override_the_environment(session):
    server = SmtpServer()
    server.start()
    try:
        boss = make_user(session, "boss@example.com", Role.ADMIN)
        system_settings.set_smtp(
            session, actor=boss, host="127.0.0.1", port=server.port, from_addr="db@example.com"
        )
        delivery.send_test_email(session, actor=boss, to="me@example.com")
        session.commit()
        assert len(delivery.deliver_due().sent) == 1
        [mail] = server.sink.wait_for(1)
        assert mail["From"] == "db@example.com" and mail["To"] == "me@example.com"
    finally:
        server.stop()


# --- crashes and concurrent deliverers: real processes -------------------------------


def _deliverer() -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=PROJECT_ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "socstat", "outbox", "send"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def slow_smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    server = SmtpServer(delay=0.15)
    server.start()
    smtp.point_settings_at(monkeypatch, server.port)
    yield server
    server.stop()
    monkeypatch.undo()
    reset_settings_cache()


def test_kill_minus_9_mid_batch_loses_nothing_and_repeats_at_most_one(
    session, slow_smtp: SmtpServer
):
    recipients = queue(session, 20)
    process = _deliverer()
    deadline = time.monotonic() + 60
    while len(slow_smtp.sink.messages) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    received_before = len(slow_smtp.sink.messages)
    assert 8 <= received_before < 20
    # the in-flight message keeps its lease until it runs out; then it goes again
    delivery.deliver_due(now=utcnow() + outbox.LEASE + timedelta(seconds=1))
    slow_smtp.sink.wait_for(20, deliver=False)
    time.sleep(0.3)
    messages = list(slow_smtp.sink.messages)
    per_recipient = Counter(str(m["To"]) for m in messages)
    assert set(per_recipient) == set(recipients)
    duplicates = [to for to, count in per_recipient.items() if count > 1]
    assert len(messages) - len(recipients) <= 1 and len(duplicates) <= 1
    for to in duplicates:
        ids = {m["Message-ID"] for m in messages if str(m["To"]) == to}
        assert len(ids) == 1  # the repeat is recognisably the same message
    assert all(r.status == OutboxStatus.SENT for r in rows(session))


def test_two_deliverers_at_once_send_each_message_once(session, slow_smtp: SmtpServer):
    recipients = queue(session, 12)
    first, second = _deliverer(), _deliverer()
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    time.sleep(0.3)
    per_recipient = Counter(str(m["To"]) for m in slow_smtp.sink.messages)
    assert per_recipient == Counter(recipients)
    assert all(r.status == OutboxStatus.SENT for r in rows(session))


def test_cli_list_and_retry(session, smtp_controller: SmtpServer, capsys):
    from socstat.cli import main

    make_user(session, "boss@example.com", Role.ADMIN)
    queue(session, 1, prefix="cli")
    with Session(session.get_bind()) as other:
        row = other.exec(select(Outbox)).one()
        row.status = OutboxStatus.FAILED
        row.last_error = "SMTPServerDisconnected: gone"
        other.add(row)
        other.commit()
        outbox_id = row.id
    assert main(["outbox", "list", "--failed"]) == 0
    out = capsys.readouterr().out
    assert "cl***@example.com" in out and "failed" in out and "gone" in out
    assert main(["outbox", "retry", str(outbox_id)]) == 0
    with pytest.raises(SystemExit) as exit_info:
        main(["outbox", "retry", "99999999999999999999"])
    assert exit_info.value.code == 2
    assert rows(session)[0].status == OutboxStatus.PENDING
    smtp_controller.start()
    assert main(["outbox", "send"]) == 0
    assert "Отправлено: 1" in capsys.readouterr().out
