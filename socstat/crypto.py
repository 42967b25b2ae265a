"""Secrets at rest (VK tokens, SMTP password, TOTP secrets) and token hashing.

The current key is SOCSTAT_SECRET_KEY or, outside prod when it is unset, a random key
generated once into ``<data dir>/secret_key`` (mode 0600). Keys listed in
SOCSTAT_SECRET_KEY_PREVIOUS still decrypt (MultiFernet) until ``socstat secrets rotate``
has re-encrypted everything with the current key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from socstat.settings import get_settings

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret_key"
# The fixed development key of earlier versions: outside prod it still decrypts what was
# stored with it (never encrypts), so `socstat secrets rotate` can move such data over.
LEGACY_DEV_SECRET_KEY = "socstat-dev-only-secret-key-change-me"


class SecretDecryptionError(RuntimeError):
    """A stored secret cannot be decrypted with any configured key."""


@dataclass(frozen=True)
class KeyOrigin:
    """Where the current key comes from (never the key itself)."""

    source: str  # "env" | "file"
    path: Path | None
    previous: int  # how many previous keys still decrypt


def _derive(purpose: bytes, secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"socstat", info=purpose)
    return hkdf.derive(secret_key.encode())


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


@functools.lru_cache(maxsize=8)
def _file_key(data_dir: Path) -> str:
    """The generated key under the data directory; created (0600) when missing.

    Written to a temporary file and hard-linked into place, so concurrent first runs
    (several workers) agree on one key and nobody reads a half-written file.
    """
    path = key_file(data_dir)
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temporary, path)
        log.warning(
            "SOCSTAT_SECRET_KEY is not set: generated a random key in %s (keep this file; "
            "losing it makes stored tokens and 2FA secrets unreadable)",
            path,
        )
    except FileExistsError:
        pass  # another process created it first: use theirs
    finally:
        temporary.unlink()
    return path.read_text().strip()


def key_origin() -> KeyOrigin:
    settings = get_settings()
    previous = len(settings.previous_secret_keys)
    if settings.secret_key:
        return KeyOrigin(source="env", path=None, previous=previous)
    return KeyOrigin(source="file", path=key_file(settings.data_dir), previous=previous)


def current_secret_key() -> str:
    settings = get_settings()
    return settings.secret_key or _file_key(settings.data_dir)


def _decrypting_keys() -> list[str]:
    settings = get_settings()
    keys = [current_secret_key(), *settings.previous_secret_keys]
    if settings.env != "prod":
        keys.append(LEGACY_DEV_SECRET_KEY)
    return list(dict.fromkeys(keys))


@functools.lru_cache(maxsize=32)
def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"secrets-at-rest", secret_key)))


def _multi() -> MultiFernet:
    return MultiFernet([_fernet(key) for key in _decrypting_keys()])


def encrypt_secret(plain: str) -> str:
    return _fernet(current_secret_key()).encrypt(plain.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _multi().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError("stored secret cannot be decrypted") from exc


def reencrypt_secret(token: str) -> str:
    """The same secret encrypted with the current key (raises SecretDecryptionError)."""
    try:
        return _multi().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError("stored secret cannot be decrypted") from exc


def _token_hash(secret_key: str, token: str) -> str:
    key = _derive(b"token-hash", secret_key)
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def hash_token(token: str) -> str:
    """Keyed hash for server-minted tokens (sessions, links): only this is stored."""
    return _token_hash(current_secret_key(), token)


def token_hash_candidates(token: str) -> list[str]:
    """The token's hash under the current and every previous key (for lookups of
    long-lived values such as recovery codes that must survive a key rotation)."""
    return [_token_hash(key, token) for key in _decrypting_keys()]


def mask_secret(plain: str) -> str:
    """What a secret looks like on screen: its last four characters only."""
    return "••••" + plain[-4:] if len(plain) > 8 else "••••"
