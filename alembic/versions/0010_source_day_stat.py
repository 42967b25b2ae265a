"""source day stat: every kind of a source's day in one row (ERday and ERpost read it);
counter snapshots indexed by day for the analytics' period reads

Filled from the existing DailyStat rows, as the collection's rebuild would.

Revision ID: dashperf_source_day_stat
Revises: workers_api_usage
Create Date: 2026-12-02 07:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dashperf_source_day_stat"
down_revision: str | None = "workers_api_usage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("post", "video", "clip")


def upgrade() -> None:
    op.create_table(
        "sourcedaystat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        *(
            sa.Column(f"{kind}_{name}", sa.Integer(), nullable=False)
            for kind in KINDS
            for name in ("count", "reactions", "unknown")
        ),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "local_date"),
    )
    op.create_index("ix_sourcedaystat_day", "sourcedaystat", ["local_date", "source_id"])
    op.create_index(
        "ix_countersnapshot_day_members",
        "countersnapshot",
        ["local_date", "source_id", "members"],
    )
    _backfill()


def _backfill() -> None:
    """Every DailyStat day, grouped as analytics' ``rebuild_source_days`` does."""
    columns, values = [], []
    for kind in KINDS:
        columns += [f"{kind}_count", f"{kind}_reactions", f"{kind}_unknown"]
        values += [
            f"SUM(CASE WHEN kind = '{kind}' THEN count ELSE 0 END)",
            f"SUM(CASE WHEN kind = '{kind}' THEN COALESCE(likes, 0) + COALESCE(reposts, 0)"
            " + COALESCE(comments, 0) ELSE 0 END)",
            f"SUM(CASE WHEN kind = '{kind}' THEN likes_unknown + reposts_unknown"
            " + comments_unknown ELSE 0 END)",
        ]
    op.execute(
        f"INSERT INTO sourcedaystat (source_id, local_date, {', '.join(columns)})"
        f" SELECT source_id, local_date, {', '.join(values)}"
        " FROM dailystat GROUP BY source_id, local_date"
    )


def downgrade() -> None:
    op.drop_index("ix_countersnapshot_day_members", table_name="countersnapshot")
    op.drop_index("ix_sourcedaystat_day", table_name="sourcedaystat")
    op.drop_table("sourcedaystat")
