"""Rate limits and concurrent-job slots in the database, for deployments without Redis. Shared by every
replica on the same database, so the limits are global (lesson 7), at the price of a few statements
per request; configure Redis for high request rates.

- ``check_rate``: a sliding 60 s window, one ``rate_hits`` row per counted request, and the key's number
  of them in ``rate_counts`` (one row read per check, not a count of the window). The key's checks are
  serialized (a transaction-scoped advisory lock on PostgreSQL; SQLite's single writer), and the new
  hit is inserted and counted only if it fits. Hits that left the window are dropped (and uncounted)
  at most once a second per key while checks pass (``RateSweeps``): a count that still holds some can
  only be too high, so a request it admits is admitted exactly; one it would refuse is looked at again
  after dropping them. A create at a steady rate was sending a DELETE and an UPDATE, each time, to
  drop the one hit that had left the window since the last create.
- Slots: a ``slots`` row per job (so acquire and release are idempotent) and a conditional
  ``UPDATE keys SET active_jobs = active_jobs + 1 WHERE active_jobs < limit`` in the same transaction.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from vidgate.errors import RateLimitError
from vidgate.store.memory import RATE_WINDOW, rate_limited, slots_full
from vidgate.store.sql.database import Database
from vidgate.store.sql.prepared import Prepared
from vidgate.store.sql.tables import keys, rate_counts, rate_hits, slots

_PG_RATE_LOCKS = 0x76670001  # advisory-lock namespace for per-key rate checks
_PG_SLOT_LOCKS = 0x76670002  # ... and for slot counts of keys without a row (the master key)


_PG_LOCK = Prepared(
    sa.select(
        sa.func.pg_advisory_xact_lock(
            sa.bindparam("b_ns", type_=sa.Integer), sa.func.hashtext(sa.bindparam("b_key", type_=sa.String))
        )
    )
)


def _lock(conn: sa.Connection, namespace: int, key_id: str) -> None:
    if conn.dialect.name == "postgresql":  # SQLite: the write transaction already excludes other writers
        _PG_LOCK.run(conn, {"b_ns": namespace, "b_key": key_id})


_KEY: sa.BindParameter[str] = sa.bindparam("b_key", type_=sa.String)
_AT = sa.bindparam("b_at", type_=sa.Double)
_N = sa.bindparam("b_n", type_=sa.Integer)
# Built once (see ``jobs.py``), executed with a dict of values.
_EXPIRE = Prepared(sa.delete(rate_hits).where(rate_hits.c.key_id == _KEY, rate_hits.c.at <= _AT))
_UNCOUNT = Prepared(
    sa.update(rate_counts).where(rate_counts.c.key_id == _KEY).values(hits=rate_counts.c.hits - _N)
)
_OLDEST = Prepared(
    sa.select(rate_hits.c.at).where(rate_hits.c.key_id == _KEY).order_by(rate_hits.c.at).limit(1)
)
_HIT = Prepared(rate_hits.insert())
# Count the hit if it fits: the key's counter goes up only while it is under the limit (no row is
# returned when it is full), so the check and the count are one statement.
_COUNT_HIT = {
    name: Prepared(
        insert(rate_counts)
        .values(key_id=_KEY, hits=1)
        .on_conflict_do_update(
            index_elements=[rate_counts.c.key_id],
            set_={"hits": rate_counts.c.hits + 1},
            where=rate_counts.c.hits < sa.bindparam("b_limit", type_=sa.Integer),
        )
        .returning(rate_counts.c.hits)
    )
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


SWEEP_EVERY = 1.0  # seconds between drops of a key's hits that left the window, while its checks pass
SWEPT_KEYS = 4096  # keys whose last drop a store remembers (a forgotten one is dropped at its next check)


class RateSweeps:
    """When this process last dropped each key's hits that left the window (see the module docstring).
    Only a hint: a drop it skips is done anyway before a refusal, so the limit stays exact."""

    def __init__(self) -> None:
        self._last: OrderedDict[str, float] = OrderedDict()

    def due(self, key_id: str, now: float) -> bool:
        """Whether this check drops them; if so, it is noted as done at ``now``."""
        last = self._last.get(key_id)
        if last is not None and last <= now < last + SWEEP_EVERY:
            return False
        self._last[key_id] = now
        self._last.move_to_end(key_id)
        if len(self._last) > SWEPT_KEYS:
            self._last.popitem(last=False)
        return True


def _check_rate(
    conn: sa.Connection, key_id: str, limit: int, now: float, sweep: bool = True
) -> RateLimitError | None:
    """Count the request, or return the refusal (raised after the commit: expired hits stay dropped,
    and the refused request is not counted). ``rate_counts`` moves with ``rate_hits`` in this
    transaction, so the window's size is one row read, however many hits it holds. ``sweep``: drop the
    hits that left the window first; without it they are dropped only if the count is full."""
    _lock(conn, _PG_RATE_LOCKS, key_id)
    if sweep:
        _sweep(conn, key_id, now)
    counted = limit > 0 and _counted(conn, key_id, limit)
    if not counted and not sweep:  # the count, and the oldest hit, may be of hits that left the window
        _sweep(conn, key_id, now)
        counted = limit > 0 and _counted(conn, key_id, limit)
    if not counted:
        oldest = _OLDEST.run(conn, {"b_key": key_id}).scalar()
        return rate_limited(limit, oldest + RATE_WINDOW - now if oldest is not None else RATE_WINDOW)
    _HIT.run(conn, {"id": uuid.uuid4().hex, "key_id": key_id, "at": now})
    return None


def _sweep(conn: sa.Connection, key_id: str, now: float) -> None:
    expired = _EXPIRE.run(conn, {"b_key": key_id, "b_at": now - RATE_WINDOW}).rowcount
    if expired:
        _UNCOUNT.run(conn, {"b_key": key_id, "b_n": expired})


def _counted(conn: sa.Connection, key_id: str, limit: int) -> bool:
    """The hit counted, if the key's count is under ``limit``."""
    return _COUNT_HIT[conn.dialect.name].run(conn, {"b_key": key_id, "b_limit": limit}).first() is not None


_JOB: sa.BindParameter[str] = sa.bindparam("b_job", type_=sa.String)
_LIMIT = sa.bindparam("b_limit", type_=sa.Integer)
_TAKE_SLOT = {
    name: Prepared(
        insert(slots)
        .values(job_id=_JOB, key_id=_KEY, acquired_at=sa.bindparam("b_now", type_=sa.BigInteger))
        .on_conflict_do_nothing(index_elements=[slots.c.key_id, slots.c.job_id])
        .returning(slots.c.job_id)
    )
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_COUNT_SLOT = Prepared(
    sa.update(keys)
    .where(keys.c.id == _KEY, keys.c.active_jobs < _LIMIT)
    .values(active_jobs=keys.c.active_jobs + 1)
    .returning(keys.c.id)
)
_KEY_ROW = Prepared(sa.select(keys.c.id).where(keys.c.id == _KEY))
_FREE_SLOT = Prepared(
    sa.delete(slots).where(slots.c.job_id == _JOB, slots.c.key_id == _KEY).returning(slots.c.job_id)
)
_UNCOUNT_SLOT = Prepared(
    sa.update(keys)
    .where(keys.c.id == _KEY, keys.c.active_jobs > 0)
    .values(active_jobs=keys.c.active_jobs - 1)
)


def _acquire(conn: sa.Connection, key_id: str, job_id: str, limit: int) -> None:
    taken = _TAKE_SLOT[conn.dialect.name].run(
        conn, {"b_key": key_id, "b_job": job_id, "b_now": int(time.time())}
    )
    if taken.first() is None:
        return  # the job holds its slot already
    if _COUNT_SLOT.run(conn, {"b_key": key_id, "b_limit": limit}).first() is not None:
        return
    if _KEY_ROW.run(conn, {"b_key": key_id}).first() is not None:
        raise slots_full(limit)  # rolls the slot row back too
    # No key row to count on: count this key's slot rows (ours included) under a lock.
    _lock(conn, _PG_SLOT_LOCKS, key_id)
    held = conn.execute(sa.select(sa.func.count()).where(slots.c.key_id == key_id)).scalar_one()
    if held > limit:
        raise slots_full(limit)


def _release(conn: sa.Connection, key_id: str, job_id: str) -> None:
    params = {"b_key": key_id, "b_job": job_id}
    if _FREE_SLOT.run(conn, params).first() is not None:
        _UNCOUNT_SLOT.run(conn, {"b_key": key_id})


class SqlAdmission:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._sweeps = RateSweeps()

    async def check_rate(self, key_id: str, limit_per_minute: int, *, now: float) -> None:
        sweep = self._sweeps.due(key_id, now)
        refusal = await self._db.write(_check_rate, key_id, limit_per_minute, now, sweep)
        if refusal is not None:
            raise refusal

    async def acquire_slot(self, key_id: str, job_id: str, limit: int) -> None:
        await self._db.write(_acquire, key_id, job_id, limit)

    async def release_slot(self, key_id: str, job_id: str) -> None:
        await self._db.write(_release, key_id, job_id)
