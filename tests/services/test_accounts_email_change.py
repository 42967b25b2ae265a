"""Changing one's own email address: request with the password, a link to the new address,
a notice to the old one, the switch when the link is opened."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from socstat.crypto import hash_token
from socstat.models.accounts import OneTimeToken, User
from socstat.models.audit import AuditEvent
from socstat.models.base import utcnow
from socstat.services import accounts
from socstat.services.accounts import AccountError
from tests import smtp
from tests.services.accounts_fixtures import PASSWORD, make_user
from tests.smtp import SmtpSink

smtp_server = smtp.smtp_server  # the fixture

LINK_PATH = "/confirm-email"


def request(session, user, new_email, password=PASSWORD, **kw) -> str:
    message = accounts.request_email_change(
        session, user=user, new_email=new_email, current_password=password, ip="10.0.0.7", **kw
    )
    session.commit()
    return message


def link_token(sink: SmtpSink, to: str, *, wait: int = 2) -> str:
    """The token of the link in the email to ``to`` (after ``wait`` emails arrived)."""
    sink.wait_for(wait)
    [mail] = [m for m in sink.to(to) if "/confirm-email" in SmtpSink.body(m)]
    return sink.token(mail, LINK_PATH)


def test_change_email_happy_path(session, smtp_server: SmtpSink):
    user = make_user(session, "old@example.com", name="Ольга")
    message = request(session, user, "  New@Example.COM ")
    assert message == accounts.MSG_EMAIL_CHANGE_SENT

    # Nothing changes until the link is opened; the change is pending.
    assert session.get(User, user.id).email == "old@example.com"
    assert accounts.pending_email_change(session, user=user) == "new@example.com"

    mails = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in mails) == ["new@example.com", "old@example.com"]
    [notice] = smtp_server.to("old@example.com")
    notice_body = SmtpSink.body(notice)
    assert "new@example.com" in notice_body and "смените пароль" in notice_body
    assert LINK_PATH not in notice_body  # the link goes only to the new address
    [confirm_mail] = smtp_server.to("new@example.com")
    link = smtp_server.link(confirm_mail, LINK_PATH)
    assert link.startswith("http://localhost:3000/confirm-email?token=")
    token = smtp_server.token(confirm_mail, LINK_PATH)
    stored = session.exec(select(OneTimeToken)).one()
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash
    assert stored.purpose == accounts.EMAIL_CHANGE and stored.new_email == "new@example.com"

    changed = accounts.confirm_email_change(session, token=token, ip="10.0.0.8")
    session.commit()
    assert changed.id == user.id and changed.email == "new@example.com"
    assert accounts.get_user_by_email(session, email="old@example.com") is None
    assert accounts.pending_email_change(session, user=changed) is None
    assert accounts.authenticate(session, email="new@example.com", password=PASSWORD).ok
    assert not accounts.authenticate(session, email="old@example.com", password=PASSWORD).ok


def test_email_change_is_audited_without_tokens(session, smtp_server: SmtpSink):
    user = make_user(session, "audit-old@example.com")
    request(session, user, "audit-new@example.com")
    token = link_token(smtp_server, "audit-new@example.com")
    accounts.confirm_email_change(session, token=token, ip="10.0.0.8")
    session.commit()

    events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    by_action = {e.action: e for e in events}
    requested = by_action["user.email_change_requested"]
    assert requested.user_id == user.id and requested.ip == "10.0.0.7"
    changed = by_action["user.email_changed"]
    assert changed.user_id == user.id and changed.target_id == str(user.id)
    assert changed.details == {
        "old_email": "audit-old@example.com",
        "new_email": "audit-new@example.com",
        "sessions_ended": 0,
    }
    assert changed.ip == "10.0.0.8"
    everything = json.dumps([e.details for e in events], ensure_ascii=False)
    assert token not in everything and hash_token(token) not in everything


def test_wrong_password_is_refused_and_sends_nothing(session, smtp_server: SmtpSink):
    user = make_user(session, "pw@example.com")
    with pytest.raises(AccountError, match="пароль указан неверно") as caught:
        request(session, user, "pw-new@example.com", password="Not-The-Password-1")
    assert caught.value.field == "current_password"
    session.rollback()
    assert session.exec(select(OneTimeToken)).all() == []
    assert accounts.pending_email_change(session, user=user) is None
    assert smtp_server.wait_for(1, timeout=0.5) == []


@pytest.mark.parametrize(
    ("new_email", "fragment"),
    [
        ("", "Введите новый адрес"),
        ("not-an-email", "корректный адрес"),
        ("a@b", "корректный адрес"),
        ("x" * 320 + "@example.com", "не более 320"),
        (" Bad@Example.com", "текущий адрес"),
    ],
)
def test_bad_new_address_is_refused_inline(session, new_email, fragment):
    user = make_user(session, "bad@example.com")
    with pytest.raises(AccountError, match=fragment) as caught:
        request(session, user, new_email)
    assert caught.value.field == "new_email"
    assert accounts.new_email_problem(new_email, current_email=user.email) is not None


def test_taken_address_looks_the_same_but_sends_no_link(session, smtp_server: SmtpSink):
    user = make_user(session, "me@example.com")
    make_user(session, "taken@example.com")
    make_user(session, "free-owner@example.com")
    taken = request(session, user, "taken@example.com")
    pending_taken = accounts.pending_email_change(session, user=user)
    mails = smtp_server.wait_for(2)

    other = make_user(session, "me2@example.com")
    free = request(session, other, "free@example.com")
    assert taken == free == accounts.MSG_EMAIL_CHANGE_SENT  # same answer
    assert pending_taken == "taken@example.com"  # and the same pending state

    mails = smtp_server.wait_for(4)
    assert all(LINK_PATH not in SmtpSink.body(m) for m in smtp_server.to("taken@example.com"))
    [owner_mail] = smtp_server.to("taken@example.com")
    assert "ничего не изменено" in SmtpSink.body(owner_mail)
    [notice] = smtp_server.to("me@example.com")  # the requester's notice is the usual one
    assert "taken@example.com" in SmtpSink.body(notice)
    assert len([m for m in mails if LINK_PATH in SmtpSink.body(m)]) == 1  # free@ only
    assert session.get(User, user.id).email == "me@example.com"


def test_address_taken_before_the_link_is_opened(session, smtp_server: SmtpSink):
    user = make_user(session, "slow@example.com")
    request(session, user, "contested@example.com")
    token = link_token(smtp_server, "contested@example.com")
    make_user(session, "contested@example.com")
    with pytest.raises(AccountError) as caught:
        accounts.confirm_email_change(session, token=token)
    assert str(caught.value) == accounts.MSG_EMAIL_TAKEN
    session.rollback()
    assert session.get(User, user.id).email == "slow@example.com"


def test_expired_link_is_refused(session, smtp_server: SmtpSink):
    user = make_user(session, "exp@example.com")
    request(session, user, "exp-new@example.com")
    token = link_token(smtp_server, "exp-new@example.com")
    later = utcnow() + timedelta(hours=24, minutes=1)
    with pytest.raises(AccountError) as caught:
        accounts.confirm_email_change(session, token=token, now=later)
    assert str(caught.value) == accounts.MSG_BAD_LINK
    assert accounts.pending_email_change(session, user=user, now=later) is None
    assert session.get(User, user.id).email == "exp@example.com"


def test_link_works_once(session, smtp_server: SmtpSink):
    user = make_user(session, "once@example.com")
    request(session, user, "once-new@example.com")
    token = link_token(smtp_server, "once-new@example.com")
    accounts.confirm_email_change(session, token=token)
    session.commit()
    with pytest.raises(AccountError) as caught:
        accounts.confirm_email_change(session, token=token)
    assert str(caught.value) == accounts.MSG_BAD_LINK
    assert session.get(User, user.id).email == "once-new@example.com"


def test_newer_request_supersedes_the_older_one(session, smtp_server: SmtpSink):
    user = make_user(session, "two@example.com")
    request(session, user, "first@example.com")
    request(session, user, "second@example.com")
    first = link_token(smtp_server, "first@example.com", wait=4)
    second = link_token(smtp_server, "second@example.com", wait=4)
    assert accounts.pending_email_change(session, user=user) == "second@example.com"
    with pytest.raises(AccountError, match="недействительна"):
        accounts.confirm_email_change(session, token=first)
    session.rollback()
    accounts.confirm_email_change(session, token=second)
    session.commit()
    assert session.get(User, user.id).email == "second@example.com"


@pytest.mark.parametrize("token", ["", "garbage", "x" * 200])
def test_garbage_links_are_refused(session, token):
    make_user(session, "g@example.com")
    with pytest.raises(AccountError) as caught:
        accounts.confirm_email_change(session, token=token)
    assert str(caught.value) == accounts.MSG_BAD_LINK


def test_links_of_other_purposes_do_not_change_the_address(session):
    user = make_user(session, "purpose@example.com")
    reset_token = accounts.issue_token(session, user=user, purpose=accounts.RESET)
    session.commit()
    with pytest.raises(AccountError, match="недействительна"):
        accounts.confirm_email_change(session, token=reset_token)


def test_change_kills_links_sent_to_the_old_address(session, smtp_server: SmtpSink):
    user = make_user(session, "kill@example.com")
    accounts.request_password_reset(session, email="kill@example.com")
    session.commit()
    [reset_mail] = smtp_server.wait_for(1)
    reset_token = smtp_server.token(reset_mail, "/reset-password")
    request(session, user, "kill-new@example.com")
    token = link_token(smtp_server, "kill-new@example.com", wait=3)
    accounts.confirm_email_change(session, token=token)
    session.commit()
    assert not accounts.check_link_token(session, token=reset_token, purpose=accounts.RESET)


def test_cancel_withdraws_the_pending_change(session, smtp_server: SmtpSink):
    user = make_user(session, "cancel@example.com")
    request(session, user, "cancel-new@example.com")
    token = link_token(smtp_server, "cancel-new@example.com")
    assert accounts.cancel_email_change(session, user=user)
    session.commit()
    assert not accounts.cancel_email_change(session, user=user)  # nothing left to cancel
    assert accounts.pending_email_change(session, user=user) is None
    with pytest.raises(AccountError, match="недействительна"):
        accounts.confirm_email_change(session, token=token)
    actions = session.exec(select(AuditEvent.action)).all()
    assert "user.email_change_cancelled" in actions


def test_only_the_own_account_changes_and_blocked_accounts_cannot(session, smtp_server: SmtpSink):
    user = make_user(session, "own@example.com")
    bystander = make_user(session, "bystander@example.com")
    request(session, user, "own-new@example.com")
    token = link_token(smtp_server, "own-new@example.com")
    user.blocked_at = utcnow()
    session.add(user)
    session.commit()
    with pytest.raises(AccountError, match="недействительна"):
        accounts.confirm_email_change(session, token=token)
    session.rollback()
    with pytest.raises(AccountError, match="заблокирована"):
        request(session, user, "own-other@example.com")
    session.rollback()
    user.blocked_at = None
    session.add(user)
    session.commit()
    accounts.confirm_email_change(session, token=token)
    session.commit()
    assert session.get(User, user.id).email == "own-new@example.com"
    assert session.get(User, bystander.id).email == "bystander@example.com"
