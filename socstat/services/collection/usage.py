"""Platform API use per quota day, token and method (the ApiUsage table).

Every collection run adds what its collector asked of the platform (calls and errors by
token and method) when it finishes, whichever worker ran it — the counts are upserted, so
concurrent workers add up instead of overwriting each other. /metrics (at scrape time, in
any process) and the «Система» page read them: calls and errors by method and code, and
each token's quota used and left today. Tokens appear masked; the key is a fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from socstat.collectors.registry import daily_quotas
from socstat.models import ApiUsage, utcnow

# (token fingerprint, method, code) → count; code "" = calls answered (what quotas charge)
UsageCounts = dict[tuple[str, str, str], int]


@dataclass(frozen=True)
class TokenQuota:
    """One token's use of one limited method today (VK: the Moscow day)."""

    masked: str
    method: str
    used: int
    limit: int

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


def usage_delta(after: UsageCounts, before: UsageCounts) -> UsageCounts:
    return {key: n - before.get(key, 0) for key, n in after.items() if n - before.get(key, 0)}


def quota_day(platform: str) -> date:
    """The day the platform's quotas count in now (without quotas: the UTC date)."""
    return daily_quotas(platform)[0] or utcnow().date()


def record_usage(
    session: Session,
    *,
    platform: str,
    day: date,
    counts: UsageCounts,
    masks: dict[str, str],
) -> None:
    """Add `counts` to the day's rows (one upsert; the caller commits)."""
    rows = [
        {
            "platform": platform,
            "day": day,
            "token": fingerprint,
            "token_masked": masks.get(fingerprint, "")[:32],
            "method": method[:64],
            "code": code[:32],
            "count": count,
        }
        for (fingerprint, method, code), count in sorted(counts.items())
        if count
    ]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ApiUsage.__table__  # type: ignore[attr-defined]
    insert = dialect.insert(table).values(rows)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["platform", "day", "token", "method", "code"],
            set_={"count": table.c.count + insert.excluded.count},
        )
    )


def method_totals(session: Session, *, platform: str = "vk") -> dict[tuple[str, str], int]:
    """(method, code) → count over all days; code "" are the calls made."""
    rows = session.exec(
        select(ApiUsage.method, ApiUsage.code, func.sum(ApiUsage.count))
        .where(ApiUsage.platform == platform)
        .group_by(ApiUsage.method, ApiUsage.code)
    ).all()
    return {(method, code): int(total) for method, code, total in rows}


def token_quotas(session: Session, *, platform: str = "vk") -> list[TokenQuota]:
    """Quota used and left today for every token used today and every limited method.
    A token not used today has its whole quota left and is not listed."""
    day, limits = daily_quotas(platform)
    if day is None or not limits:
        return []
    rows = session.exec(
        select(ApiUsage.token, ApiUsage.token_masked, ApiUsage.method, ApiUsage.count).where(
            ApiUsage.platform == platform, ApiUsage.day == day, ApiUsage.code == ""
        )
    ).all()
    masks = {token: masked for token, masked, _method, _count in rows}
    used = {(token, method): count for token, _masked, method, count in rows}
    return [
        TokenQuota(masks[token], method, used.get((token, method), 0), limit)
        for token in sorted(masks, key=lambda t: masks[t])
        for method, limit in sorted(limits.items())
    ]
