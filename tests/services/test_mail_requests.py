"""Requests that make the system send mail: rate limits per IP and per recipient, and the
same work for known and unknown addresses (no enumeration by timing)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from socstat.models.alerts import Outbox
from socstat.models.audit import AuditEvent
from socstat.services import accounts, passwords, ratelimit
from socstat.services.accounts import AccountError
from socstat.settings import reset_settings_cache
from tests.services.accounts_fixtures import PASSWORD, make_user


def outbox_count(session: Session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Outbox)).one()


def test_many_registrations_for_one_known_address_queue_few_emails(session):
    make_user(session, "known@example.com")
    session.commit()
    refused = 0
    for i in range(20):
        try:
            accounts.register(
                session, email="known@example.com", password=PASSWORD, ip=f"10.0.0.{i}"
            )
            session.commit()
        except AccountError as exc:
            session.rollback()
            assert str(exc) == ratelimit.MSG_LIMITED
            refused += 1
    assert outbox_count(session) == 3 and refused == 17  # SOCSTAT_RATE_LIMIT_RECIPIENT 3/hour


def test_one_ip_is_limited_across_addresses(session):
    for i in range(20):
        accounts.request_password_reset(session, email=f"u{i}@example.com", ip="192.0.2.7")
    with pytest.raises(AccountError, match="Слишком много запросов"):
        accounts.request_password_reset(session, email="another@example.com", ip="192.0.2.7")
    accounts.request_password_reset(session, email="another@example.com", ip="192.0.2.8")


def test_resend_and_email_change_are_limited(session):
    user = make_user(session, "ann@example.com")
    for _ in range(3):
        accounts.resend_confirmation(session, email="nobody@example.com", ip="192.0.2.1")
    with pytest.raises(AccountError, match="Слишком много запросов"):
        accounts.resend_confirmation(session, email="nobody@example.com", ip="192.0.2.2")
    for _ in range(3):
        accounts.request_email_change(
            session, user=user, new_email="next@example.com", current_password=PASSWORD
        )
    with pytest.raises(AccountError) as refused:
        accounts.request_email_change(
            session, user=user, new_email="next@example.com", current_password=PASSWORD
        )
    assert refused.value.field == "new_email"


def test_limits_come_from_the_settings(session, monkeypatch):
    monkeypatch.setenv("SOCSTAT_RATE_LIMIT_RECIPIENT", "1/minute")
    reset_settings_cache()
    try:
        accounts.request_password_reset(session, email="x@example.com")
        with pytest.raises(AccountError):
            accounts.request_password_reset(session, email="X@example.com ")
    finally:
        monkeypatch.undo()
        reset_settings_cache()


@pytest.fixture
def redis_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://127.0.0.1:6379/0")
    ratelimit.reset()
    yield
    monkeypatch.undo()
    ratelimit.reset()


def test_counts_are_shared_through_redis_when_configured(session, redis_limits):
    from limits.storage import RedisStorage

    address = f"redis-{secrets.token_hex(6)}@example.com"  # fresh keys in the shared Redis
    for _ in range(3):
        accounts.request_password_reset(session, email=address)
    assert isinstance(ratelimit._limiter().storage, RedisStorage)
    ratelimit._limiter.cache_clear()  # another process: a new limiter, the same counts
    with pytest.raises(AccountError):
        accounts.request_password_reset(session, email=address)


# --- no enumeration by timing --------------------------------------------------------


def _statements(session: Session, work) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def _record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(re.sub(r"\s+", " ", statement.strip()))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", _record)
    try:
        work()
        session.flush()
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    return seen


def _shape(statements: list[str]) -> list[str]:
    """Reads and updates in order; inserts by table (the known path's email is extra)."""
    return [s for s in statements if not s.startswith("INSERT")] + sorted(
        s.split("(")[0] for s in statements if s.startswith("INSERT")
    )


def test_reset_takes_the_same_path_for_known_and_unknown_addresses(session, monkeypatch):
    make_user(session, "exists@example.com")
    session.commit()
    hashed: list[str] = []
    password_work = [
        (accounts.password, "hash_password"),
        (accounts.password, "verify_password"),
        (accounts.users, "hash_password"),
        (accounts.registration, "dummy_verify"),
    ]
    for module, name in password_work:
        monkeypatch.setattr(module, name, lambda *a, _n=name, **k: hashed.append(_n))
    known = _statements(
        session, lambda: accounts.request_password_reset(session, email="exists@example.com")
    )
    unknown = _statements(
        session, lambda: accounts.request_password_reset(session, email="missing@example.com")
    )
    session.commit()
    assert hashed == []  # no password work on either path
    known_shape, unknown_shape = _shape(known), _shape(unknown)
    extra = [s for s in known_shape if s not in unknown_shape]
    # the same reads and updates, in the same order, and the same audit write
    assert [s for s in known_shape if s not in extra] == unknown_shape
    assert all(s.startswith(("INSERT INTO onetimetoken", "INSERT INTO outbox")) for s in extra), (
        extra
    )
    assert any(s.startswith("INSERT INTO auditevent") for s in unknown_shape)
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "auth.password_reset_requested")
    ).all()
    assert len(events) == 2
    assert outbox_count(session) == 1  # queued, not sent: no SMTP round trip on either path


def test_registration_of_a_taken_address_costs_a_hash_like_a_new_one(session, monkeypatch):
    make_user(session, "taken@example.com")
    session.commit()
    hashed: list[str] = []
    monkeypatch.setattr(accounts.registration, "dummy_verify", lambda *a: hashed.append("dummy"))
    monkeypatch.setattr(
        accounts.users,
        "hash_password",
        lambda p: hashed.append("hash") or passwords.hash_password(p),
    )
    accounts.register(session, email="taken@example.com", password=PASSWORD)
    accounts.register(session, email="fresh@example.com", password=PASSWORD)
    session.commit()
    assert hashed == ["dummy", "hash"] and outbox_count(session) == 2
