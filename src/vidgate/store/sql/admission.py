"""Rate limits and concurrent-job slots in the database, for deployments without Redis. Shared by every
replica on the same database, so the limits are global (lesson 7), at the price of a few statements
per request; configure Redis for high request rates.

- ``check_rate``: a sliding 60 s window, one ``rate_hits`` row per counted request. The key's checks are
  serialized (a transaction-scoped advisory lock on PostgreSQL; SQLite's single writer), then old hits
  are dropped, the rest counted, and the new hit inserted only if it fits.
- Slots: a ``slots`` row per job (so acquire and release are idempotent) and a conditional
  ``UPDATE keys SET active_jobs = active_jobs + 1 WHERE active_jobs < limit`` in the same transaction.
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from vidgate.errors import RateLimitError
from vidgate.store.memory import RATE_WINDOW, rate_limited, slots_full
from vidgate.store.sql.database import Database, dialect_insert
from vidgate.store.sql.tables import keys, rate_hits, slots

_PG_RATE_LOCKS = 0x76670001  # advisory-lock namespace for per-key rate checks
_PG_SLOT_LOCKS = 0x76670002  # ... and for slot counts of keys without a row (the master key)


def _lock(conn: sa.Connection, namespace: int, key_id: str) -> None:
    if conn.dialect.name == "postgresql":  # SQLite: the write transaction already excludes other writers
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:ns, hashtext(:key))"), {"ns": namespace, "key": key_id}
        )


def _check_rate(conn: sa.Connection, key_id: str, limit: int, now: float) -> RateLimitError | None:
    """Count the request, or return the refusal (raised after the commit: expired hits stay dropped,
    and the refused request is not counted)."""
    _lock(conn, _PG_RATE_LOCKS, key_id)
    conn.execute(
        sa.delete(rate_hits).where(rate_hits.c.key_id == key_id, rate_hits.c.at <= now - RATE_WINDOW)
    )
    count, oldest = conn.execute(
        sa.select(sa.func.count(), sa.func.min(rate_hits.c.at)).where(rate_hits.c.key_id == key_id)
    ).one()
    if count >= limit:
        return rate_limited(limit, oldest + RATE_WINDOW - now if oldest is not None else RATE_WINDOW)
    conn.execute(rate_hits.insert().values(id=uuid.uuid4().hex, key_id=key_id, at=now))
    return None


def _acquire(conn: sa.Connection, key_id: str, job_id: str, limit: int) -> None:
    taken = conn.execute(
        dialect_insert(conn, slots)
        .values(job_id=job_id, key_id=key_id, acquired_at=int(time.time()))
        .on_conflict_do_nothing(index_elements=[slots.c.job_id])
        .returning(slots.c.job_id)
    ).first()
    if taken is None:
        return  # the job holds its slot already
    counted = conn.execute(
        sa.update(keys)
        .where(keys.c.id == key_id, keys.c.active_jobs < limit)
        .values(active_jobs=keys.c.active_jobs + 1)
        .returning(keys.c.id)
    ).first()
    if counted is not None:
        return
    if conn.execute(sa.select(keys.c.id).where(keys.c.id == key_id)).first() is not None:
        raise slots_full(limit)  # rolls the slot row back too
    # No key row to count on: count this key's slot rows (ours included) under a lock.
    _lock(conn, _PG_SLOT_LOCKS, key_id)
    held = conn.execute(sa.select(sa.func.count()).where(slots.c.key_id == key_id)).scalar_one()
    if held > limit:
        raise slots_full(limit)


def _release(conn: sa.Connection, key_id: str, job_id: str) -> None:
    gone = conn.execute(
        sa.delete(slots).where(slots.c.job_id == job_id, slots.c.key_id == key_id).returning(slots.c.job_id)
    ).first()
    if gone is not None:
        conn.execute(
            sa.update(keys)
            .where(keys.c.id == key_id, keys.c.active_jobs > 0)
            .values(active_jobs=keys.c.active_jobs - 1)
        )


class SqlAdmission:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def check_rate(self, key_id: str, limit_per_minute: int, *, now: float) -> None:
        refusal = await self._db.write(_check_rate, key_id, limit_per_minute, now)
        if refusal is not None:
            raise refusal

    async def acquire_slot(self, key_id: str, job_id: str, limit: int) -> None:
        await self._db.write(_acquire, key_id, job_id, limit)

    async def release_slot(self, key_id: str, job_id: str) -> None:
        await self._db.write(_release, key_id, job_id)
