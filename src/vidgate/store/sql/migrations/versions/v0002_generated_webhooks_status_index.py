"""Jobs: videos generated (charge only what the provider returned), the owed-webhook mark and its
failure count, and an index serving the per-status job counts of /metrics.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("videos_generated", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("webhook_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("webhook_failures", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    op.create_index("ix_jobs_deleted_status", "jobs", ["deleted", "status"])


def downgrade() -> None:
    op.drop_index("ix_jobs_deleted_status", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("webhook_failures")
        batch.drop_column("webhook_pending")
        batch.drop_column("videos_generated")
