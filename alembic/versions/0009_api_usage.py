"""apiusage: platform API calls and errors per quota day, token (fingerprint) and method

Revision ID: workers_api_usage
Revises: dashperf_hourly_stat
Create Date: 2026-12-02 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "workers_api_usage"
down_revision: str | None = "dashperf_hourly_stat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "apiusage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", _STR(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("token", _STR(length=16), nullable=False),
        sa.Column("token_masked", _STR(length=32), nullable=False),
        sa.Column("method", _STR(length=64), nullable=False),
        sa.Column("code", _STR(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "day", "token", "method", "code"),
    )
    with op.batch_alter_table("apiusage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apiusage_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("apiusage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apiusage_day"))
    op.drop_table("apiusage")
