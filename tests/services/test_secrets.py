"""Secret keys: rotation with SOCSTAT_SECRET_KEY_PREVIOUS, and secrets no key can read."""

from __future__ import annotations

import pyotp
import pytest
from sqlmodel import select

from socstat.crypto import SecretDecryptionError, decrypt_secret, encrypt_secret
from socstat.models.audit import AuditEvent
from socstat.models.base import utcnow
from socstat.models.system import ApiToken, SystemSetting
from socstat.services import accounts, system_settings, twofactor
from socstat.services.delivery import sms, telegram
from socstat.services.secrets import rotate_secrets
from socstat.settings import reset_settings_cache
from tests.services.accounts_fixtures import PASSWORD, make_user

KEY_A = "first-key-0123456789abcdef"
KEY_B = "second-key-0123456789abcdef"
KEY_C = "stranger-key-0123456789abcdef"
VK_TOKEN = "vk1.a.token-value-0123456789"
SMS_KEY = "sms-api-key-0123456789"
BOT_TOKEN = "123456:" + "B" * 35


@pytest.fixture
def use_key(monkeypatch):
    def switch(current: str, previous: str = "") -> None:
        monkeypatch.setenv("SOCSTAT_SECRET_KEY", current)
        monkeypatch.setenv("SOCSTAT_SECRET_KEY_PREVIOUS", previous)
        reset_settings_cache()

    yield switch
    monkeypatch.undo()
    reset_settings_cache()


def _store_every_kind(session, admin):
    system_settings.add_vk_token(session, actor=admin, token=VK_TOKEN, kind="user")
    system_settings.set_smtp(
        session, actor=admin, host="127.0.0.1", port=2525, password="smtp-pass", from_addr="a@b.c"
    )
    sms.set_gateway(session, actor=admin, base_url="http://127.0.0.1:9", api_key=SMS_KEY)
    telegram.set_bot(session, actor=admin, token=BOT_TOKEN, username="socstat_bot")
    user = make_user(session, "totp@example.com")
    enrolment = twofactor.begin_enrolment(session, user=user)
    now = utcnow()
    codes = twofactor.confirm_enrolment(
        session, user=user, code=pyotp.TOTP(enrolment.secret).at(now), now=now
    )
    session.commit()
    return user, enrolment.secret, codes


def test_previous_keys_read_and_rotate_moves_everything_to_the_current_key(session, use_key):
    use_key(KEY_A)
    admin = make_user(session, "admin@example.com", role="admin")
    user, secret, _ = _store_every_kind(session, admin)

    use_key(KEY_B)  # the old key forgotten: nothing is readable
    assert system_settings.list_vk_tokens(session, actor=admin)[0].unreadable
    assert system_settings.smtp_view(session, actor=admin).password_unreadable
    assert sms.gateway_view(session, actor=admin)["key_unreadable"]
    assert telegram.bot_view(session, actor=admin)["token_unreadable"]
    assert sms.gateway_config(session) is None and telegram.bot_config(session) is None

    use_key(KEY_B, previous=f"{KEY_C}, {KEY_A}")
    assert not system_settings.list_vk_tokens(session, actor=admin)[0].unreadable
    assert system_settings.smtp_config(session).password == "smtp-pass"
    report = rotate_secrets(session)
    session.commit()
    assert {k: (c.rotated, c.unreadable) for k, c in report.kinds.items()} == {
        "vk_token": (1, 0),
        "smtp_password": (1, 0),
        "sms_api_key": (1, 0),
        "telegram_token": (1, 0),
        "totp_secret": (1, 0),
    }

    use_key(KEY_B)  # previous keys dropped after the rotation: still all readable
    assert [t.token for t in system_settings.active_vk_tokens(session)] == [VK_TOKEN]
    assert system_settings.smtp_config(session).password == "smtp-pass"
    assert sms.gateway_config(session).api_key == SMS_KEY
    assert telegram.bot_config(session).token == BOT_TOKEN
    session.refresh(user)
    assert decrypt_secret(user.totp_secret_enc) == secret


def test_a_secret_no_key_reads_is_counted_audited_and_kept(session, use_key):
    use_key(KEY_C)
    admin = make_user(session, "admin@example.com", role="admin")
    system_settings.add_vk_token(session, actor=admin, token=VK_TOKEN, kind="user")
    session.commit()
    stranger = session.exec(select(ApiToken)).one().token_enc
    use_key(KEY_A)
    system_settings.add_vk_token(session, actor=admin, token=VK_TOKEN + "x", kind="user")
    session.commit()

    use_key(KEY_B, previous=KEY_A)
    report = rotate_secrets(session)
    session.commit()
    assert (report.kinds["vk_token"].rotated, report.kinds["vk_token"].unreadable) == (1, 1)
    rows = session.exec(select(ApiToken).order_by(ApiToken.id)).all()
    assert rows[0].token_enc == stranger  # kept as it was, not dropped
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "secret.unreadable")).all()
    assert [(e.target_type, e.target_id) for e in events] == [("vk_token", str(rows[0].id))]
    listed = system_settings.list_vk_tokens(session, actor=admin)
    assert [t.unreadable for t in listed] == [True, False]
    assert [t.token for t in system_settings.active_vk_tokens(session)] == [VK_TOKEN + "x"]
    with pytest.raises(SecretDecryptionError):
        decrypt_secret(stranger)


def test_unreadable_totp_secret_asks_for_an_admin_reset_and_recovery_codes_still_work(
    session, use_key
):
    use_key(KEY_A)
    admin = make_user(session, "admin@example.com", role="admin")
    user, secret, codes = _store_every_kind(session, admin)
    use_key(KEY_C)  # the secret alone re-encrypted under a key nobody configured
    user.totp_secret_enc = encrypt_secret(secret)
    session.add(user)
    session.commit()
    use_key(KEY_A)
    now = utcnow()

    first = accounts.authenticate(session, email=user.email, password=PASSWORD, now=now)
    assert first.status == "needs_2fa"
    second = accounts.complete_two_factor(
        session, token=first.token, code=pyotp.TOTP(secret).at(now), now=now
    )
    session.commit()
    assert second.status == "error"
    assert "обратитесь к администратору, чтобы сбросить двухфакторную" in second.message
    audited = session.exec(select(AuditEvent).where(AuditEvent.action == "secret.unreadable")).all()
    assert [(e.target_type, e.target_id) for e in audited] == [("totp_secret", str(user.id))]

    with_code = accounts.complete_two_factor(session, token=first.token, code=codes[0], now=now)
    session.commit()
    assert with_code.status == "ok"


def test_recovery_codes_survive_a_rotation(session, use_key):
    use_key(KEY_A)
    admin = make_user(session, "admin@example.com", role="admin")
    user, _, codes = _store_every_kind(session, admin)
    use_key(KEY_B, previous=KEY_A)
    rotate_secrets(session)
    session.commit()
    assert twofactor.use_recovery_code(session, user=user, code=codes[1])


def test_new_secrets_use_the_current_key(use_key):
    use_key(KEY_A)
    token = encrypt_secret("plain")
    use_key(KEY_B, previous=KEY_A)
    assert decrypt_secret(token) == "plain"
    fresh = encrypt_secret("plain")
    use_key(KEY_B)
    assert decrypt_secret(fresh) == "plain"
    with pytest.raises(SecretDecryptionError):
        decrypt_secret(token)


def test_smtp_setting_row_is_rewritten(session, use_key):
    use_key(KEY_A)
    admin = make_user(session, "admin@example.com", role="admin")
    _store_every_kind(session, admin)
    before = session.get(SystemSetting, "smtp").value["password_enc"]
    use_key(KEY_B, previous=KEY_A)
    rotate_secrets(session)
    session.commit()
    session.expire_all()
    after = session.get(SystemSetting, "smtp").value
    assert after["password_enc"] != before and after["host"] == "127.0.0.1"
