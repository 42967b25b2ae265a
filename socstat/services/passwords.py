"""Password hashing (argon2id) and the password policy. Passwords are never logged."""

from __future__ import annotations

import functools
import secrets
import string
from pathlib import Path

from passlib.context import CryptContext

from socstat.settings import get_settings

MIN_LENGTH = 10
MAX_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"

# Strong defaults (OWASP: argon2id, 64 MiB, 3 passes); cheap parameters only when SOCSTAT_ENV=test.
_STRONG = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 4}
_TEST = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


@functools.cache
def _context(env: str) -> CryptContext:
    params = _TEST if env == "test" else _STRONG
    return CryptContext(
        schemes=["argon2"],
        argon2__type="ID",
        argon2__time_cost=params["time_cost"],
        argon2__memory_cost=params["memory_cost"],
        argon2__parallelism=params["parallelism"],
    )


def _ctx() -> CryptContext:
    return _context(get_settings().env)


@functools.cache
def _dummy_hash(env: str) -> str:
    return _context(env).hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return _ctx().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when the password matches; with no hash runs a dummy verification (same timing)."""
    if not password_hash:
        _ctx().verify(password, _dummy_hash(get_settings().env))
        return False
    try:
        return _ctx().verify(password, password_hash)
    except (ValueError, TypeError):
        return False


def dummy_verify(password: str = "") -> None:
    """Spend the time of one verification (used when the account is unknown)."""
    verify_password(password or "x", None)


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash uses weaker parameters than the current ones."""
    try:
        return _ctx().needs_update(password_hash)
    except (ValueError, TypeError):
        return True


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lowercase."""
    try:
        lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why a new password is not acceptable (Russian message), or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Пароль должен содержать не менее {MIN_LENGTH} символов."
    if len(password) > MAX_LENGTH:
        return f"Пароль должен содержать не более {MAX_LENGTH} символов."
    lowered = password.strip().lower()
    if lowered in common_passwords():
        return "Этот пароль слишком распространён. Выберите другой."
    local_part = email.split("@", 1)[0].strip().lower()
    if local_part and (lowered == local_part or (len(local_part) >= 4 and local_part in lowered)):
        return "Пароль не должен совпадать с адресом почты или содержать его."
    if len(set(password)) < 4:
        return "Пароль слишком простой: используйте больше разных символов."
    return None


def generate_password(length: int = 16) -> str:
    """A random password that satisfies the policy (for CLI-created users)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if password_problem(candidate) is None:
            return candidate
