"""Idempotency keys in the database (``IdempotencyStore``), so a replay survives a restart and is seen
by every replica. A claim is one write transaction: drop the (owner, key) row when it expired or its
request died before starting a job, insert ours unless a row is there (``ON CONFLICT DO NOTHING``; on
PostgreSQL a concurrent insert of the same key waits for the first to commit), then read the row."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from vidgate.gateway.records import IdempotencyRecord
from vidgate.store.sql.database import Database
from vidgate.store.sql.tables import idempotency_keys as t

_FIELDS = ("owner_key_id", "key", "fingerprint", "claim", "created_at", "job_id")


# Built once with bind parameters (see ``jobs.py``): a create with an Idempotency-Key runs these.
_OWNER = sa.bindparam("b_owner", type_=sa.String)
_KEY = sa.bindparam("b_key", type_=sa.String)
_CLAIM = sa.bindparam("b_claim", type_=sa.String)
_HERE = sa.and_(t.c.owner_key_id == _OWNER, t.c.key == _KEY)
_DROP_STALE = sa.delete(t).where(
    _HERE,
    sa.or_(
        t.c.created_at < sa.bindparam("b_replace_before", type_=sa.BigInteger),
        sa.and_(
            t.c.job_id.is_(None), t.c.created_at < sa.bindparam("b_unlinked_before", type_=sa.BigInteger)
        ),
    ),
)
_INSERT = {
    name: insert(t).on_conflict_do_nothing(index_elements=[t.c.owner_key_id, t.c.key])
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_READ = sa.select(t).where(_HERE)
_LINK = sa.update(t).where(_HERE, t.c.claim == _CLAIM).values(job_id=sa.bindparam("b_job", type_=sa.String))
_FORGET = sa.delete(t).where(_HERE, t.c.claim == _CLAIM)


def _claim(
    conn: sa.Connection, record: IdempotencyRecord, replace_before: int, unlinked_before: int
) -> IdempotencyRecord:
    here = {"b_owner": record.owner_key_id, "b_key": record.key}
    conn.execute(
        _DROP_STALE, {**here, "b_replace_before": replace_before, "b_unlinked_before": unlinked_before}
    )
    conn.execute(_INSERT[conn.dialect.name], {name: getattr(record, name) for name in _FIELDS})
    row = conn.execute(_READ, here).mappings().one()
    return IdempotencyRecord(**{name: row[name] for name in _FIELDS})


def _link(conn: sa.Connection, owner_key_id: str, key: str, claim: str, job_id: str) -> None:
    conn.execute(_LINK, {"b_owner": owner_key_id, "b_key": key, "b_claim": claim, "b_job": job_id})


def _forget(conn: sa.Connection, owner_key_id: str, key: str, claim: str) -> None:
    conn.execute(_FORGET, {"b_owner": owner_key_id, "b_key": key, "b_claim": claim})


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
