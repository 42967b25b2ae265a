"""Persistence of collected results: requests from stored cursors, upserts, DailyStat rebuild.

Every source's result is stored in ONE transaction (source info and status, the day's
counter snapshot, content items and the affected DailyStat rows; the caller commits), so a
killed process loses at most the source in flight and a rerun continues with the sources
still due.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Float,
    Integer,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from socstat.collectors.base import CollectRequest, ContentRecord, CounterReading, SourceResult
from socstat.models import (
    CollectionRunSource,
    ContentItem,
    CounterSnapshot,
    DailyStat,
    HourlyStat,
    RunStatus,
    Source,
    SourceStatus,
    utcnow,
)
from socstat.models.sources import new_stats_token
from socstat.services.sources import apply_info
from socstat.settings import Settings, get_settings

INACCESSIBLE = frozenset(
    {
        SourceStatus.CLOSED,
        SourceStatus.PRIVATE,
        SourceStatus.DELETED,
        SourceStatus.BANNED,
        SourceStatus.WALL_DISABLED,
    }
)
_IN_CHUNK = 500


@dataclass
class ItemCounts:
    new: int = 0
    updated: int = 0


@dataclass(frozen=True)
class Persisted:
    """One stored result: the source's run status, item counts and the local days touched."""

    status: str
    counts: ItemCounts
    days: frozenset[date] = frozenset()


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def build_requests(
    session: Session, source_ids: list[int], *, now: datetime, settings: Settings
) -> dict[int, CollectRequest]:
    """One request per existing source, in the given order.

    First collection: from local midnight `backfill_days` ago (remembered as
    `history_start`); later: from min(cursor, local midnight `refresh_days` ago).
    """
    tz = settings.tz
    requests: dict[int, CollectRequest] = {}
    for chunk in _chunks(source_ids):
        sources = {s.id: s for s in session.exec(select(Source).where(Source.id.in_(chunk)))}
        since_of = {
            source_id: _since(source, now=now, tz=tz, settings=settings)
            for source_id, source in sources.items()
            if source_id is not None
        }
        known = _known_posts(session, since_of)
        for source_id in chunk:
            source = sources.get(source_id)
            if source is None:
                continue
            session.add(source)
            requests[source_id] = CollectRequest(
                external_id=source.external_id,
                since=since_of[source_id],
                known_posts=tuple(known.get(source_id, ())),
            )
    return requests


def _known_posts(session: Session, since_of: dict[int, datetime]) -> dict[int, list[str]]:
    """Stored, not deleted posts of each source published at or after its `since`."""
    if not since_of:
        return {}
    rows = session.execute(
        select(_ITEM.c.source_id, _ITEM.c.external_id, _ITEM.c.published_at).where(
            _ITEM.c.source_id.in_(list(since_of)),
            _ITEM.c.kind == "post",
            _ITEM.c.deleted_at.is_(None),
            _ITEM.c.published_at >= min(since_of.values()),
        )
    )
    known: dict[int, list[str]] = {}
    for source_id, external_id, published_at in rows:
        if published_at >= since_of[source_id]:
            known.setdefault(source_id, []).append(external_id)
    return known


def _since(source: Source, *, now: datetime, tz: ZoneInfo, settings: Settings) -> datetime:
    if source.history_start is None:
        source.history_start = local_date(now, tz) - timedelta(days=settings.backfill_days)
    if source.last_collected_at is None and source.cursor_published_at is None:
        return local_midnight(source.history_start, tz)
    refresh_from = local_midnight(local_date(now, tz) - timedelta(days=settings.refresh_days), tz)
    since = refresh_from
    if source.cursor_published_at is not None:
        since = min(since, source.cursor_published_at)
    return max(since, local_midnight(source.history_start, tz))


def _chunks(values: list[int], size: int = _IN_CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- persisting one result -------------------------------------------------------------


def persist_result(
    session: Session,
    *,
    source_id: int,
    result: SourceResult,
    run_id: int | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Persisted:
    """Store one source's result (the caller commits: one transaction per source)."""
    settings = settings or get_settings()
    now = now or utcnow()
    tz = settings.tz
    source = session.get(Source, source_id)
    if source is None:
        return Persisted(RunStatus.FAILED, ItemCounts())
    if result.info is not None:
        _upsert_snapshot(
            session, source_id, result.info.counters, result.info.members_count, now, tz
        )
    dated = _in_history(result.items, source.history_start, tz)
    counts, days = _upsert_items(session, source_id, dated, now)
    if result.complete and result.deleted_posts:
        days |= _mark_deleted(session, source_id, result.deleted_posts, now)
    recompute_daily_stats(session, source_id=source_id, days=days, now=now)
    # the source row changes last, so that the commit writes it in one UPDATE
    if result.info is not None:
        apply_info(source, result.info)
    status, error = _source_outcome(source, result)
    items = [record for record, _day in dated]
    _update_source(source, result, items, status=status, error=error, now=now)
    if days or result.info is not None:  # its aggregates or snapshot were rewritten
        source.stats_token = new_stats_token()
    session.add(source)
    if run_id is not None:
        session.execute(
            insert(_RUN_SOURCE).values(
                run_id=run_id,
                source_id=source_id,
                status=status,
                error=error[:1000],
                items_new=counts.new,
                items_updated=counts.updated,
                finished_at=now,
            )
        )
    return Persisted(status, counts, frozenset(day for day, _kind in days))


def _source_outcome(source: Source, result: SourceResult) -> tuple[str, str]:
    if result.complete:
        reason = source.status_reason if source.status in INACCESSIBLE else ""
        return RunStatus.OK, reason
    error = result.error or "Данные получены не полностью."
    if result.error_code is not None:
        error = f"{error} (код {result.error_code})"
    if result.info is None and not result.items:
        return RunStatus.FAILED, error
    return RunStatus.PARTIAL, error


def _update_source(
    source: Source,
    result: SourceResult,
    items: list[ContentRecord],
    *,
    status: str,
    error: str,
    now: datetime,
) -> None:
    source.last_attempt_at = now
    if status != RunStatus.OK:
        source.stale = True
        source.last_error = error[:1000]
        return
    source.stale = False
    source.last_error = ""
    source.last_collected_at = now
    newest = max((i.published_at for i in items if i.kind == "post"), default=None)
    if newest is not None and (
        source.cursor_published_at is None or newest > source.cursor_published_at
    ):
        source.cursor_published_at = newest


def _in_history(
    items: list[ContentRecord], history_start: date | None, tz: ZoneInfo
) -> list[tuple[ContentRecord, date]]:
    """The items with their local publication day, without those older than the source's
    history (e.g. an old pinned post)."""
    dated = [(item, local_date(item.published_at, tz)) for item in items]
    if history_start is None:
        return dated
    return [(item, day) for item, day in dated if day >= history_start]


def _upsert_snapshot(
    session: Session,
    source_id: int,
    counters: CounterReading,
    members: int | None,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """The day's counter snapshot, one statement (INSERT .. ON CONFLICT): the last reading
    wins, and a counter not given this time keeps the value read earlier that day."""
    values = {
        "members": members if members is not None else counters.members,
        "posts": counters.posts,
        "videos": counters.videos,
        "clips": counters.clips,
        "clips_views": counters.clips_views,
        "clips_likes": counters.clips_likes,
        "clips_followers": counters.clips_followers,
        "photos": counters.photos,
        "articles": counters.articles,
    }
    known = {name: value for name, value in values.items() if value is not None}
    statement = _snapshot_upsert(session.get_bind().dialect.name, tuple(known))
    session.execute(
        statement,
        {"source_id": source_id, "local_date": local_date(now, tz), "taken_at": now, **known},
    )


@functools.cache
def _snapshot_upsert(dialect: str, names: tuple[str, ...]) -> Any:
    """INSERT .. ON CONFLICT DO UPDATE of the day's snapshot setting `names` (and the time)."""
    columns = ("source_id", "local_date", "taken_at", *names)
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(_SNAPSHOT)
    statement = statement.values(
        {name: bindparam(name, type_=_SNAPSHOT.c[name].type) for name in columns}
    )
    return statement.on_conflict_do_update(
        index_elements=["source_id", "local_date"],
        set_={name: statement.excluded[name] for name in ("taken_at", *names)},
    )


_ENGAGEMENT = ("likes", "reposts", "comments", "views")
_FLAGS = ("is_pinned", "is_ad", "is_repost", "text_preview")
_ITEM = ContentItem.__table__  # type: ignore[attr-defined]
_SNAPSHOT = CounterSnapshot.__table__  # type: ignore[attr-defined]
_RUN_SOURCE = CollectionRunSource.__table__  # type: ignore[attr-defined]


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _upsert_items(
    session: Session,
    source_id: int,
    dated: list[tuple[ContentRecord, date]],
    now: datetime,
) -> tuple[ItemCounts, set[tuple[date, str]]]:
    """Insert new items, refresh known ones; returns counts and the (day, kind) touched.

    Plain Core statements (one bulk insert — COPY on PostgreSQL — and one executemany
    update per set of changed columns) rather than ORM objects: a first collection writes
    ~100k items and the unit of work was the bottleneck.
    """
    latest: dict[tuple[str, str], tuple[ContentRecord, date]] = {}
    for record, day in dated:
        latest[(record.kind, record.external_id[:64])] = (record, day)
    existing = _existing_items(session, source_id, list(latest))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    days: set[tuple[date, str]] = set()
    for key, (record, day) in latest.items():
        row = existing.get(key)
        if row is None:
            inserts.append(_new_item(source_id, record, day, now))
            days.add((day, record.kind))
            continue
        changes = _item_changes(row, record)
        if changes:
            updates.append({"item_id": row["id"], **changes, "updated_at": now})
        days.add((row["local_date"], row["kind"]))
    _insert_items(session, inserts)
    for columns, batch in _by_columns(updates).items():
        statement = (
            update(_ITEM)
            .where(_ITEM.c.id == bindparam("item_id"))
            .values({name: bindparam(name) for name in columns})
        )
        session.connection().execute(statement, batch)
    return ItemCounts(new=len(inserts), updated=len(updates)), days


def _insert_items(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new ContentItem rows: COPY on PostgreSQL (one round trip, no statement per
    row), an executemany INSERT on SQLite."""
    if not rows:
        return
    if not _is_postgresql(session):
        session.execute(insert(_ITEM), rows)
        return
    columns = list(rows[0])
    moments = [i for i, name in enumerate(columns) if isinstance(rows[0][name], datetime)]
    driver = session.connection().connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {_ITEM.name} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = list(row.values())
            for index in moments:  # COPY bypasses UTCDateTime: moments go as naive UTC
                values[index] = values[index].astimezone(UTC).replace(tzinfo=None)
            copy.write_row(values)


def _mark_deleted(
    session: Session, source_id: int, external_ids: list[str], now: datetime
) -> set[tuple[date, str]]:
    """Flag posts the platform confirmed gone; returns the (day, kind) pairs to rebuild."""
    dialect = session.get_bind().dialect.name
    statement = (
        update(_ITEM)
        .where(
            _ITEM.c.source_id == source_id,
            _ITEM.c.kind == "post",
            _among_param(dialect, _ITEM.c.external_id, "ids"),
            _ITEM.c.deleted_at.is_(None),
        )
        .values(deleted_at=now, updated_at=now)
        .returning(_ITEM.c.local_date)
    )
    days: set[tuple[date, str]] = set()
    for start in range(0, len(external_ids), _IN_CHUNK):
        rows = session.execute(statement, {"ids": external_ids[start : start + _IN_CHUNK]})
        days.update((day, "post") for (day,) in rows)
    return days


def _by_columns(updates: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Group update rows by the set of columns they change (one executemany per group)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in updates:
        columns = tuple(sorted(k for k in row if k != "item_id"))
        groups.setdefault(columns, []).append(row)
    return groups


def _existing_items(
    session: Session, source_id: int, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Stored rows for these (kind, external id) keys: one query per chunk of ids, whatever
    the kinds (ids of different kinds never collide: posts are "123", media "-1_123")."""
    wanted = set(keys)
    kinds = sorted({kind for kind, _external_id in keys})
    ids = sorted({external_id for _kind, external_id in keys})
    statement = _existing_query(session.get_bind().dialect.name)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        params = {"source_id": source_id, "kinds": kinds, "ids": ids[start : start + _IN_CHUNK]}
        for row in session.execute(statement, params).mappings():
            key = (row["kind"], row["external_id"])
            if key in wanted:
                found[key] = dict(row)
    return found


@functools.cache
def _existing_query(dialect: str) -> Any:
    columns = [_ITEM.c[name] for name in ("id", "kind", "external_id", "local_date")]
    columns += [_ITEM.c[name] for name in (*_ENGAGEMENT, *_FLAGS, "deleted_at")]
    return select(*columns).where(
        _ITEM.c.source_id == bindparam("source_id"),
        _among_param(dialect, _ITEM.c.kind, "kinds"),
        _among_param(dialect, _ITEM.c.external_id, "ids"),
    )


def _new_item(source_id: int, record: ContentRecord, day: date, now: datetime) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "kind": record.kind,
        "external_id": record.external_id[:64],
        "published_at": record.published_at,
        "local_date": day,
        "likes": record.likes,
        "reposts": record.reposts,
        "comments": record.comments,
        "views": record.views,
        "is_pinned": record.is_pinned,
        "is_ad": record.is_ad,
        "is_repost": record.is_repost,
        "text_preview": record.text_preview[:300],
        "collected_at": now,
        "updated_at": now,
    }


def _item_changes(row: dict[str, Any], record: ContentRecord) -> dict[str, Any]:
    """Newer readings overwrite; a figure not given this time keeps the old value."""
    changes: dict[str, Any] = {}
    for name in _ENGAGEMENT:
        value = getattr(record, name)
        if value is not None and value != row[name]:
            changes[name] = value
    flags = {
        "is_pinned": record.is_pinned,
        "is_ad": record.is_ad,
        "is_repost": record.is_repost,
        "text_preview": record.text_preview[:300],
    }
    for name, value in flags.items():
        if row[name] != value:
            changes[name] = value
    if row["deleted_at"] is not None:  # seen again: it was restored on the platform
        changes["deleted_at"] = None
    return changes


def recompute_daily_stats(
    session: Session, *, source_id: int, days: set[tuple[date, str]], now: datetime | None = None
) -> None:
    """Rebuild the DailyStat and HourlyStat rows of the touched local days from ContentItem
    (GROUP BY). The caller renews ``Source.stats_token`` in the same transaction (as
    ``store_result`` does), or analytics' in-process copies keep the old rows.

    Every kind of a touched day is rebuilt (the same statements per chunk of days, not per
    kind): a rebuild from the items is idempotent, so the extra pairs cost nothing wrong."""
    if not days:
        return
    now = now or utcnow()
    session.flush()
    dates = sorted({day for day, _kind in days})
    kinds = sorted({kind for _day, kind in days})
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        _register_sqlite_hour(session)
    statements = _rebuild_statements(dialect, get_settings().timezone)
    for start in range(0, len(dates), _IN_CHUNK):
        params = {
            "source_id": source_id,
            "kinds": kinds,
            "dates": dates[start : start + _IN_CHUNK],
            "now": now,
        }
        for statement in statements:
            session.execute(statement, params)


@functools.cache
def _rebuild_statements(dialect: str, zone: str) -> tuple[Any, ...]:
    """DELETE of the DailyStat and HourlyStat rows of one source's days, then INSERT ..
    SELECT of them from the items (parameters: source_id, kinds, dates, now). Built once:
    constructing these expressions per source cost more than running them."""
    daily, hourly, item = DailyStat.__table__, HourlyStat.__table__, _ITEM  # type: ignore[attr-defined]

    def touched(table: Any) -> tuple[Any, ...]:
        return (
            table.c.source_id == bindparam("source_id"),
            _among_param(dialect, table.c.kind, "kinds"),
            _among_param(dialect, table.c.local_date, "dates"),
        )

    alive = (*touched(item), item.c.deleted_at.is_(None))
    er_view = case(
        (
            and_(
                item.c.likes.is_not(None),
                item.c.reposts.is_not(None),
                item.c.comments.is_not(None),
                item.c.views > 0,
            ),
            cast(item.c.likes + item.c.reposts + item.c.comments, Float) / item.c.views,
        )
    )
    per_day = (
        select(
            item.c.source_id,
            item.c.local_date,
            item.c.kind,
            func.count(),
            func.sum(item.c.likes),
            func.sum(item.c.reposts),
            func.sum(item.c.comments),
            func.sum(item.c.views),
            func.count() - func.count(item.c.likes),
            func.count() - func.count(item.c.reposts),
            func.count() - func.count(item.c.comments),
            func.count() - func.count(item.c.views),
            func.sum(er_view),
            func.count(er_view),
            bindparam("now", type_=daily.c.updated_at.type),
        )
        .where(*alive)
        .group_by(item.c.source_id, item.c.local_date, item.c.kind)
    )
    daily_columns = [
        "source_id",
        "local_date",
        "kind",
        "count",
        "likes",
        "reposts",
        "comments",
        "views",
        "likes_unknown",
        "reposts_unknown",
        "comments_unknown",
        "views_unknown",
        "er_view_sum",
        "er_view_items",
        "updated_at",
    ]
    known = and_(
        item.c.likes.is_not(None), item.c.reposts.is_not(None), item.c.comments.is_not(None)
    )
    hour = _local_hour_sql(dialect, item.c.published_at, zone)
    per_hour = (
        select(
            item.c.source_id,
            item.c.local_date,
            item.c.kind,
            hour,
            func.count(),
            func.coalesce(
                func.sum(case((known, item.c.likes + item.c.reposts + item.c.comments))), 0
            ),
            func.count(case((known, 1))),
        )
        .where(*alive)
        .group_by(item.c.source_id, item.c.local_date, item.c.kind, hour)
    )
    hourly_columns = [
        "source_id", "local_date", "kind", "hour", "count", "reactions", "reactions_items"
    ]  # fmt: skip
    deletes = (delete(daily).where(*touched(daily)), delete(hourly).where(*touched(hourly)))
    inserts = (
        insert(daily).from_select(daily_columns, per_day),
        insert(hourly).from_select(hourly_columns, per_hour),
    )
    if dialect != "postgresql":
        return (*deletes, *inserts)
    # PostgreSQL runs both deletes as one statement (WITH), then both inserts as another:
    # the inserts read ContentItem only, and the deletes are done by then
    return tuple(
        select(literal(1)).add_cte(first.cte(f"{name}_daily")).add_cte(second.cte(f"{name}_hourly"))
        for name, (first, second) in (("gone", deletes), ("rebuilt", inserts))
    )


def _among_param(dialect: str, column: Any, name: str) -> Any:
    """`column IN :name` for a list parameter: one array parameter on PostgreSQL, an
    expanding IN elsewhere."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def local_hour(session: Session, column: Any, zone: str) -> Any:
    """The hour (0..23) of a stored UTC moment in ``zone``, as SQL."""
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        _register_sqlite_hour(session)
    return _local_hour_sql(dialect, column, zone)


def _local_hour_sql(dialect: str, column: Any, zone: str) -> Any:
    if dialect == "postgresql":
        return cast(
            func.extract("hour", func.timezone(zone, func.timezone("UTC", column))), Integer
        )
    return func.socstat_local_hour(column, literal(zone))


def _register_sqlite_hour(session: Session) -> None:
    connection = session.connection().connection.driver_connection
    connection.create_function("socstat_local_hour", 2, _sqlite_hour, deterministic=True)


def _sqlite_hour(stored: str, zone: str) -> int:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).hour
