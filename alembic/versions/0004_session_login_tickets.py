"""session login tickets: the browser exchanges a single-use ticket for the HttpOnly cookie

Revision ID: 0004_session_login_tickets
Revises: 0003
Create Date: 2026-12-02 00:16:29.329062
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import socstat.models.base

revision: str = "0004_session_login_tickets"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("authsession", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_hash", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("ticket_expires_at", socstat.models.base.UTCDateTime(), nullable=True)
        )
        batch_op.create_unique_constraint("uq_authsession_ticket_hash", ["ticket_hash"])


def downgrade() -> None:
    with op.batch_alter_table("authsession", schema=None) as batch_op:
        batch_op.drop_constraint("uq_authsession_ticket_hash", type_="unique")
        batch_op.drop_column("ticket_expires_at")
        batch_op.drop_column("ticket_hash")
