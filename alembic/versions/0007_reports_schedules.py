"""reports: generation state, leases, schedule keys; delivery settings and extra recipients

The old ``report`` and ``reportsubscription`` tables were never written by any feature
(reports were not generated yet), so they are replaced rather than altered.

Revision ID: 0007_reports_schedules
Revises: 0006_alert_firings
Create Date: 2026-12-02 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import socstat.models.base

revision: str = "0007_reports_schedules"
down_revision: str | None = "0006_alert_firings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TS = socstat.models.base.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("reportsubscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reportsubscription_owner_id"))
    op.drop_table("reportsubscription")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_owner_id"))
    op.drop_table("report")
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", _STR(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("status", _STR(length=16), nullable=False),
        sa.Column("error", _STR(length=2000), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("schedule_key", _STR(length=100), nullable=True),
        sa.Column("send_email", sa.Boolean(), nullable=False),
        sa.Column("email_queued_at", _TS(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", _STR(length=200), nullable=False),
        sa.Column("lease_until", _TS(), nullable=True),
        sa.Column("heartbeat_at", _TS(), nullable=True),
        sa.Column("created_at", _TS(), nullable=False),
        sa.Column("started_at", _TS(), nullable=True),
        sa.Column("generated_at", _TS(), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("schedule_key"),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_status"), ["status"], unique=False)
    op.create_table(
        "reportschedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("daily", sa.Boolean(), nullable=False),
        sa.Column("weekly", sa.Boolean(), nullable=False),
        sa.Column("monthly", sa.Boolean(), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TS(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "reportrecipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", _STR(length=320), nullable=False),
        sa.Column("token_hash", _STR(length=128), nullable=False),
        sa.Column("confirmed_at", _TS(), nullable=True),
        sa.Column("created_at", _TS(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sa.UniqueConstraint("user_id", "email"),
    )
    with op.batch_alter_table("reportrecipient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reportrecipient_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reportrecipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reportrecipient_user_id"))
    op.drop_table("reportrecipient")
    op.drop_table("reportschedule")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_status"))
        batch_op.drop_index(batch_op.f("ix_report_owner_id"))
    op.drop_table("report")
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", _STR(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("format", _STR(length=8), nullable=False),
        sa.Column("status", _STR(length=16), nullable=False),
        sa.Column("source_ids", sa.JSON(), nullable=False),
        sa.Column("file_path", _STR(length=1000), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("created_at", _TS(), nullable=False),
        sa.Column("finished_at", _TS(), nullable=True),
        sa.Column("error", _STR(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_owner_id"), ["owner_id"], unique=False)
    op.create_table(
        "reportsubscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", _STR(length=16), nullable=False),
        sa.Column("format", _STR(length=8), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("source_ids", sa.JSON(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_sent_at", _TS(), nullable=True),
        sa.Column("created_at", _TS(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reportsubscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reportsubscription_owner_id"), ["owner_id"], unique=False
        )
