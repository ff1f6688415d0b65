"""Idempotency keys in the database (``IdempotencyStore``), so a replay survives a restart and is seen
by every replica. A claim is one write transaction: drop the (owner, key) row when it expired or its
request died before starting a job, insert ours unless a row is there (``ON CONFLICT DO NOTHING``; on
PostgreSQL a concurrent insert of the same key waits for the first to commit), then read the row."""

from __future__ import annotations

import sqlalchemy as sa

from vidgate.gateway.records import IdempotencyRecord
from vidgate.store.sql.database import Database, dialect_insert
from vidgate.store.sql.tables import idempotency_keys as t

_FIELDS = ("owner_key_id", "key", "fingerprint", "claim", "created_at", "job_id")


def _claim(
    conn: sa.Connection, record: IdempotencyRecord, replace_before: int, unlinked_before: int
) -> IdempotencyRecord:
    here = sa.and_(t.c.owner_key_id == record.owner_key_id, t.c.key == record.key)
    stale = sa.or_(
        t.c.created_at < replace_before, sa.and_(t.c.job_id.is_(None), t.c.created_at < unlinked_before)
    )
    conn.execute(sa.delete(t).where(here, stale))
    conn.execute(
        dialect_insert(conn, t)
        .values(**{name: getattr(record, name) for name in _FIELDS})
        .on_conflict_do_nothing(index_elements=[t.c.owner_key_id, t.c.key])
    )
    row = conn.execute(sa.select(t).where(here)).mappings().one()
    return IdempotencyRecord(**{name: row[name] for name in _FIELDS})


def _link(conn: sa.Connection, owner_key_id: str, key: str, claim: str, job_id: str) -> None:
    conn.execute(
        sa.update(t)
        .where(t.c.owner_key_id == owner_key_id, t.c.key == key, t.c.claim == claim)
        .values(job_id=job_id)
    )


def _forget(conn: sa.Connection, owner_key_id: str, key: str, claim: str) -> None:
    conn.execute(sa.delete(t).where(t.c.owner_key_id == owner_key_id, t.c.key == key, t.c.claim == claim))


def _prune(conn: sa.Connection, before: int, limit: int) -> int:
    old = (
        sa.select(t.c.owner_key_id, t.c.key)
        .where(t.c.created_at < before)
        .order_by(t.c.created_at)
        .limit(max(limit, 0))
    )
    doomed = [(r.owner_key_id, r.key) for r in conn.execute(old)]
    for owner_key_id, key in doomed:
        conn.execute(sa.delete(t).where(t.c.owner_key_id == owner_key_id, t.c.key == key))
    return len(doomed)


class SqlIdempotencyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(
        self, record: IdempotencyRecord, *, replace_before: int, unlinked_before: int
    ) -> IdempotencyRecord:
        return await self._db.write(_claim, record, replace_before, unlinked_before)

    async def link(self, owner_key_id: str, key: str, claim: str, job_id: str) -> None:
        await self._db.write(_link, owner_key_id, key, claim, job_id)

    async def forget(self, owner_key_id: str, key: str, claim: str) -> None:
        await self._db.write(_forget, owner_key_id, key, claim)

    async def prune(self, *, before: int, limit: int) -> int:
        return await self._db.write(_prune, before, limit)
