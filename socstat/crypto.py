"""Secrets at rest (VK tokens, SMTP password, TOTP secrets) and token hashing."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from socstat.settings import get_settings


class SecretDecryptionError(RuntimeError):
    """A stored secret cannot be decrypted (wrong SOCSTAT_SECRET_KEY?)."""


def _derive(purpose: bytes, secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"socstat", info=purpose)
    return hkdf.derive(secret_key.encode())


def _fernet() -> Fernet:
    key = _derive(b"secrets-at-rest", get_settings().effective_secret_key)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError("stored secret cannot be decrypted") from exc


def hash_token(token: str) -> str:
    """Keyed hash for server-minted tokens (sessions, links): only this is stored."""
    key = _derive(b"token-hash", get_settings().effective_secret_key)
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def mask_secret(plain: str) -> str:
    """What a secret looks like on screen: its last four characters only."""
    return "••••" + plain[-4:] if len(plain) > 8 else "••••"
