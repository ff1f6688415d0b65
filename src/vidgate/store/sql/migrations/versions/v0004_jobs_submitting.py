"""Jobs: the write-ahead mark. A job is stored ``submitting`` before the provider's create is called,
so a process killed during the call leaves a row the poller resolves (found upstream and recorded, or
failed ``upstream_outcome_unknown`` with its reservation and slot given back).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("submitting", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("submitting")
