"""outbox leases: claimed one message at a time with a lease, a stable Message-ID,
a per-message attempt limit; "dead" becomes "failed"

Revision ID: 0005_outbox_leases
Revises: 0005_collection_claims
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import socstat.models.base

revision: str = "0005_outbox_leases"
down_revision: str | None = "0005_collection_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "message_id",
                sqlmodel.sql.sqltypes.AutoString(length=255),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="8")
        )
        batch_op.add_column(
            sa.Column("leased_until", socstat.models.base.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "claimed_by",
                sqlmodel.sql.sqltypes.AutoString(length=100),
                nullable=False,
                server_default="",
            )
        )
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'dead'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("message_id", server_default=None)
        batch_op.alter_column("max_attempts", server_default=None)
        batch_op.alter_column("claimed_by", server_default=None)


def downgrade() -> None:
    op.execute("UPDATE outbox SET status = 'dead' WHERE status = 'failed'")
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("leased_until")
        batch_op.drop_column("max_attempts")
        batch_op.drop_column("message_id")
