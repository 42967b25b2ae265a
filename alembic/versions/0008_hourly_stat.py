"""hourly stat (the best time to post) and indexes for top publications

HourlyStat is filled from the existing content items, as the collection's rebuild would.

Revision ID: dashperf_hourly_stat
Revises: 0007_reports_schedules
Create Date: 2026-12-02 04:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

from socstat.settings import get_settings

revision: str = "dashperf_hourly_stat"
down_revision: str | None = "0007_reports_schedules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOP_SORTS = ("likes", "reposts", "comments", "views", "published_at")
_KNOWN = "i.likes IS NOT NULL AND i.reposts IS NOT NULL AND i.comments IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "hourlystat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.Column("reactions_items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "local_date", "kind", "hour"),
    )
    with op.batch_alter_table("hourlystat", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hourlystat_local_date"), ["local_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_hourlystat_source_id"), ["source_id"], unique=False)
    for name in _top_sorts():
        op.create_index(
            f"ix_contentitem_top_{name}",
            "contentitem",
            [sa.text(f"{name} DESC NULLS LAST"), sa.text("id DESC")],
            unique=False,
        )
    _backfill()


def _top_sorts() -> tuple[str, ...]:
    """The top-publication indexes exist on PostgreSQL only (as in the models)."""
    return TOP_SORTS if op.get_bind().dialect.name == "postgresql" else ()


def _backfill() -> None:
    """Every live item's local hour, grouped as persistence's ``_rebuild_hours`` does."""
    bind = op.get_bind()
    zone = get_settings().timezone
    if bind.dialect.name == "postgresql":
        hour = (
            "CAST(EXTRACT(hour FROM timezone(:zone, timezone('UTC', i.published_at))) AS INTEGER)"
        )
    else:
        bind.connection.driver_connection.create_function(
            "socstat_local_hour", 2, _sqlite_hour, deterministic=True
        )
        hour = "socstat_local_hour(i.published_at, :zone)"
    op.execute(
        sa.text(
            "INSERT INTO hourlystat (source_id, local_date, kind, hour, count, reactions,"
            " reactions_items)"
            f" SELECT i.source_id, i.local_date, i.kind, {hour}, COUNT(*),"
            f" COALESCE(SUM(CASE WHEN {_KNOWN} THEN i.likes + i.reposts + i.comments END), 0),"
            f" COUNT(CASE WHEN {_KNOWN} THEN 1 END)"
            " FROM contentitem i WHERE i.deleted_at IS NULL"
            f" GROUP BY i.source_id, i.local_date, i.kind, {hour}"
        ).bindparams(zone=zone)
    )


def _sqlite_hour(stored: str, zone: str) -> int:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).hour


def downgrade() -> None:
    for name in _top_sorts():
        op.drop_index(f"ix_contentitem_top_{name}", table_name="contentitem")
    with op.batch_alter_table("hourlystat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hourlystat_source_id"))
        batch_op.drop_index(batch_op.f("ix_hourlystat_local_date"))
    op.drop_table("hourlystat")
