"""Owed cancels get a table of their own, ``owed_cancels`` (``OwedCancelStore``, ``gateway.cancels``): one
row per deployment and native id, with its tries, when it is due and a lease, apart from any jobs row.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "owed_cancels",
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("native_id", sa.String(1024), nullable=False),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.Double(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_expires_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("deployment_id", "native_id", name="pk_owed_cancels"),
    )
    op.create_index("ix_owed_cancels_due", "owed_cancels", ["next_try_at"])


def downgrade() -> None:
    op.drop_index("ix_owed_cancels_due", table_name="owed_cancels")
    op.drop_table("owed_cancels")
