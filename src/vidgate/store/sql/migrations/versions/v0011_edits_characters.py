"""Edits, extensions and characters: ``jobs.task`` and ``jobs.source_video_id`` (what a job was asked to
do, and from which earlier video), ``jobs.outputs`` (the provider's output references, for a later edit
or extension), and the ``characters`` table.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("task", sa.String(16), nullable=False, server_default="generate"))
        batch.add_column(sa.Column("source_video_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("outputs", sa.JSON, nullable=True))
    op.create_table(
        "characters",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_key_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("seconds", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_characters"),
    )


def downgrade() -> None:
    op.drop_table("characters")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("outputs")
        batch.drop_column("source_video_id")
        batch.drop_column("task")
