"""TOTP two-factor sign-in with a controlled clock, recovery codes, disable and admin reset."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import text
from sqlmodel import select

from socstat.models.accounts import RecoveryCode, Role, User
from socstat.models.base import utcnow
from socstat.services import accounts, admin, sessions, system_settings, twofactor
from socstat.services.twofactor import TwoFactorError
from tests.services.accounts_fixtures import PASSWORD, make_user


def enrol(session, user, now):
    enrolment = twofactor.begin_enrolment(session, user=user)
    code = pyotp.TOTP(enrolment.secret).at(now)
    codes = twofactor.confirm_enrolment(session, user=user, code=code, now=now)
    session.commit()
    return enrolment, codes


def code_at(enrolment, moment):
    return pyotp.TOTP(enrolment.secret).at(moment)


def test_enrolment_gives_uri_qr_and_encrypted_secret(session):
    user = make_user(session, "t@example.com")
    enrolment = twofactor.begin_enrolment(session, user=user)
    session.commit()
    assert enrolment.provisioning_uri.startswith("otpauth://totp/socstat:t%40example.com")
    assert "secret=" + enrolment.secret in enrolment.provisioning_uri
    assert enrolment.qr_svg.lstrip().startswith("<svg") and "</svg>" in enrolment.qr_svg
    raw = session.execute(
        text('SELECT totp_secret_enc FROM "user" WHERE id = :id'), {"id": user.id}
    ).scalar_one()
    assert raw and enrolment.secret not in raw
    assert not session.get(User, user.id).totp_enabled


def test_confirm_needs_a_valid_code(session):
    user = make_user(session, "c@example.com")
    now = utcnow()
    enrolment = twofactor.begin_enrolment(session, user=user)
    with pytest.raises(TwoFactorError):
        twofactor.confirm_enrolment(session, user=user, code="000000", now=now)
    wrong_time = code_at(enrolment, now - timedelta(minutes=5))
    with pytest.raises(TwoFactorError):
        twofactor.confirm_enrolment(session, user=user, code=wrong_time, now=now)
    codes = twofactor.confirm_enrolment(session, user=user, code=code_at(enrolment, now), now=now)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = session.exec(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert user.totp_enabled


def test_verify_window_and_replay(session):
    user = make_user(session, "r@example.com")
    now = utcnow()
    enrolment, _ = enrol(session, user, now - timedelta(minutes=10))
    later = now + timedelta(minutes=1)
    # previous and next steps are accepted (valid_window=1), farther ones are not
    assert not twofactor.verify_totp(
        session, user=user, code=code_at(enrolment, later - timedelta(seconds=90)), now=later
    )
    assert twofactor.verify_totp(
        session, user=user, code=code_at(enrolment, later - timedelta(seconds=30)), now=later
    )
    # the same code again: replay
    assert not twofactor.verify_totp(
        session, user=user, code=code_at(enrolment, later - timedelta(seconds=30)), now=later
    )
    assert twofactor.verify_totp(session, user=user, code=code_at(enrolment, later), now=later)
    assert not twofactor.verify_totp(session, user=user, code=code_at(enrolment, later), now=later)
    assert twofactor.verify_totp(
        session, user=user, code=code_at(enrolment, later + timedelta(seconds=30)), now=later
    )


def test_sign_in_with_second_factor(session):
    user = make_user(session, "mfa@example.com")
    start = utcnow() - timedelta(minutes=10)
    enrolment, _ = enrol(session, user, start)
    now = utcnow()
    first = accounts.authenticate(
        session, email="mfa@example.com", password=PASSWORD, ip="1.2.3.4", now=now
    )
    session.commit()
    assert first.status == "needs_2fa" and first.token
    # the pending token is not a session yet
    assert sessions.resolve_session(session, token=first.token, now=now) is None
    bad = accounts.complete_two_factor(session, token=first.token, code="123456", now=now)
    assert bad.status == "error" and bad.message == accounts.MSG_BAD_CODE
    done = accounts.complete_two_factor(
        session, token=first.token, code=code_at(enrolment, now), now=now
    )
    session.commit()
    assert done.ok and done.token != first.token
    assert sessions.resolve_session(session, token=done.token, now=now).id == user.id
    again = accounts.complete_two_factor(
        session, token=first.token, code=code_at(enrolment, now), now=now
    )
    assert again.status == "error"


def test_pending_session_expires(session):
    user = make_user(session, "slow@example.com")
    enrolment, _ = enrol(session, user, utcnow() - timedelta(minutes=10))
    now = utcnow()
    first = accounts.authenticate(session, email="slow@example.com", password=PASSWORD, now=now)
    session.commit()
    late = now + timedelta(minutes=11)
    result = accounts.complete_two_factor(
        session, token=first.token, code=code_at(enrolment, late), now=late
    )
    assert result.status == "error" and "истёк" in result.message


def test_wrong_codes_count_as_failed_sign_ins(session):
    user = make_user(session, "guess@example.com")
    enrol(session, user, utcnow() - timedelta(minutes=10))
    now = utcnow()
    first = accounts.authenticate(session, email="guess@example.com", password=PASSWORD, now=now)
    session.commit()
    results = [
        accounts.complete_two_factor(session, token=first.token, code=f"{i:06d}", now=now)
        for i in range(5)
    ]
    session.commit()
    assert "Слишком много попыток" in results[-1].message
    assert sessions.find_session(session, token=first.token, now=now) is None


def test_recovery_codes_are_single_use(session):
    user = make_user(session, "rec@example.com")
    _, codes = enrol(session, user, utcnow() - timedelta(minutes=10))
    now = utcnow()
    first = accounts.authenticate(session, email="rec@example.com", password=PASSWORD, now=now)
    session.commit()
    done = accounts.complete_two_factor(session, token=first.token, code=codes[0].lower(), now=now)
    session.commit()
    assert done.ok
    assert twofactor.recovery_codes_left(session, user=user) == 9
    second = accounts.authenticate(session, email="rec@example.com", password=PASSWORD, now=now)
    session.commit()
    reused = accounts.complete_two_factor(session, token=second.token, code=codes[0], now=now)
    assert reused.status == "error"
    assert twofactor.use_recovery_code(session, user=user, code=codes[1].replace("-", " "))


def test_regenerate_recovery_codes(session):
    user = make_user(session, "regen@example.com")
    enrolment, old = enrol(session, user, utcnow() - timedelta(minutes=10))
    now = utcnow()
    new = twofactor.regenerate_recovery_codes(
        session, user=user, code=code_at(enrolment, now), now=now
    )
    assert not twofactor.use_recovery_code(session, user=user, code=old[0])
    assert twofactor.use_recovery_code(session, user=user, code=new[0])


def test_disable_needs_password_and_code(session):
    user = make_user(session, "off@example.com")
    enrolment, _ = enrol(session, user, utcnow() - timedelta(minutes=10))
    now = utcnow()
    with pytest.raises(TwoFactorError, match="пароль"):
        twofactor.disable(
            session, user=user, password="nope-nope-nope", code=code_at(enrolment, now), now=now
        )
    with pytest.raises(TwoFactorError, match="код"):
        twofactor.disable(session, user=user, password=PASSWORD, code="000000", now=now)
    twofactor.disable(session, user=user, password=PASSWORD, code=code_at(enrolment, now), now=now)
    session.commit()
    assert not user.totp_enabled and user.totp_secret_enc is None
    assert accounts.authenticate(session, email="off@example.com", password=PASSWORD).ok


def test_admin_reset_and_required_enrolment_for_admins(session):
    boss = make_user(session, "boss@example.com", Role.ADMIN)
    user = make_user(session, "lost@example.com")
    enrol(session, user, utcnow() - timedelta(minutes=10))
    token = accounts.authenticate(session, email="lost@example.com", password=PASSWORD).token
    session.commit()
    admin.reset_two_factor(session, actor=boss, user_id=user.id)
    session.commit()
    session.refresh(user)
    assert not user.totp_enabled
    assert sessions.find_session(session, token=token) is None
    assert accounts.authenticate(session, email="lost@example.com", password=PASSWORD).ok

    assert not twofactor.needs_2fa_enrolment(session, boss)
    system_settings.set_setting(session, actor=boss, key="require_2fa_admins", value=True)
    session.commit()
    assert twofactor.needs_2fa_enrolment(session, boss)
    assert not twofactor.needs_2fa_enrolment(session, user)
    result = accounts.authenticate(session, email="boss@example.com", password=PASSWORD)
    assert result.ok and result.needs_2fa_enrolment
    enrol(session, boss, utcnow())
    assert not twofactor.needs_2fa_enrolment(session, boss)


def test_enabling_2fa_ends_the_other_sessions_and_keeps_this_one(session):
    user = make_user(session, "others@example.com")
    here = sessions.create_session(session, user=user).token
    elsewhere = [sessions.create_session(session, user=user).token for _ in range(2)]
    now = utcnow()
    enrolment = twofactor.begin_enrolment(session, user=user)
    twofactor.confirm_enrolment(
        session, user=user, code=code_at(enrolment, now), now=now, current_token=here
    )
    assert sessions.resolve_session(session, token=here) is not None
    assert [sessions.resolve_session(session, token=t) for t in elsewhere] == [None, None]
