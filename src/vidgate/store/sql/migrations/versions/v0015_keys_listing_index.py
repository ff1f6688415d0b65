"""``ix_keys_listing`` (created_at, id): ``GET /key/list`` pages keys by (created_at, id), newest first
unless asked otherwise, and the keys table had no index in that order, so every page sorted every key
(SQLite: ``SCAN keys`` + ``USE TEMP B-TREE FOR ORDER BY``; PostgreSQL: ``Sort`` over a ``Seq Scan``). A
page is now read from one end of the index and stops at its LIMIT (plus OFFSET).

Neither column ever changes once a key is made, so the index costs a key's insert and delete only, not
the ledger's and admission's updates of its counters (on PostgreSQL those stay HOT updates).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_keys_listing", "keys", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_keys_listing", table_name="keys")
