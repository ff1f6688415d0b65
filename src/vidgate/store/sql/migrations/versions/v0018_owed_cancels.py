"""Owed cancels get a table of their own, ``owed_cancels`` (``OwedCancelStore``, ``gateway.cancels``),
and ``jobs.cancel_pending`` (0016) goes. On the jobs row the cancel could only be owed for the native id
that row holds (a late job whose record holds another upstream job was tried once, then forgotten), and
its tries shared ``next_poll_at``/``poll_failures`` with the job's webhook retries.

Upgrade moves each owed cancel: a job with ``cancel_pending`` becomes a row for its deployment and native
id (tries = ``poll_failures``, due at ``next_poll_at``), and its derived ``pending`` flag is computed
again without it (``gateway.jobs.needs_work``). Downgrade re-adds the column and sets it back on the jobs
that hold an owed native id; a cancel no job holds is dropped.

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

_jobs = sa.table(
    "jobs",
    sa.column("id", sa.String),
    sa.column("deployment_id", sa.String),
    sa.column("native_id", sa.String),
    sa.column("provider", sa.String),
    sa.column("status", sa.String),
    sa.column("created_at", sa.BigInteger),
    sa.column("cost_micros", sa.BigInteger),
    sa.column("content_stored", sa.Boolean),
    sa.column("next_poll_at", sa.Double),
    sa.column("poll_failures", sa.Integer),
    sa.column("deleted", sa.Boolean),
    sa.column("pending", sa.Boolean),
    sa.column("webhook_pending", sa.Boolean),
    sa.column("cancel_pending", sa.Boolean),
)
_owed = sa.table(
    "owed_cancels",
    sa.column("deployment_id", sa.String),
    sa.column("native_id", sa.String),
    sa.column("video_id", sa.String),
    sa.column("provider", sa.String),
    sa.column("tries", sa.Integer),
    sa.column("next_try_at", sa.Double),
    sa.column("created_at", sa.BigInteger),
)


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
    j = _jobs.c
    moved = sa.select(
        j.deployment_id, j.native_id, j.id, j.provider, j.poll_failures, j.next_poll_at, j.created_at
    )
    columns = ["deployment_id", "native_id", "video_id", "provider", "tries", "next_try_at", "created_at"]
    op.execute(sa.insert(_owed).from_select(columns, moved.where(j.cancel_pending)))
    # ``needs_work`` without the owed cancel: the poller no longer claims these jobs for it.
    needs_work = sa.and_(
        sa.not_(j.deleted),
        sa.or_(
            j.status.not_in(("completed", "failed")),
            j.cost_micros.is_(None),
            j.webhook_pending,
            sa.and_(j.status == "completed", sa.not_(j.content_stored)),
        ),
    )
    op.execute(sa.update(_jobs).where(j.cancel_pending).values(pending=needs_work))
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("cancel_pending")


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("cancel_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    j, o = _jobs.c, _owed.c
    held = sa.select(o.tries, o.next_try_at).where(
        o.deployment_id == j.deployment_id, o.native_id == j.native_id, o.video_id == j.id
    )
    op.execute(
        sa.update(_jobs)
        .where(sa.exists(held))
        .values(
            cancel_pending=sa.true(),
            pending=sa.not_(j.deleted),
            poll_failures=held.with_only_columns(o.tries).scalar_subquery(),
            next_poll_at=held.with_only_columns(o.next_try_at).scalar_subquery(),
        )
    )
    op.drop_index("ix_owed_cancels_due", table_name="owed_cancels")
    op.drop_table("owed_cancels")
