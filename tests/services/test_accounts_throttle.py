"""Brute-force protection: per-account and per-address throttling with growing lockouts."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from socstat.models.alerts import Outbox
from socstat.models.base import utcnow
from socstat.services import accounts
from tests import smtp
from tests.services.accounts_fixtures import PASSWORD, make_user
from tests.smtp import SmtpSink

smtp_server = smtp.smtp_server  # the fixture
WRONG = "Wrong-Password-000"


def attempt(session, email, password=WRONG, *, ip="10.0.0.1", now=None):
    result = accounts.authenticate(
        session, email=email, password=password, ip=ip, user_agent="pytest", now=now
    )
    session.commit()
    return result


def test_five_failures_lock_the_account_for_15_minutes(session):
    make_user(session, "victim@example.com")
    now = utcnow()
    results = [
        attempt(session, "victim@example.com", now=now + timedelta(seconds=i)) for i in range(5)
    ]
    assert all(r.message == accounts.MSG_BAD_CREDENTIALS for r in results[:4])
    assert results[4].message == "Слишком много попыток. Повторите через 15 мин."
    # even the right password is refused while locked, with the remaining time
    locked = attempt(session, "victim@example.com", PASSWORD, now=now + timedelta(minutes=5))
    assert not locked.ok and locked.retry_after is not None
    assert "Повторите через 11 мин." in locked.message  # 10 min 4 s, rounded up
    # from another address too: the lock is per account
    other_ip = attempt(
        session, "victim@example.com", PASSWORD, ip="10.9.9.9", now=now + timedelta(minutes=6)
    )
    assert not other_ip.ok and "Слишком много попыток" in other_ip.message
    assert attempt(session, "victim@example.com", PASSWORD, now=now + timedelta(minutes=16)).ok


def test_lockouts_double(session):
    make_user(session, "double@example.com")
    now = utcnow()
    for i in range(5):
        attempt(session, "double@example.com", now=now + timedelta(seconds=i))
    later = now + timedelta(minutes=16)
    results = [
        attempt(session, "double@example.com", now=later + timedelta(seconds=i)) for i in range(5)
    ]
    assert results[-1].message == "Слишком много попыток. Повторите через 30 мин."


def test_success_resets_the_account_counter(session):
    make_user(session, "reset@example.com")
    now = utcnow()
    for i in range(4):
        attempt(session, "reset@example.com", now=now + timedelta(seconds=i))
    assert attempt(session, "reset@example.com", PASSWORD, now=now + timedelta(seconds=10)).ok
    result = attempt(session, "reset@example.com", now=now + timedelta(seconds=11))
    assert result.message == accounts.MSG_BAD_CREDENTIALS


def test_failures_spread_beyond_the_window_do_not_lock(session):
    make_user(session, "slow@example.com")
    now = utcnow()
    for i in range(8):
        result = attempt(session, "slow@example.com", now=now + timedelta(minutes=4 * i))
    assert result.message == accounts.MSG_BAD_CREDENTIALS


def test_unknown_emails_are_throttled_the_same_way(session):
    make_user(session, "real@example.com")
    now = utcnow()
    known = [attempt(session, "real@example.com", now=now) for _ in range(6)]
    unknown = [attempt(session, "ghost@example.com", ip="10.0.0.2", now=now) for _ in range(6)]
    assert [r.message for r in known] == [r.message for r in unknown]
    assert [r.retry_after for r in known] == [r.retry_after for r in unknown]


def test_per_address_threshold(session):
    make_user(session, "target@example.com")
    now = utcnow()
    for i in range(20):
        attempt(session, f"spray{i}@example.com", ip="192.0.2.7", now=now + timedelta(seconds=i))
    blocked = attempt(
        session, "target@example.com", PASSWORD, ip="192.0.2.7", now=now + timedelta(seconds=30)
    )
    assert not blocked.ok and "Слишком много попыток" in blocked.message
    elsewhere = attempt(
        session, "target@example.com", PASSWORD, ip="192.0.2.8", now=now + timedelta(seconds=31)
    )
    assert elsewhere.ok


def test_owner_is_emailed_once_per_lockout(session, smtp_server: SmtpSink):
    make_user(session, "owner@example.com")
    now = utcnow()
    for i in range(8):
        attempt(session, "owner@example.com", now=now + timedelta(seconds=i))
    mails = smtp_server.wait_for(1)
    assert len(mails) == 1 and mails[0]["To"] == "owner@example.com"
    assert "заблокирован" in SmtpSink.body(mails[0])
    assert len(session.exec(select(Outbox)).all()) == 1
    # no email for addresses without an account
    for i in range(5):
        attempt(session, "nobody@example.com", ip="10.0.0.3", now=now + timedelta(seconds=i))
    assert len(session.exec(select(Outbox)).all()) == 1


def test_old_attempts_and_sessions_are_purged(session):
    from socstat.models.accounts import LoginAttempt
    from socstat.services import sessions

    make_user(session, "old@example.com")
    long_ago = utcnow() - timedelta(days=40)
    attempt(session, "old@example.com", now=long_ago)
    accounts.authenticate(session, email="old@example.com", password=PASSWORD, now=long_ago)
    attempt(session, "old@example.com")
    assert accounts.purge_login_attempts(session) == 2
    assert len(session.exec(select(LoginAttempt)).all()) == 1
    assert sessions.purge_expired(session, keep=timedelta(days=1)) == 1
