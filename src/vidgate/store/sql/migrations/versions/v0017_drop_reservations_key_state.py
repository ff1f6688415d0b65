"""Drops ``ix_reservations_key_state`` (key_id, state): no query has read it since a key's held
reservations were summed into ``keys.reserved_micros`` (the ledger keeps that counter in the same
transactions). Every create still paid for it: on SQLite its entry was 1.3 of the 17 pages the
admission's commit wrote (``bench/sqlite_create.py``), on PostgreSQL one more index insert, and each
settle or release moved the entry again.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_reservations_key_state", table_name="reservations")


def downgrade() -> None:
    op.create_index("ix_reservations_key_state", "reservations", ["key_id", "state"])
