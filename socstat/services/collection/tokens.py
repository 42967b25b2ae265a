"""Platform tokens for collection: which are configured, leasing them to one run at a time,
and telling admins about tokens the platform refused.

A token is leased through a PostgreSQL advisory lock keyed by its fingerprint and held on
its own connection for the run, so two processes never spend one token's request rate
together, and a dead process's lease ends with its connection. SQLite runs one collection
at a time (the coordinator's process lock), so no lease is needed there.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from socstat.collectors.base import DEMO_TOKEN, Collector, TokenProblem, token_fingerprint
from socstat.collectors.registry import create_collector
from socstat.db import session_scope
from socstat.models import ApiToken, Notification, Role, User, utcnow
from socstat.services import system_settings
from socstat.services.locks import ProcessLock
from socstat.settings import Settings, get_settings


def configured_tokens(
    session: Session | None = None, settings: Settings | None = None
) -> list[str]:
    """VK tokens as "kind:token": SOCSTAT_VK_TOKENS (always) plus valid stored ApiTokens."""
    settings = settings or get_settings()
    tokens = [t.strip() for t in re.split(r"[,;\s]+", settings.vk_tokens) if t.strip()]
    if session is not None:
        tokens.extend(f"{t.kind}:{t.token}" for t in system_settings.active_vk_tokens(session))
    return list(dict.fromkeys(tokens))


def collection_tokens(
    session: Session | None = None, settings: Settings | None = None
) -> list[str]:
    """The tokens collection uses: the configured ones (the demo token in demo mode)."""
    settings = settings or get_settings()
    if session is None:
        with session_scope() as own:
            tokens = configured_tokens(own, settings)
    else:
        tokens = configured_tokens(session, settings)
    if not tokens and settings.demo_mode:
        tokens = [DEMO_TOKEN]
    return tokens


def make_collector(
    session: Session | None = None,
    settings: Settings | None = None,
    *,
    platform: str = "vk",
    tokens: list[str] | None = None,
    **options: Any,
) -> Collector:
    """The platform's collector with `tokens` (default: every one of `collection_tokens`).

    `options` go to the collector (e.g. max_retries, backoff_base) — mainly for tests.
    """
    settings = settings or get_settings()
    if tokens is None:
        tokens = collection_tokens(session, settings)
    return create_collector(platform, settings=settings, tokens=tokens, **options)


class TokenLeases:
    """Every token of one collector, leased to this process for one run (PostgreSQL)."""

    def __init__(self, fingerprints: list[str]) -> None:
        self._locks = [
            ProcessLock(key=int(fp[:15], 16), name=f"token-{fp}") for fp in sorted(fingerprints)
        ]

    def acquire(self) -> bool:
        """All or nothing: False (and nothing held) when another run holds one of them."""
        for lock in self._locks:
            if not lock.acquire():
                self.release()
                return False
        return True

    def release(self) -> None:
        for lock in self._locks:
            lock.release()


def report_invalid_tokens(session: Session, problems: list[TokenProblem]) -> None:
    """Mark stored tokens invalid — the system alerts check tells admins about those, once —
    and tell every admin directly about a token from the environment, which has no row
    (unread notifications dedupe)."""
    stored = _mark_stored_tokens_invalid(session, problems)
    admins = session.exec(
        select(User.id).where(User.role == Role.ADMIN, User.blocked_at.is_(None))
    ).all()
    for problem in problems:
        if problem.fingerprint in stored:
            continue
        title = f"Токен VK {problem.masked} недействителен"
        body = (
            f"VK отклонил токен: {problem_reason(problem) or 'ошибка авторизации'}. "
            "Сбор продолжается остальными токенами; замените токен в переменной окружения."
        )
        for admin_id in admins:
            exists = session.exec(
                select(Notification.id).where(
                    Notification.user_id == admin_id,
                    Notification.title == title,
                    Notification.read_at.is_(None),
                )
            ).first()
            if exists is None:
                session.add(
                    Notification(user_id=admin_id, title=title, body=body, link="/admin/system")
                )


def problem_reason(problem: TokenProblem) -> str:
    return f"{problem.reason} (код {problem.code})".strip() if problem.code else problem.reason


def _mark_stored_tokens_invalid(session: Session, problems: list[TokenProblem]) -> set[str]:
    """Mark the stored tokens among ``problems`` invalid; returns the fingerprints of every
    problem token that is stored (already invalid or not)."""
    from socstat.crypto import SecretDecryptionError, decrypt_secret

    reasons = {p.fingerprint: problem_reason(p) for p in problems}
    stored: set[str] = set()
    for row in session.exec(select(ApiToken)).all():
        try:
            fingerprint = token_fingerprint(decrypt_secret(row.token_enc))
        except SecretDecryptionError:
            continue
        if fingerprint not in reasons:
            continue
        stored.add(fingerprint)
        if row.invalid_at is None:
            row.invalid_at = utcnow()
            row.invalid_reason = (reasons[fingerprint] or "VK: ошибка авторизации")[:500]
            session.add(row)
    return stored
