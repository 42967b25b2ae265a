"""daily stat: unknown counts per figure and ERview sums

Existing rows are filled from their content items, as the collection's rebuild would.

Revision ID: 0005_daily_stat_unknowns_er_view
Revises: 0005_outbox_leases
Create Date: 2026-12-02 00:16:33.314135
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_daily_stat_unknowns_er_view"
down_revision: str | None = "0005_outbox_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SAME_DAY = (
    "FROM contentitem i WHERE i.source_id = dailystat.source_id"
    " AND i.local_date = dailystat.local_date AND i.kind = dailystat.kind"
    " AND i.deleted_at IS NULL"
)
_ER_VIEW = (
    "CASE WHEN i.likes IS NOT NULL AND i.reposts IS NOT NULL AND i.comments IS NOT NULL"
    " AND i.views > 0 THEN CAST(i.likes + i.reposts + i.comments AS FLOAT) / i.views END"
)


def upgrade() -> None:
    with op.batch_alter_table("dailystat", schema=None) as batch_op:
        for name in ("likes_unknown", "reposts_unknown", "comments_unknown"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("er_view_sum", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("er_view_items", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE dailystat SET"
        f" likes_unknown = (SELECT COUNT(*) - COUNT(i.likes) {_SAME_DAY}),"
        f" reposts_unknown = (SELECT COUNT(*) - COUNT(i.reposts) {_SAME_DAY}),"
        f" comments_unknown = (SELECT COUNT(*) - COUNT(i.comments) {_SAME_DAY}),"
        f" er_view_sum = (SELECT SUM({_ER_VIEW}) {_SAME_DAY}),"
        f" er_view_items = (SELECT COUNT({_ER_VIEW}) {_SAME_DAY})"
    )


def downgrade() -> None:
    with op.batch_alter_table("dailystat", schema=None) as batch_op:
        batch_op.drop_column("er_view_items")
        batch_op.drop_column("er_view_sum")
        batch_op.drop_column("comments_unknown")
        batch_op.drop_column("reposts_unknown")
        batch_op.drop_column("likes_unknown")
