"""source stats token (analytics' in-process copy of the aggregates is filed under it);
SourceDayStat dropped: the copy derives every kind of a source's day from DailyStat

Revision ID: store_stats_token
Revises: dashperf_source_day_stat
Create Date: 2026-12-02 12:00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "store_stats_token"
down_revision: str | None = "dashperf_source_day_stat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source") as batch:
        batch.add_column(sa.Column("stats_token", sa.String(32), nullable=False, server_default=""))
    source = sa.table("source", sa.column("id", sa.Integer), sa.column("stats_token", sa.String))
    bind = op.get_bind()
    for (source_id,) in bind.execute(sa.select(source.c.id)).all():
        bind.execute(
            source.update().where(source.c.id == source_id).values(stats_token=uuid.uuid4().hex)
        )
    op.drop_index("ix_sourcedaystat_day", table_name="sourcedaystat")
    op.drop_table("sourcedaystat")


def downgrade() -> None:
    """The token goes; SourceDayStat comes back, filled from DailyStat as revision
    dashperf_source_day_stat filled it."""
    op.create_table(
        "sourcedaystat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        *(
            sa.Column(f"{kind}_{name}", sa.Integer(), nullable=False)
            for kind in ("post", "video", "clip")
            for name in ("count", "reactions", "unknown")
        ),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "local_date"),
    )
    op.create_index("ix_sourcedaystat_day", "sourcedaystat", ["local_date", "source_id"])
    columns, values = [], []
    for kind in ("post", "video", "clip"):
        mine = f"CASE WHEN kind = '{kind}' THEN {{}} ELSE 0 END"
        columns += [f"{kind}_count", f"{kind}_reactions", f"{kind}_unknown"]
        values += [
            f"SUM({mine.format('count')})",
            f"SUM({mine.format('COALESCE(likes, 0) + COALESCE(reposts, 0) + COALESCE(comments, 0)')})",
            f"SUM({mine.format('likes_unknown + reposts_unknown + comments_unknown')})",
        ]
    op.execute(
        f"INSERT INTO sourcedaystat (source_id, local_date, {', '.join(columns)})"
        f" SELECT source_id, local_date, {', '.join(values)} FROM dailystat"
        " GROUP BY source_id, local_date"
    )
    with op.batch_alter_table("source") as batch:
        batch.drop_column("stats_token")
