"""Throttling holds under concurrency: a burst of sign-ins for one account verifies at most
the limit of passwords, and the owner is told about the lockout once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from socstat.db import session_scope
from socstat.models.accounts import LoginAttempt, User
from socstat.models.alerts import Outbox
from socstat.services import accounts, throttle, twofactor
from tests import smtp
from tests.services.accounts_fixtures import PASSWORD, make_user

smtp_server = smtp.smtp_server  # the fixture (the outbox deliverer sends lockout notices)
ATTEMPTS = 40
THREADS = 16


class CountingVerify:
    """Wraps the real ``verify_password``: every call is a real argon2 verification."""

    def __init__(self, real: Callable[[str, str | None], bool]) -> None:
        self.real = real
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, password: str, password_hash: str | None) -> bool:
        with self._lock:
            self.calls += 1
        return self.real(password, password_hash)


@pytest.fixture
def counted_verify(monkeypatch: pytest.MonkeyPatch) -> CountingVerify:
    counter = CountingVerify(accounts.signin.verify_password)
    # every place that checks a password: sign-in, and the profile forms' current-password
    # check (password change, email change, two-factor) in the throttle
    for module in (accounts.signin, accounts.password, throttle):
        monkeypatch.setattr(module, "verify_password", counter)
    return counter


def _attempt(engine: Engine, email: str, password: str, index: int) -> accounts.SignInResult:
    with Session(engine, expire_on_commit=False) as session:
        result = accounts.authenticate(
            session, email=email, password=password, ip=f"10.1.0.{index % 200}"
        )
        session.commit()
        return result


def _burst(engine: Engine, email: str, passwords: list[str]) -> list[accounts.SignInResult]:
    barrier = threading.Barrier(THREADS)

    def one(index: int) -> accounts.SignInResult:
        if index < THREADS:
            barrier.wait()
        return _attempt(engine, email, passwords[index], index)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, range(len(passwords))))


def test_concurrent_wrong_sign_ins_verify_at_most_the_limit(
    db: Engine, session: Session, counted_verify: CountingVerify, smtp_server: smtp.SmtpSink
) -> None:
    make_user(session, "burst@example.com")
    results = _burst(db, "burst@example.com", [f"Wrong-{i}-password" for i in range(ATTEMPTS)])
    verified = counted_verify.calls
    print(f"\nconcurrent wrong sign-ins: {ATTEMPTS} ({THREADS} threads), verified: {verified}")
    assert verified == throttle.ACCOUNT_THRESHOLD
    assert not any(r.ok for r in results)
    throttled = [r for r in results if r.retry_after is not None]
    assert len(throttled) == ATTEMPTS - throttle.ACCOUNT_THRESHOLD + 1
    failures = session.exec(
        select(LoginAttempt).where(LoginAttempt.email == "burst@example.com")
    ).all()
    assert len(failures) == throttle.ACCOUNT_THRESHOLD
    notices = session.exec(select(Outbox).where(col(Outbox.dedup_key).startswith("lockout:"))).all()
    assert len(notices) == 1

    # the right password in a second burst is refused without being checked
    again = _burst(db, "burst@example.com", [PASSWORD] * THREADS)
    assert not any(r.ok for r in again) and all(r.retry_after for r in again)
    assert counted_verify.calls == verified


def test_concurrent_right_and_wrong_sign_ins_stay_within_the_limit(
    db: Engine, session: Session, counted_verify: CountingVerify, smtp_server: smtp.SmtpSink
) -> None:
    make_user(session, "mixed@example.com")
    passwords = [f"Wrong-{i}-password" for i in range(ATTEMPTS - 1)] + [PASSWORD]
    results = _burst(db, "mixed@example.com", passwords)
    succeeded = [r for r in results if r.ok]
    assert len(succeeded) <= 1
    if succeeded:  # the right one came among the first five: the count starts again after it
        assert counted_verify.calls <= 2 * throttle.ACCOUNT_THRESHOLD
    else:
        assert counted_verify.calls == throttle.ACCOUNT_THRESHOLD


def _profile_attempt(user_id: int, work: Callable[[Session, User], object]) -> str:
    """One profile form submission in its own unit of work; the error message or "ok"."""
    try:
        with session_scope() as session:
            work(session, session.get(User, user_id))
    except (accounts.AccountError, twofactor.TwoFactorError, throttle.Throttled) as exc:
        return str(exc)
    return "ok"


def test_wrong_current_passwords_in_the_profile_count_in_the_sign_in_throttle(
    db: Engine, session: Session, counted_verify: CountingVerify
) -> None:
    user = make_user(session, "profile@example.com")
    wrong = [
        lambda s, u: accounts.change_password(
            s, user=u, current_password="Nope-1", new_password="Another-Good-Pass-7"
        ),
        lambda s, u: accounts.request_email_change(
            s, user=u, new_email="new@example.com", current_password="Nope-2"
        ),
    ] * 2
    messages = [_profile_attempt(user.id or 0, work) for work in wrong]
    assert messages == ["Текущий пароль указан неверно."] * 4
    # the fifth wrong secret (here at sign-in) locks the account for sign-in too
    locked = accounts.authenticate(session, email="profile@example.com", password="Nope-3")
    session.commit()
    assert locked.retry_after is not None
    refused = _profile_attempt(
        user.id or 0,
        lambda s, u: accounts.change_password(
            s, user=u, current_password=PASSWORD, new_password="Another-Good-Pass-7"
        ),
    )
    assert refused.startswith("Слишком много попыток.")
    assert counted_verify.calls == throttle.ACCOUNT_THRESHOLD


def test_wrong_codes_in_the_profile_count_in_the_sign_in_throttle(
    db: Engine, session: Session
) -> None:
    user = make_user(session, "codes@example.com")
    enrolment = twofactor.begin_enrolment(session, user=user)
    twofactor.confirm_enrolment(session, user=user, code=pyotp.TOTP(enrolment.secret).now())
    session.commit()
    tries = [
        lambda s, u: twofactor.regenerate_recovery_codes(s, user=u, code="000000"),
        lambda s, u: twofactor.disable(s, user=u, password=PASSWORD, code="000000"),
    ] * 3
    messages = [_profile_attempt(user.id or 0, work) for work in tries]
    assert messages[:4] == ["Неверный код из приложения.", "Неверный код."] * 2
    assert messages[4].startswith("Слишком много попыток.")
    assert messages[5].startswith("Слишком много попыток.")
    failures = session.exec(select(LoginAttempt).where(LoginAttempt.email == user.email)).all()
    assert len(failures) == throttle.ACCOUNT_THRESHOLD
