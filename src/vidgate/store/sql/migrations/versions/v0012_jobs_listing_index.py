"""The master key lists every owner's videos: an index on (created_at, id) so that listing pages by
position instead of sorting the whole table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_jobs_listing", "jobs", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_listing", table_name="jobs")
