"""top-publication indexes cover the page's filters (period, source, kind, deleted): a
page's ids are read from the index alone

Revision ID: top_covering
Revises: run_process
Create Date: 2026-12-02 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "top_covering"
down_revision: str | None = "run_process"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOP_SORTS = ("likes", "reposts", "comments", "views", "published_at")
TOP_FILTERS = ("local_date", "source_id", "kind", "deleted_at")


def upgrade() -> None:
    _rebuild(list(TOP_FILTERS))


def downgrade() -> None:
    _rebuild([])


def _rebuild(include: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":  # the indexes exist on PostgreSQL only
        return
    for name in TOP_SORTS:
        op.drop_index(f"ix_contentitem_top_{name}", table_name="contentitem")
        op.create_index(
            f"ix_contentitem_top_{name}",
            "contentitem",
            [sa.text(f"{name} DESC NULLS LAST"), sa.text("id DESC")],
            unique=False,
            postgresql_include=include,
        )
