"""Registration, confirmation, sign-in/out, sessions, password change/reset, invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from socstat.crypto import hash_token
from socstat.models.accounts import AuthSession, OneTimeToken, Role, User
from socstat.models.audit import AuditEvent
from socstat.models.base import utcnow
from socstat.services import accounts, passwords, sessions, system_settings
from socstat.services.accounts import AccountError
from tests import smtp
from tests.services.accounts_fixtures import PASSWORD, make_user
from tests.smtp import SmtpSink

smtp_server = smtp.smtp_server  # the fixture

NEW_PASSWORD = "Another-Long-Secret-42"


def sign_in(session, email, password=PASSWORD, ip="10.0.0.1", **kw):
    result = accounts.authenticate(
        session, email=email, password=password, ip=ip, user_agent="pytest", **kw
    )
    session.commit()
    return result


# --- passwords --------------------------------------------------------------------------


def test_password_hash_is_argon2id_and_verifies():
    hashed = passwords.hash_password("Some-Long-Password-1")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password("Some-Long-Password-1", hashed)
    assert not passwords.verify_password("some-long-password-1", hashed)
    assert not passwords.verify_password("x", None)


def test_strong_parameters_outside_tests():
    ctx = passwords._context("prod")
    assert "m=65536,t=3" in ctx.hash("Some-Long-Password-1")


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short", "не менее 10"),
        ("qwerty123456", "распространён"),
        ("QWERTYUIOP", "распространён"),
        ("password123", "распространён"),
        ("ivan.petrov2024", "адресом почты"),
        ("aaaaaaaaaaaa", "распространён"),
    ],
)
def test_password_policy(password, fragment):
    problem = passwords.password_problem(password, email="ivan.petrov@example.com")
    assert problem is not None and fragment in problem


def test_password_policy_accepts_a_good_password():
    assert passwords.password_problem(PASSWORD, email="ivan@example.com") is None
    assert len(passwords.common_passwords()) > 2000
    assert passwords.password_problem(passwords.generate_password()) is None


# --- registration and confirmation ---------------------------------------------------


def test_registration_confirmation_flow(session, smtp_server: SmtpSink):
    message = accounts.register(
        session, email="New.User@Example.com", password=PASSWORD, name="Новый"
    )
    session.commit()
    assert "письмо" in message
    user = accounts.get_user_by_email(session, email="new.user@example.com")
    assert user is not None and user.confirmed_at is None and user.role == Role.ANALYST

    result = sign_in(session, "new.user@example.com")
    assert result.status == "error" and result.unconfirmed
    assert "не подтверждён" in result.message

    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "new.user@example.com"
    link = smtp_server.link(mail, "/confirm")
    assert link.startswith("http://localhost:3000/confirm?token=")
    token = smtp_server.token(mail, "/confirm")
    stored = session.exec(select(OneTimeToken)).one()
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash

    accounts.confirm_email(session, token=token)
    session.commit()
    with pytest.raises(AccountError, match="недействительна"):
        accounts.confirm_email(session, token=token)  # single use
    assert sign_in(session, "new.user@example.com").ok


def test_confirmation_link_expires_after_24h(session, smtp_server: SmtpSink):
    accounts.register(session, email="late@example.com", password=PASSWORD)
    session.commit()
    token = smtp_server.token(smtp_server.wait_for(1)[0], "/confirm")
    later = utcnow() + timedelta(hours=24, minutes=1)
    with pytest.raises(AccountError):
        accounts.confirm_email(session, token=token, now=later)
    assert not accounts.check_link_token(session, token=token, purpose="confirm", now=later)
    assert accounts.check_link_token(session, token=token, purpose="confirm")


def test_resend_confirmation(session, smtp_server: SmtpSink):
    accounts.register(session, email="again@example.com", password=PASSWORD)
    session.commit()
    same = accounts.resend_confirmation(session, email="again@example.com")
    session.commit()
    assert same == accounts.resend_confirmation(session, email="nobody@example.com")
    session.commit()
    mails = smtp_server.wait_for(2)
    assert len(mails) == 2 and all(m["To"] == "again@example.com" for m in mails)
    accounts.confirm_email(session, token=smtp_server.token(mails[1], "/confirm"))


def test_registering_an_existing_address_reveals_nothing(session, smtp_server: SmtpSink):
    make_user(session, "taken@example.com")
    known = accounts.register(session, email="taken@example.com", password=PASSWORD)
    session.commit()
    unknown = accounts.register(session, email="free@example.com", password=PASSWORD)
    session.commit()
    assert known == unknown
    mails = smtp_server.wait_for(2)
    owner_mail = next(m for m in mails if m["To"] == "taken@example.com")
    assert "уже существует" in SmtpSink.body(owner_mail)


def test_registration_validates_input(session):
    with pytest.raises(AccountError, match="корректный"):
        accounts.register(session, email="not-an-email", password=PASSWORD)
    with pytest.raises(AccountError, match="не менее"):
        accounts.register(session, email="a@example.com", password="short")


def test_self_registration_can_be_disabled(session):
    admin = make_user(session, "admin@example.com", Role.ADMIN)
    system_settings.set_setting(session, actor=admin, key="self_registration", value=False)
    session.commit()
    with pytest.raises(AccountError, match="отключена"):
        accounts.register(session, email="x@example.com", password=PASSWORD)


# --- sign in / out and sessions --------------------------------------------------------


def test_sign_in_creates_a_hashed_session_and_sign_out_revokes_it(session):
    user = make_user(session, "a@example.com")
    result = sign_in(session, "A@example.com ")
    assert result.ok and result.token and result.user_id == user.id
    row = session.exec(select(AuthSession)).one()
    assert row.token_hash == hash_token(result.token) and row.ip == "10.0.0.1"
    assert sessions.resolve_session(session, token=result.token).id == user.id
    assert session.get(User, user.id).last_login_at is not None

    accounts.sign_out(session, token=result.token)
    session.commit()
    assert sessions.resolve_session(session, token=result.token) is None
    actions = set(session.exec(select(AuditEvent.action)).all())
    assert {"auth.sign_in", "auth.sign_out"} <= actions


def test_wrong_password_and_unknown_email_give_the_same_message(session):
    make_user(session, "known@example.com")
    wrong = sign_in(session, "known@example.com", password="Wrong-Password-123")
    unknown = sign_in(session, "unknown@example.com", password="Wrong-Password-123")
    assert wrong.status == unknown.status == "error"
    assert wrong.message == unknown.message == accounts.MSG_BAD_CREDENTIALS
    assert wrong.token is None and unknown.token is None


def test_unknown_email_runs_a_dummy_hash(session, monkeypatch):
    calls = []
    original = passwords._ctx

    def counting():
        ctx = original()
        calls.append(1)
        return ctx

    monkeypatch.setattr(passwords, "_ctx", counting)
    sign_in(session, "ghost@example.com")
    assert calls, "no hash verification for an unknown email"


def test_session_idle_and_absolute_expiry(session):
    make_user(session, "s@example.com")
    now = utcnow()
    result = sign_in(session, "s@example.com", now=now)
    token = result.token
    # used every 6 days: the idle timeout slides...
    for day in (6, 12, 18, 24):
        assert sessions.resolve_session(session, token=token, now=now + timedelta(days=day))
        session.commit()
    # ...but the absolute lifetime ends it after 30 days
    assert (
        sessions.resolve_session(session, token=token, now=now + timedelta(days=30, minutes=1))
        is None
    )
    other = sign_in(session, "s@example.com", now=now).token
    assert sessions.resolve_session(session, token=other, now=now + timedelta(days=8)) is None


def test_last_seen_updated_at_most_once_a_minute(session):
    make_user(session, "seen@example.com")
    now = utcnow()
    token = sign_in(session, "seen@example.com", now=now).token
    sessions.resolve_session(session, token=token, now=now + timedelta(seconds=30))
    session.commit()
    row = session.exec(select(AuthSession)).one()
    session.refresh(row)
    assert row.last_seen_at == now.replace(microsecond=row.last_seen_at.microsecond)
    sessions.resolve_session(session, token=token, now=now + timedelta(seconds=90))
    session.commit()
    session.refresh(row)
    assert row.last_seen_at > now + timedelta(seconds=60)


def test_garbage_tokens_resolve_to_nobody(session):
    assert sessions.resolve_session(session, token=None) is None
    assert sessions.resolve_session(session, token="") is None
    assert sessions.resolve_session(session, token="nonsense") is None


def test_sign_out_everywhere_and_revoke_one(session):
    user = make_user(session, "many@example.com")
    tokens = [sign_in(session, "many@example.com").token for _ in range(3)]
    listed = sessions.list_active_sessions(session, user=user, current_token=tokens[0])
    assert len(listed) == 3 and sum(item["current"] for item in listed) == 1
    accounts.revoke_my_session(session, user=user, session_id=listed[-1]["id"])
    session.commit()
    assert len(sessions.list_active_sessions(session, user=user)) == 2
    other = make_user(session, "other@example.com")
    with pytest.raises(AccountError):
        accounts.revoke_my_session(session, user=other, session_id=listed[0]["id"])
    assert accounts.sign_out_everywhere(session, user=user) == 2
    session.commit()
    assert all(sessions.resolve_session(session, token=t) is None for t in tokens)


def test_blocked_users_sessions_stop_working_immediately(session):
    user = make_user(session, "blocked@example.com")
    token = sign_in(session, "blocked@example.com").token
    user.blocked_at = utcnow()  # even without revoking the sessions
    session.add(user)
    session.commit()
    assert sessions.resolve_session(session, token=token) is None
    result = sign_in(session, "blocked@example.com")
    assert result.status == "error" and "заблокирована" in result.message


# --- password change and reset ----------------------------------------------------------


def test_change_password_revokes_other_sessions(session):
    user = make_user(session, "change@example.com")
    current = sign_in(session, "change@example.com").token
    other = sign_in(session, "change@example.com").token
    with pytest.raises(AccountError, match="Текущий пароль"):
        accounts.change_password(
            session, user=user, current_password="wrong-password-1", new_password=NEW_PASSWORD
        )
    with pytest.raises(AccountError, match="распространён"):
        accounts.change_password(
            session, user=user, current_password=PASSWORD, new_password="qwerty123456"
        )
    revoked = accounts.change_password(
        session,
        user=user,
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        current_token=current,
    )
    session.commit()
    assert revoked == 1
    assert sessions.resolve_session(session, token=current) is not None
    assert sessions.resolve_session(session, token=other) is None
    assert not sign_in(session, "change@example.com").ok
    assert sign_in(session, "change@example.com", password=NEW_PASSWORD).ok


def test_password_reset_flow(session, smtp_server: SmtpSink):
    make_user(session, "forgot@example.com")
    old_token = sign_in(session, "forgot@example.com").token
    message = accounts.request_password_reset(session, email="Forgot@example.com")
    session.commit()
    [mail] = smtp_server.wait_for(1)
    token = smtp_server.token(mail, "/reset-password")
    assert accounts.check_link_token(session, token=token, purpose="reset")
    with pytest.raises(AccountError, match="не менее"):
        accounts.reset_password(session, token=token, new_password="short")
    accounts.reset_password(session, token=token, new_password=NEW_PASSWORD)
    session.commit()
    assert message == accounts.MSG_RESET_SENT
    assert sessions.resolve_session(session, token=old_token) is None
    with pytest.raises(AccountError, match="недействительна"):
        accounts.reset_password(session, token=token, new_password=NEW_PASSWORD + "x")
    assert sign_in(session, "forgot@example.com", password=NEW_PASSWORD).ok


def test_reset_link_expires_after_an_hour(session, smtp_server: SmtpSink):
    make_user(session, "hour@example.com")
    accounts.request_password_reset(session, email="hour@example.com")
    session.commit()
    token = smtp_server.token(smtp_server.wait_for(1)[0], "/reset-password")
    with pytest.raises(AccountError):
        accounts.reset_password(
            session, token=token, new_password=NEW_PASSWORD, now=utcnow() + timedelta(minutes=61)
        )


def test_reset_also_confirms_an_unconfirmed_account(session, smtp_server: SmtpSink):
    make_user(session, "unconf@example.com", confirmed=False)
    accounts.request_password_reset(session, email="unconf@example.com")
    session.commit()
    token = smtp_server.token(smtp_server.wait_for(1)[0], "/reset-password")
    accounts.reset_password(session, token=token, new_password=NEW_PASSWORD)
    session.commit()
    assert sign_in(session, "unconf@example.com", password=NEW_PASSWORD).ok


# --- invitations and profile ---------------------------------------------------------


def test_invitation_flow(session, smtp_server: SmtpSink):
    from socstat.services import admin as admin_service

    admin = make_user(session, "boss@example.com", Role.ADMIN, name="Босс")
    invited = admin_service.invite_user(
        session, actor=admin, email="newbie@example.com", role=Role.DIRECTOR
    )
    session.commit()
    assert invited.invited and not invited.confirmed
    [mail] = smtp_server.wait_for(1)
    token = smtp_server.token(mail, "/invite")
    assert "72 часа" in SmtpSink.body(mail)
    assert not sign_in(session, "newbie@example.com", password="").ok
    accounts.accept_invitation(session, token=token, password=NEW_PASSWORD, name="Новичок")
    session.commit()
    result = sign_in(session, "newbie@example.com", password=NEW_PASSWORD)
    assert result.ok
    with pytest.raises(AccountError):
        accounts.accept_invitation(session, token=token, password=NEW_PASSWORD)
    expired_check = utcnow() + timedelta(hours=73)
    assert not accounts.check_link_token(session, token=token, purpose="invite", now=expired_check)


def test_update_profile(session):
    user = make_user(session, "me@example.com")
    accounts.update_profile(session, user=user, name=" Я ", timezone="Asia/Yekaterinburg")
    assert user.name == "Я" and user.timezone == "Asia/Yekaterinburg"
    with pytest.raises(AccountError):
        accounts.update_profile(session, user=user, name="Я", timezone="Mars/Base")
