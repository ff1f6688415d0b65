"""Rate limits: ``rate_counts`` holds each key's number of hits in the sliding window, so a rate check
reads one row instead of counting every hit of the last minute; filled from the hits already stored.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "rate_counts",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("key_id", name="pk_rate_counts"),
    )
    op.execute(
        "INSERT INTO rate_counts (key_id, hits) SELECT key_id, count(*) FROM rate_hits GROUP BY key_id"
    )


def downgrade() -> None:
    op.drop_table("rate_counts")
