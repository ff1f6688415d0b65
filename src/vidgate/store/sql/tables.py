"""The SQL schema, as SQLAlchemy Core tables. The Alembic migrations in ``migrations/versions`` build
exactly this schema (a test compares them), so change both together.

Money is integer micro-USD (BIGINT) so sums are exact; times are unix seconds (BIGINT), except the
poller's ``next_poll_at``/``next_try_at`` and leases, which are fractional (DOUBLE PRECISION).
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

keys = sa.Table(
    "keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("key_prefix", sa.String(64), nullable=False),
    sa.Column("alias", sa.String(255), nullable=True),
    sa.Column("models", sa.JSON, nullable=False),
    sa.Column("max_budget_micros", sa.BigInteger, nullable=True),
    sa.Column("budget_duration", sa.String(32), nullable=True),
    sa.Column("budget_reset_at", sa.BigInteger, nullable=True),
    sa.Column("spend_micros", sa.BigInteger, nullable=False),
    sa.Column("total_spend_micros", sa.BigInteger, nullable=False),
    sa.Column("reserved_micros", sa.BigInteger, nullable=False),
    sa.Column("active_jobs", sa.Integer, nullable=False),
    sa.Column("rpm_limit", sa.Integer, nullable=True),
    sa.Column("max_parallel_requests", sa.Integer, nullable=True),
    sa.Column("metadata_json", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
    # Added in 0015: ``GET /key/list`` in its default order (created_at, id), either direction: a page is
    # read from one end, not sorted out of every key. Neither column changes after the insert.
    sa.Index("ix_keys_listing", "created_at", "id"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_key_id", sa.String(64), nullable=False),
    sa.Column("model_name", sa.String(255), nullable=False),
    sa.Column("deployment_id", sa.String(255), nullable=False),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("native_id", sa.String(1024), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("size", sa.String(32), nullable=False),
    sa.Column("seconds", sa.String(16), nullable=False),
    sa.Column("api_surface", sa.String(16), nullable=False),
    sa.Column("progress", sa.Integer, nullable=False),
    sa.Column("prompt", sa.Text, nullable=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("completed_at", sa.BigInteger, nullable=True),
    sa.Column("expires_at", sa.BigInteger, nullable=True),
    sa.Column("remixed_from", sa.String(64), nullable=True),
    sa.Column("error_code", sa.String(255), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("reserved_micros", sa.BigInteger, nullable=False),
    sa.Column("cost_micros", sa.BigInteger, nullable=True),
    sa.Column("content_stored", sa.Boolean, nullable=False),
    sa.Column("next_poll_at", sa.Double, nullable=False),
    sa.Column("poll_failures", sa.Integer, nullable=False),
    sa.Column("lease_owner", sa.String(255), nullable=True),
    sa.Column("lease_expires_at", sa.Double, nullable=True),
    sa.Column("native_payload", sa.JSON, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # Derived from the record on every write (``needs_work``): the poller's work queue.
    sa.Column("pending", sa.Boolean, nullable=False),
    # Added in 0002 (server defaults fill the rows that existed before).
    sa.Column("videos_generated", sa.Integer, nullable=True),
    sa.Column("webhook_pending", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("webhook_failures", sa.Integer, nullable=False, server_default=sa.text("0")),
    # Added in 0004: the write-ahead mark (``JobRecord.submitting``).
    sa.Column("submitting", sa.Boolean, nullable=False, server_default=sa.false()),
    # Added in 0005: token-priced settlement.
    sa.Column("token_bound", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("token_micros", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("output_tokens", sa.BigInteger, nullable=True),
    # Added in 0008: the per-job webhook (``JobRecord.callback_url``).
    sa.Column("callback_url", sa.String(2048), nullable=True),
    # Added in 0010: observability (the create's W3C traceparent, upstream polls made).
    sa.Column("trace_parent", sa.String(64), nullable=True),
    sa.Column("upstream_polls", sa.Integer, nullable=False, server_default=sa.text("0")),
    # Added in 0009: provider callbacks (``JobRecord.provider_callback_hash``).
    sa.Column("provider_callback_hash", sa.String(64), nullable=True),
    # Added in 0011: edits and extensions (``JobRecord.task``, ``source_video_id``, ``outputs``).
    sa.Column("task", sa.String(16), nullable=False, server_default="generate"),
    sa.Column("source_video_id", sa.String(64), nullable=True),
    sa.Column("outputs", sa.JSON, nullable=True),
    # (cancel_pending, added in 0016, moved to ``owed_cancels`` in 0018.)
    # In the claim's order (next_poll_at, created_at, id): a claim reads its batch, sorts nothing (0013).
    sa.Index("ix_jobs_claim", "pending", "next_poll_at", "created_at", "id"),
    # Listings of live jobs by (created_at, id): one owner's, and every owner's (the master key's, 0012).
    # ``deleted`` is an equality column of both (0013), so without statistics (SQLite's planner has
    # none unless ANALYZE ran) they still beat ix_jobs_deleted_status, which would sort every live job.
    sa.Index("ix_jobs_owner_listing", "owner_key_id", "deleted", "created_at", "id"),
    sa.Index("ix_jobs_listing", "deleted", "created_at", "id"),
    # Serves ``count_by_status`` (every /metrics scrape) as an index-only scan of (deleted = false),
    # already grouped by status, instead of reading every job row with its payload.
    sa.Index("ix_jobs_deleted_status", "deleted", "status"),
    sa.UniqueConstraint("deployment_id", "native_id", name="uq_jobs_deployment_native"),
)

# One row per job that ever reserved (or was charged): its state moves reserved -> settled | released
# exactly once, which is what makes settlement idempotent.
reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("job_id", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("micros", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("cost_micros", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    # (ix_reservations_key_state, dropped in 0017: nothing read it.)
    # Added in 0003: the poller's search for stranded reservations (held, old, no job row), in its
    # order (created_at, job_id; job_id since 0013).
    sa.Index("ix_reservations_state_created", "state", "created_at", "job_id"),
    sqlite_with_rowid=False,  # 0014: the primary key is the table (one b-tree fewer per insert)
)

# Added in 0004: idempotency keys of paid POSTs (``IdempotencyStore``), one row per (owner, key).
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("owner_key_id", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("claim", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("job_id", sa.String(64), nullable=True),
    sa.Index("ix_idempotency_keys_created", "created_at"),
)

spend_logs = sa.Table(
    "spend_logs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("job_id", sa.String(64), nullable=False, unique=True),
    sa.Column("model_name", sa.String(255), nullable=False),
    sa.Column("deployment_id", sa.String(255), nullable=False),
    sa.Column("seconds", sa.Double, nullable=False),
    sa.Column("size", sa.String(32), nullable=False),
    sa.Column("cost_micros", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("metadata_json", sa.JSON, nullable=False),
    # Lesson 6: spend is queried by key and time; index both from day one. Pages go by (created_at, id),
    # so id ends both (0013): a page is read in order, never sorted.
    sa.Index("ix_spend_logs_key_time", "key_id", "created_at", "id"),
    sa.Index("ix_spend_logs_time", "created_at", "id"),
)

# DB-backed admission (used when Redis is not configured).
# One row per counted request in the last minute (the sliding window of ``Admission.check_rate``).
# Keyed (since 0014) in the order every query reads it, the key's hits by time, and on SQLite without a
# rowid: an insert writes one b-tree, not three (see the migration).
rate_hits = sa.Table(
    "rate_hits",
    metadata,
    sa.Column("id", sa.String(32), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("at", sa.Double, nullable=False),
    sa.PrimaryKeyConstraint("key_id", "at", "id"),
    sqlite_with_rowid=False,
)

# Added in 0006: how many ``rate_hits`` rows each key has, kept in step with them in the same
# transactions, so a rate check reads one row instead of counting the whole window (which grew with the
# rate it limits: 60,000 index entries per check at 1,000 requests a second).
rate_counts = sa.Table(
    "rate_counts",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
)

# One row per running job holding a concurrency slot; keyed (since 0014) by key, then job: acquire and
# release name both, and a key's count reads its prefix. On SQLite without a rowid (one b-tree).
slots = sa.Table(
    "slots",
    metadata,
    sa.Column("job_id", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("acquired_at", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("key_id", "job_id"),
    sqlite_with_rowid=False,
)

# Added in 0011: characters (``POST /v1/videos/characters``), owner-scoped; clips in the content store.
characters = sa.Table(
    "characters",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_key_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("media_type", sa.String(64), nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("seconds", sa.Double, nullable=False),
)

# Added in 0018: cancels owed to provider jobs nobody pays for (``OwedCancelStore``, ``gateway.cancels``),
# one per upstream job, tried under a lease of their own, apart from any jobs row.
owed_cancels = sa.Table(
    "owed_cancels",
    metadata,
    sa.Column("deployment_id", sa.String(255), primary_key=True),
    sa.Column("native_id", sa.String(1024), primary_key=True),
    sa.Column("video_id", sa.String(64), nullable=False),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("tries", sa.Integer, nullable=False),
    sa.Column("next_try_at", sa.Double, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("lease_owner", sa.String(255), nullable=True),
    sa.Column("lease_expires_at", sa.Double, nullable=True),
    # The poller's claim of due cancels, in its order (every round runs it, mostly finding none).
    sa.Index("ix_owed_cancels_due", "next_try_at"),
)

ALL_TABLES = (
    keys,
    jobs,
    reservations,
    spend_logs,
    rate_hits,
    rate_counts,
    slots,
    idempotency_keys,
    characters,
    owed_cancels,
)
