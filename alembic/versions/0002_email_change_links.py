"""email change links: the new address an email change token switches to

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:13:44.340977
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("onetimetoken", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("new_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("onetimetoken", schema=None) as batch_op:
        batch_op.drop_column("new_email")
