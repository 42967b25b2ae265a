"""Bulk seeding for benchmarks: N sources × D days of publications, counter snapshots and
daily aggregates, owned by one analyst — without going through VK.

    from bench.seed import seed
    result = seed(sources=200, days=365, end=date(2026, 11, 30))

Publications go in with PostgreSQL ``COPY`` (executemany on SQLite); the daily aggregates
are then rebuilt by the collection service's own ``recompute_daily_stats``, so they are
exactly what collection would have stored. About 9–10 publications per source and day
(posts, videos, clips); about 1 in 8 old posts has no views (as VK gives none), so unknown
figures are exercised too. Deterministic for a given ``seed_value``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, select

from socstat.db import get_engine, session_scope
from socstat.models import CounterSnapshot, Role, Source, Subscription, User
from socstat.models.sources import new_stats_token
from socstat.settings import get_settings

ITEM_COLUMNS = (
    "source_id",
    "kind",
    "external_id",
    "published_at",
    "local_date",
    "likes",
    "reposts",
    "comments",
    "views",
    "is_pinned",
    "is_ad",
    "is_repost",
    "text_preview",
    "collected_at",
    "updated_at",
)
PER_DAY = {"post": (3, 9), "video": (0, 4), "clip": (0, 3)}  # uniform ranges per source-day


@dataclass(frozen=True)
class SeedResult:
    user_email: str
    source_ids: list[int]
    items: int
    first_day: date
    last_day: date


def _items(
    source_id: int, days: list[date], rng: random.Random, collected: datetime
) -> Iterator[tuple]:
    tz = get_settings().tz
    size = rng.randint(1_000, 500_000)
    number = 0
    for day in days:
        midnight = datetime.combine(day, time(0), tzinfo=tz)
        for kind, (low, high) in PER_DAY.items():
            for _ in range(rng.randint(low, high)):
                number += 1
                likes = int(size * rng.uniform(0.0005, 0.01))
                views = int(size * rng.uniform(0.05, 0.6))
                no_views = (
                    kind == "post" and (collected.date() - day).days > 180 and number % 8 == 0
                )
                published = midnight + timedelta(seconds=rng.randint(0, 86_399))
                yield (
                    source_id,
                    kind,
                    f"{kind[0]}{number}",
                    published.astimezone(UTC),
                    day,
                    likes,
                    likes // 10,
                    likes // 5,
                    None if no_views else views,
                    False,
                    False,
                    False,
                    f"Публикация {number} сообщества {source_id}",
                    collected,
                    collected,
                )


def _copy_items(rows: list[tuple]) -> None:
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        from socstat.models import ContentItem

        table = ContentItem.__table__  # type: ignore[attr-defined]
        with engine.begin() as conn:
            conn.execute(table.insert(), [dict(zip(ITEM_COLUMNS, r, strict=True)) for r in rows])
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY contentitem ({', '.join(ITEM_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def seed(
    *,
    sources: int = 200,
    days: int = 365,
    end: date,
    seed_value: int = 1,
    email: str = "bench@example.org",
) -> SeedResult:
    """Seed the configured database (empty schema, migrated); returns what was made."""
    rng = random.Random(seed_value)
    first = end - timedelta(days=days - 1)
    all_days = [first + timedelta(days=i) for i in range(days)]
    tz = get_settings().tz
    collected = datetime.combine(end, time(12), tzinfo=tz).astimezone(UTC)
    with session_scope() as session:
        user = User(email=email, role=Role.ANALYST, name="Бенчмарк", confirmed_at=collected)
        session.add(user)
        session.flush()
        rows = [
            Source(
                external_id=str(100_000 + index),
                screen_name=f"club{100_000 + index}",
                name=f"Сообщество {index:03d}",
                url=f"https://vk.com/club{100_000 + index}",
                history_start=first,
                last_collected_at=collected,
                members_count=10_000 + index,
            )
            for index in range(sources)
        ]
        session.add_all(rows)
        session.flush()
        session.add_all(Subscription(user_id=user.id, source_id=s.id) for s in rows)
        ids = [s.id for s in rows if s.id is not None]
    total = 0
    for source_id in ids:
        items = list(_items(source_id, all_days, rng, collected))
        _copy_items(items)
        total += len(items)
        _snapshots_and_stats(source_id, all_days, {(r[4], r[1]) for r in items}, rng, collected)
    _analyze()
    return SeedResult(email, ids, total, first, end)


def _analyze() -> None:
    """Fresh planner statistics, as autovacuum would gather them on a live database."""
    from sqlalchemy import text

    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def _snapshots_and_stats(
    source_id: int,
    days: list[date],
    touched: set[tuple[date, str]],
    rng: random.Random,
    collected: datetime,
) -> None:
    from socstat.services.collection import recompute_daily_stats

    members = rng.randint(5_000, 500_000)
    with session_scope() as session:
        snapshots = []
        for day in days:
            members += rng.randint(-50, 120)
            snapshots.append(
                CounterSnapshot(
                    source_id=source_id, local_date=day, members=members, taken_at=collected
                )
            )
        session.add_all(snapshots)
        recompute_daily_stats(session, source_id=source_id, days=touched, now=collected)
        source = session.get(Source, source_id)
        source.stats_token = new_stats_token()  # as collection does with new aggregates


def seeded_summary(email: str = "bench@example.org") -> SeedResult:
    """What an earlier ``seed`` left in the database (``--reuse``)."""
    from sqlalchemy import func

    from socstat.models import ContentItem

    with session_scope() as session:
        user = seeded_user(session, email)
        ids = list(
            session.exec(select(Subscription.source_id).where(Subscription.user_id == user.id))
        )
        items = session.exec(select(func.count()).select_from(ContentItem)).one()
        first, last = session.exec(
            select(func.min(ContentItem.local_date), func.max(ContentItem.local_date))
        ).one()
    return SeedResult(email, ids, int(items), first, last)


# built once: the timed calls look the user up every time (as the app resolves its actor),
# and a statement built anew costs SQLAlchemy more than the lookup
_USER_BY_EMAIL = select(User).where(User.email == bindparam("email"))


def seeded_user(session: Session, email: str = "bench@example.org") -> User:
    user = session.exec(_USER_BY_EMAIL, params={"email": email}).first()
    if user is None:
        raise LookupError(f"{email} not seeded")
    return user


def item_count_hint(sources: int, days: int) -> int:
    """Roughly how many publications ``seed`` makes (for progress messages)."""
    per_day = sum((low + high) / 2 for low, high in PER_DAY.values())
    return int(sources * days * per_day)


__all__ = ["SeedResult", "item_count_hint", "seed", "seeded_user"]
