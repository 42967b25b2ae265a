"""The outbox and email delivery through a real SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from socstat.models.accounts import Role
from socstat.models.alerts import Outbox, OutboxStatus
from socstat.models.base import utcnow
from socstat.services import notify, system_settings
from socstat.services.system_settings import SettingsValidationError
from tests import smtp
from tests.services.accounts_fixtures import make_user
from tests.smtp import SmtpServer, SmtpSink

smtp_server = smtp.smtp_server  # the fixtures
smtp_controller = smtp.smtp_controller


def rows(session: Session) -> list[Outbox]:
    session.expire_all()
    return list(session.exec(select(Outbox).order_by(Outbox.id)).all())


def test_enqueue_writes_the_outbox_and_deliver_sends(session, smtp_server: SmtpSink):
    notify.enqueue_email(session, to="x@example.com", subject="Отчёт", body="Привет, мир")
    session.commit()
    assert smtp_server.messages == []  # nothing is sent before delivery
    [row] = rows(session)
    assert row.status == OutboxStatus.PENDING
    report = notify.deliver_pending()
    assert report.sent == [row.id]
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Отчёт" and SmtpSink.body(message).strip() == "Привет, мир"
    assert message["From"] == "socstat@test.local"
    [row] = rows(session)
    assert row.status == OutboxStatus.SENT and row.sent_at and row.attempts == 1


def test_dedup_key(session):
    first = notify.enqueue_email(session, to="a@example.com", subject="s", body="b", dedup_key="k")
    second = notify.enqueue_email(session, to="a@example.com", subject="s", body="b", dedup_key="k")
    session.commit()
    assert first.id == second.id and len(rows(session)) == 1


def test_deliver_after_commit_and_not_after_rollback(session, smtp_server: SmtpSink):
    notify.enqueue_email(
        session, to="r@example.com", subject="s", body="b", deliver_after_commit=True
    )
    session.rollback()
    notify.enqueue_email(
        session, to="c@example.com", subject="s", body="b", deliver_after_commit=True
    )
    session.commit()
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["c@example.com"]


def test_without_smtp_emails_go_to_the_log(session, caplog):
    notify.enqueue_email(session, to="log@example.com", subject="Тема", body="Текст письма")
    session.commit()
    report = notify.deliver_pending()
    assert len(report.logged) == 1
    assert "SMTP не настроен" in caplog.text and "Текст письма" in caplog.text
    [row] = rows(session)
    assert row.status == OutboxStatus.SENT and "журнал" in row.payload["note"]


def test_smtp_down_keeps_rows_pending_until_it_returns(session, smtp_controller: SmtpServer):
    notify.enqueue_email(session, to="wait@example.com", subject="s", body="b")
    session.commit()
    now = utcnow()
    report = notify.deliver_pending(now=now)
    assert report.failed and not report.sent
    [row] = rows(session)
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert row.last_error and row.next_attempt_at == now + timedelta(minutes=1)
    # not due yet: nothing happens
    assert notify.deliver_pending(now=now + timedelta(seconds=30)).failed == []
    notify.deliver_pending(now=now + timedelta(minutes=2))
    [row] = rows(session)
    assert row.attempts == 2 and row.next_attempt_at == now + timedelta(minutes=4)
    smtp_controller.start()
    report = notify.deliver_pending(now=now + timedelta(minutes=5))
    assert report.sent == [row.id]
    assert [m["To"] for m in smtp_controller.sink.wait_for(1)] == ["wait@example.com"]
    [row] = rows(session)
    assert row.status == OutboxStatus.SENT and row.last_error == ""


def test_account_email_survives_an_smtp_outage(session, smtp_controller: SmtpServer):
    from socstat.services import accounts

    accounts.register(session, email="later@example.com", password="Correct-Horse-Battery-9")
    session.commit()  # immediate delivery fails, the row waits
    [row] = rows(session)
    assert row.status == OutboxStatus.PENDING and row.last_error
    smtp_controller.start()
    notify.deliver_pending(now=utcnow() + timedelta(minutes=2))
    [mail] = smtp_controller.sink.wait_for(1)
    accounts.confirm_email(session, token=smtp_controller.sink.token(mail, "/confirm"))


def test_rows_die_after_max_attempts(session, smtp_controller: SmtpServer):
    notify.enqueue_email(session, to="dead@example.com", subject="s", body="b")
    session.commit()
    moment = utcnow()
    for _ in range(notify.MAX_ATTEMPTS):
        notify.deliver_pending(now=moment)
        moment += timedelta(days=1)
    [row] = rows(session)
    assert row.status == OutboxStatus.DEAD and row.attempts == notify.MAX_ATTEMPTS


def test_database_smtp_settings_override_the_environment(session, monkeypatch):
    server = SmtpServer()
    server.start()
    try:
        boss = make_user(session, "boss@example.com", Role.ADMIN)
        system_settings.set_smtp(
            session, actor=boss, host="127.0.0.1", port=server.port, from_addr="db@example.com"
        )
        session.commit()
        message = system_settings.send_test_email(session, actor=boss, to="me@example.com")
        assert "отправлено" in message
        [mail] = server.sink.wait_for(1)
        assert mail["From"] == "db@example.com" and mail["To"] == "me@example.com"
    finally:
        server.stop()


def test_test_email_reports_the_smtp_error(session, smtp_controller: SmtpServer):
    boss = make_user(session, "boss@example.com", Role.ADMIN)
    with pytest.raises(SettingsValidationError, match="не отправлено"):
        system_settings.send_test_email(session, actor=boss, to="me@example.com")
    [row] = rows(session)
    assert row.status == OutboxStatus.DEAD  # a failed test is not retried later
