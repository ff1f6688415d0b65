"""Initial schema: keys, jobs, reservations, spend logs, rate hits, slots.

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "keys",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("key_prefix", sa.String(64), nullable=False),
        sa.Column("alias", sa.String(255), nullable=True),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("max_budget_micros", sa.BigInteger(), nullable=True),
        sa.Column("budget_duration", sa.String(32), nullable=True),
        sa.Column("budget_reset_at", sa.BigInteger(), nullable=True),
        sa.Column("spend_micros", sa.BigInteger(), nullable=False),
        sa.Column("total_spend_micros", sa.BigInteger(), nullable=False),
        sa.Column("reserved_micros", sa.BigInteger(), nullable=False),
        sa.Column("active_jobs", sa.Integer(), nullable=False),
        sa.Column("rpm_limit", sa.Integer(), nullable=True),
        sa.Column("max_parallel_requests", sa.Integer(), nullable=True),
        sa.Column("metadata_json", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_keys"),
        sa.UniqueConstraint("key_hash", name="uq_keys_key_hash"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_key_id", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(255), nullable=False),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("native_id", sa.String(1024), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.String(32), nullable=False),
        sa.Column("seconds", sa.String(16), nullable=False),
        sa.Column("api_surface", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("remixed_from", sa.String(64), nullable=True),
        sa.Column("error_code", sa.String(255), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("reserved_micros", sa.BigInteger(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=True),
        sa.Column("content_stored", sa.Boolean(), nullable=False),
        sa.Column("next_poll_at", sa.Double(), nullable=False),
        sa.Column("poll_failures", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_expires_at", sa.Double(), nullable=True),
        sa.Column("native_payload", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("deployment_id", "native_id", name="uq_jobs_deployment_native"),
    )
    op.create_index("ix_jobs_claim", "jobs", ["pending", "next_poll_at"])
    op.create_index("ix_jobs_owner_listing", "jobs", ["owner_key_id", "created_at", "id"])
    op.create_table(
        "reservations",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("micros", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_reservations"),
    )
    op.create_index("ix_reservations_key_state", "reservations", ["key_id", "state"])
    op.create_table(
        "spend_logs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(255), nullable=False),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("size", sa.String(32), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("metadata_json", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_spend_logs"),
        sa.UniqueConstraint("job_id", name="uq_spend_logs_job_id"),
    )
    op.create_index("ix_spend_logs_key_time", "spend_logs", ["key_id", "created_at"])
    op.create_index("ix_spend_logs_time", "spend_logs", ["created_at"])
    op.create_table(
        "rate_hits",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rate_hits"),
    )
    op.create_index("ix_rate_hits_key_at", "rate_hits", ["key_id", "at"])
    op.create_table(
        "slots",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("acquired_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_slots"),
    )
    op.create_index("ix_slots_key", "slots", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_slots_key", table_name="slots")
    op.drop_table("slots")
    op.drop_index("ix_rate_hits_key_at", table_name="rate_hits")
    op.drop_table("rate_hits")
    op.drop_index("ix_spend_logs_time", table_name="spend_logs")
    op.drop_index("ix_spend_logs_key_time", table_name="spend_logs")
    op.drop_table("spend_logs")
    op.drop_index("ix_reservations_key_state", table_name="reservations")
    op.drop_table("reservations")
    op.drop_index("ix_jobs_owner_listing", table_name="jobs")
    op.drop_index("ix_jobs_claim", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("keys")
