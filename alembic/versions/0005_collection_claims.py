"""collection claims: a source's claim by one run with a lease; run heartbeats

Revision ID: 0005_collection_claims
Revises: 0004_session_login_tickets
Create Date: 2026-12-02 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import socstat.models.base

revision: str = "0005_collection_claims"
down_revision: str | None = "0004_session_login_tickets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("collectionrun", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("heartbeat_at", socstat.models.base.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_until", socstat.models.base.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("collectionrun", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
