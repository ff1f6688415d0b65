"""Indexes that hand rows over in the order their queries ask for, so no query sorts a set that grows
with the store (found with ``bench/plans.py`` on 100,000 jobs, SQLite and PostgreSQL):

- ``ix_jobs_claim`` (pending, next_poll_at) -> + (created_at, id): the poller's claim orders due jobs by
  (next_poll_at, created_at, id); PostgreSQL sorted every due job (all pending ones after a backlog or a
  restart) to take 32 of them, SQLite sorted each run of equal ``next_poll_at``.
- ``ix_reservations_state_created`` (state, created_at) -> + job_id: the reaper's search for stranded
  reservations orders by (created_at, job_id) and walked, then sorted, every held reservation.
- ``ix_spend_logs_key_time`` (key_id, created_at) and ``ix_spend_logs_time`` (created_at) -> + id: the
  spend log pages by (created_at DESC, id DESC).
- ``ix_jobs_listing`` (created_at, id) -> (deleted, created_at, id) and ``ix_jobs_owner_listing``
  (owner_key_id, created_at, id) -> (owner_key_id, deleted, created_at, id): listings ask for
  ``deleted = false``; SQLite without statistics (the gateway never runs ANALYZE) answered the master
  key's page through ``ix_jobs_deleted_status`` (an equality match) and sorted every live job: 36 ms of
  CPU per page with 100,000 jobs (``bench/sidebyside.py --prefill 100000 --only list``). Deleted jobs
  are now skipped inside the index too.

Same names, so the schema reads as before; each index is dropped and built again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

# (name, table, columns before, columns after)
_CHANGED = (
    ("ix_jobs_claim", "jobs", ["pending", "next_poll_at"], ["pending", "next_poll_at", "created_at", "id"]),
    (
        "ix_reservations_state_created",
        "reservations",
        ["state", "created_at"],
        ["state", "created_at", "job_id"],
    ),
    ("ix_spend_logs_key_time", "spend_logs", ["key_id", "created_at"], ["key_id", "created_at", "id"]),
    ("ix_spend_logs_time", "spend_logs", ["created_at"], ["created_at", "id"]),
    ("ix_jobs_listing", "jobs", ["created_at", "id"], ["deleted", "created_at", "id"]),
    (
        "ix_jobs_owner_listing",
        "jobs",
        ["owner_key_id", "created_at", "id"],
        ["owner_key_id", "deleted", "created_at", "id"],
    ),
)


def upgrade() -> None:
    for name, table, _, after in _CHANGED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, after)


def downgrade() -> None:
    for name, table, before, _ in _CHANGED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before)
