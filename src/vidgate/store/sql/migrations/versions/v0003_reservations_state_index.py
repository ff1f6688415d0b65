"""Reservations: an index on (state, created_at) for the poller's search for stranded reservations
(held, older than any create can take, their job never stored), so it reads only the held rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_reservations_state_created", "reservations", ["state", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_reservations_state_created", table_name="reservations")
