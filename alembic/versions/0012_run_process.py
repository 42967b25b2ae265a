"""collection run's process (host:pid): the journal tells which worker collected

Revision ID: run_process
Revises: store_stats_token
Create Date: 2026-12-02 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "run_process"
down_revision: str | None = "store_stats_token"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("collectionrun") as batch:
        batch.add_column(sa.Column("process", sa.String(100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("collectionrun") as batch:
        batch.drop_column("process")
