"""Redis, when configured: rate limits and concurrent-job slots shared by every replica (lesson 7),
and a fast path in front of the SQL ledger's reservations. Every check-and-change is one Lua script,
so it is atomic however many replicas call it.

Admission: ``check_rate`` is a sliding 60 s window (a sorted set of counted requests per key); slots are
a set of job ids per key (acquire is idempotent, release is ``SREM``). The key row's ``active_jobs`` in
SQL shows the set's size after each change (``/key/info``), best effort; the set decides. Run Redis
with persistence: a Redis that loses its data forgets the slots of running jobs until they finish (more
jobs than the limit may run meanwhile; budgets stay exact, SQL decides them).

Ledger: SQL stays the durable record and the final word (its conditional UPDATE still runs for every
admitted reservation, so spend can never exceed a budget even if Redis were wrong). Redis caches each
key's budget counters (``max``, ``spend``, ``reserved``, ``reset_at``, and one ``j:<job>`` field per
outstanding reservation) and answers first: requests over budget are refused by the script without
touching the database, so a burst of creates does not queue on the key's row lock. The cache is
loaded from SQL when absent (one consistent read: counters plus the outstanding reservations) and
expires ``cache_ttl`` seconds after loading, so any drift (a replica crashing between the Redis and
the SQL step, an admin edit) heals by itself; drift that is detected (SQL refusing what Redis
admitted, a settle that SQL had already done) drops the cache at once. Settle and release run on SQL
first, then on Redis through the job's ``j:`` field, so repeating them never double-counts.

A load is a read of SQL followed by a write to Redis, and SQL may change in between: a key's budget
raised (its cache dropped before the load wrote it), a settle that found no cache to update. Each key
has a generation counter beside its cache, bumped by every such change; a load writes only if the
counter is what it was before the SQL read. Without it, the old counters were cached for a whole TTL:
a raised budget kept refusing for up to a minute.
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from vidgate.errors import BudgetExceededError, NotFoundError, ServiceUnavailableError
from vidgate.gateway.records import KeyRecord, SpendEntry
from vidgate.store.memory import RATE_WINDOW, budget_exceeded, rate_limited, slots_full
from vidgate.store.sql.database import Database
from vidgate.store.sql.keys import SqlKeyStore
from vidgate.store.sql.ledger import SqlLedger
from vidgate.store.sql.tables import keys, reservations

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "vidgate:"
DEFAULT_CACHE_TTL = 60.0

# KEYS[1] sorted set of counted requests; ARGV: now, cutoff (now - window), limit, member, ttl ms.
# Returns nil when counted, else the oldest counted time (or "" when the limit is 0).
_RATE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return oldest[2] or ''
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return false
"""

# KEYS[1] set of job ids; ARGV: job id, limit. {1, slots held} = taken now, {0, _} = held already,
# {-1, _} = all taken.
_ACQUIRE = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return {0, 0} end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {-1, 0} end
redis.call('SADD', KEYS[1], ARGV[1])
return {1, redis.call('SCARD', KEYS[1])}
"""

# KEYS[1] set of job ids; ARGV: job id. -1 = not held, else the slots still held.
_RELEASE = """
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return -1 end
return redis.call('SCARD', KEYS[1])
"""

# KEYS[1] budget hash, KEYS[2] its generation; ARGV: ttl ms, the generation read before the SQL
# snapshot, max (-1 = none), spend, reserved, reset_at (-1 = none), then pairs of (j:<job>, micros).
# Loads only if absent (a concurrent loader may have won) and nothing changed SQL since the snapshot.
_LOAD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return -1 end
redis.call('HSET', KEYS[1], 'max', ARGV[3], 'spend', ARGV[4], 'reserved', ARGV[5], 'reset_at', ARGV[6])
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""

# KEYS[1] budget hash, KEYS[2] its generation; ARGV: the generation's ttl ms. SQL changed in a way the
# cache does not follow: drop it, and make any load that read SQL before now write nothing.
_DROP = """
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
"""

# KEYS[1] budget hash; ARGV: j:<job>, micros, now. Amounts stay strings on the way to HINCRBY (Lua
# would print large numbers as 1e+15).
_RESERVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local reset_at = tonumber(redis.call('HGET', KEYS[1], 'reset_at'))
if reset_at >= 0 and tonumber(ARGV[3]) >= reset_at then return {'stale'} end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {'dup'} end
local max = redis.call('HGET', KEYS[1], 'max')
local spend = redis.call('HGET', KEYS[1], 'spend')
local reserved = redis.call('HGET', KEYS[1], 'reserved')
if tonumber(max) >= 0 and tonumber(spend) + tonumber(reserved) + tonumber(ARGV[2]) > tonumber(max) then
  return {'over', max, spend, reserved}
end
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {'ok'}
"""

# KEYS[1] budget hash, KEYS[2] its generation; ARGV: j:<job>, cost to add to spend ("" for a
# release), the generation's ttl ms. Without a cache, a load may be reading SQL from before this change.
_FINISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return 0
end
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  if held ~= '0' then redis.call('HINCRBY', KEYS[1], 'reserved', '-' .. held) end
  redis.call('HDEL', KEYS[1], ARGV[1])
end
if ARGV[2] ~= '' then redis.call('HINCRBY', KEYS[1], 'spend', ARGV[2]) end
return 1
"""

# KEYS[1] budget hash, KEYS[2] its generation; ARGV: j:<job>, the generation's ttl ms. SQL had
# finished this job already but Redis still holds it: drift.
_FORGET = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('DEL', KEYS[1])
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


REDIS_CONNECTIONS = 64
MIRROR_TRIES = 5  # writes of a key's slot count before leaving it to the next slot change


def connect(url: str, *, max_connections: int = REDIS_CONNECTIONS) -> Redis:
    """A Redis client for ``url`` (``redis://host:port/db``, ``rediss://`` for TLS). Its pool blocks
    when all connections are busy (a burst of requests waits its turn instead of failing)."""
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=30, decode_responses=True
    )
    client: Redis = Redis.from_pool(pool)
    return client


class RedisAdmission:
    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_PREFIX, db: Database | None = None) -> None:
        self._redis = redis
        self._prefix = prefix
        self._db = db
        self._rate = redis.register_script(_RATE)
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)

    async def check_rate(self, key_id: str, limit_per_minute: int, *, now: float) -> None:
        oldest = await self._rate(
            keys=[f"{self._prefix}rate:{{{key_id}}}"],
            args=[
                repr(now),
                repr(now - RATE_WINDOW),
                limit_per_minute,
                uuid.uuid4().hex,
                int(RATE_WINDOW * 1000),
            ],
        )
        if oldest is not None:
            wait = float(oldest) + RATE_WINDOW - now if oldest != "" else RATE_WINDOW
            raise rate_limited(limit_per_minute, wait)

    async def acquire_slot(self, key_id: str, job_id: str, limit: int) -> None:
        taken, held = (int(v) for v in await self._acquire(keys=[self._slots(key_id)], args=[job_id, limit]))
        if taken < 0:
            raise slots_full(limit)
        if taken > 0:
            await self._mirror(key_id, held)

    async def release_slot(self, key_id: str, job_id: str) -> None:
        held = int(await self._release(keys=[self._slots(key_id)], args=[job_id]))
        if held >= 0:
            await self._mirror(key_id, held)

    def _slots(self, key_id: str) -> str:
        return f"{self._prefix}slots:{{{key_id}}}"

    async def _mirror(self, key_id: str, held: int) -> None:
        """Show the set's size in ``keys.active_jobs`` after a change. The size, not a +1/-1: once
        Redis lost its data (a restart without persistence) the releases of earlier slots change
        nothing, and counting deltas would leave the key showing them for ever. Replicas changing the
        set at once may commit their sizes out of order, so each writer reads the size again after its
        write and writes again if it moved: the last write is always followed by a check. Best effort:
        the Redis set already decided, and failing the request here would leak the slot it just took."""
        if self._db is None:
            return
        try:
            for _ in range(MIRROR_TRIES):
                await self._db.write(_show_active, key_id, held)
                now_held = int(await self._redis.scard(self._slots(key_id)))
                if now_held == held:
                    return
                held = now_held
        except (SQLAlchemyError, RedisError, ServiceUnavailableError) as exc:
            log.warning("active_jobs of key %s not updated (%d): %s", key_id, held, exc)


def _show_active(conn: sa.Connection, key_id: str, held: int) -> None:
    conn.execute(sa.update(keys).where(keys.c.id == key_id).values(active_jobs=held))


def _budget_snapshot(conn: sa.Connection, key_id: str) -> tuple[Any, list[Any]]:
    """The key's budget counters and its outstanding reservations, as of one moment."""
    counters = sa.select(
        keys.c.max_budget_micros, keys.c.spend_micros, keys.c.budget_duration, keys.c.budget_reset_at
    ).where(keys.c.id == key_id)
    row = conn.execute(counters).first()
    if row is None:
        raise NotFoundError(f"Key '{key_id}' not found.")
    held = sa.select(reservations.c.job_id, reservations.c.micros).where(
        reservations.c.key_id == key_id, reservations.c.state == "reserved"
    )
    return row, list(conn.execute(held).all())


class RedisLedger:
    """The SQL ledger with a Redis reservation fast path (see the module docstring)."""

    def __init__(
        self,
        sql: SqlLedger,
        db: Database,
        redis: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        cache_ttl: float = DEFAULT_CACHE_TTL,
    ) -> None:
        self._sql = sql
        self._db = db
        self._redis = redis
        self._prefix = prefix
        self._ttl_ms = int(cache_ttl * 1000)
        self._load_script = redis.register_script(_LOAD)
        self._reserve_script = redis.register_script(_RESERVE)
        self._finish_script = redis.register_script(_FINISH)
        self._forget_script = redis.register_script(_FORGET)
        self._drop_script = redis.register_script(_DROP)
        # A generation outlives any load in flight by far; one that expired reads as "0", which only
        # makes a load that read it as something else write nothing.
        self._generation_ttl_ms = max(self._ttl_ms * 10, 600_000)
        self._loading: dict[str, asyncio.Future[None]] = {}

    def budget_key(self, key_id: str) -> str:
        return f"{self._prefix}budget:{{{key_id}}}"

    def _cache_keys(self, key_id: str) -> list[str]:
        """The key's budget hash and its generation (one hash slot, for Redis Cluster)."""
        return [self.budget_key(key_id), f"{self._prefix}budget-gen:{{{key_id}}}"]

    async def invalidate(self, key_id: str) -> None:
        """Drop the cached counters (the key's limits changed, or it was deleted), also from under a
        load reading SQL now."""
        await self._drop_script(keys=self._cache_keys(key_id), args=[self._generation_ttl_ms])

    async def reserve(self, key: KeyRecord, job_id: str, micros: int, *, now: int) -> None:
        if micros < 0:
            raise ValueError(f"micros must be >= 0, got {micros}")
        cache, field = self.budget_key(key.id), "j:" + job_id
        for _ in range(3):
            reply = await self._reserve_script(keys=[cache], args=[field, micros, now])
            outcome = str(reply[0])
            if outcome == "missing":
                await self._load(key.id)
                continue
            if outcome == "stale":  # the budget period ended: SQL rolls it over, then Redis reloads
                try:
                    await self._sql.reserve(key, job_id, micros, now=now)
                finally:
                    await self.invalidate(key.id)
                return
            if outcome == "over":
                seen = dataclasses.replace(
                    key,
                    max_budget_micros=int(reply[1]),
                    spend_micros=int(reply[2]),
                    reserved_micros=int(reply[3]),
                )
                raise budget_exceeded(seen, micros)
            break  # "ok" (or "dup": this job's reservation is already counted)
        else:
            await self._sql.reserve(key, job_id, micros, now=now)  # the cache keeps vanishing: SQL alone
            return
        try:
            reserved = await self._sql.try_reserve(key, job_id, micros, now=now)
        except BudgetExceededError:
            await self.invalidate(key.id)  # Redis admitted what SQL refused: the cache had drifted
            raise
        except BaseException:
            if outcome == "ok":
                await self._finish_script(
                    keys=self._cache_keys(key.id), args=[field, "", self._generation_ttl_ms]
                )
            raise
        if outcome == "ok" and not reserved:  # the job was reserved (or finished) before: count it once
            await self._finish_script(
                keys=self._cache_keys(key.id), args=[field, "", self._generation_ttl_ms]
            )

    async def settle(self, entry: SpendEntry) -> bool:
        settled = await self._sql.settle(entry)
        await self._after(entry.key_id, entry.job_id, settled, str(entry.cost_micros))
        return settled

    async def release(self, key_id: str, job_id: str) -> bool:
        released = await self._sql.release(key_id, job_id)
        await self._after(key_id, job_id, released, "")
        return released

    async def charged(self, job_id: str) -> int:
        return await self._sql.charged(job_id)

    async def spend_logs(
        self, *, key_id: str | None, start: int | None, end: int | None, limit: int
    ) -> builtins.list[SpendEntry]:
        return await self._sql.spend_logs(key_id=key_id, start=start, end=end, limit=limit)

    async def total_spend(self) -> int:
        return await self._sql.total_spend()

    async def stranded(self, *, before: int, limit: int) -> builtins.list[tuple[str, str]]:
        return await self._sql.stranded(before=before, limit=limit)

    async def _after(self, key_id: str, job_id: str, changed: bool, spend: str) -> None:
        """Mirror a committed settle/release into the cache. A failure here is logged, not raised: the
        SQL record is already final and the cache heals within its TTL."""
        cached, field = self._cache_keys(key_id), "j:" + job_id
        try:
            if changed:
                await self._finish_script(keys=cached, args=[field, spend, self._generation_ttl_ms])
            else:
                await self._forget_script(keys=cached, args=[field, self._generation_ttl_ms])
        except RedisError as exc:
            log.warning("budget cache for key %s not updated after job %s: %s", key_id, job_id, exc)

    async def _load(self, key_id: str) -> None:
        """Load the key's counters into Redis; concurrent callers in this process share one load."""
        running = self._loading.get(key_id)
        if running is None:
            running = asyncio.ensure_future(self._load_now(key_id))
            self._loading[key_id] = running
            running.add_done_callback(lambda _: self._loading.pop(key_id, None))
        await asyncio.shield(running)

    async def _load_now(self, key_id: str) -> None:
        cached = self._cache_keys(key_id)
        generation = await self._redis.get(cached[1]) or "0"  # before the SQL read (module docstring)
        row, held = await self._db.read_snapshot(_budget_snapshot, key_id)
        if row.budget_reset_at is not None:
            reset_at = int(row.budget_reset_at)
        else:  # a period that has not started yet must go through SQL first, which starts it
            reset_at = 0 if row.budget_duration else -1
        args: list[Any] = [
            self._ttl_ms,
            generation,
            -1 if row.max_budget_micros is None else int(row.max_budget_micros),
            int(row.spend_micros),
            sum(int(h.micros) for h in held),
            reset_at,
        ]
        for h in held:
            args += ["j:" + str(h.job_id), int(h.micros)]
        await self._load_script(keys=cached, args=args)


class RedisKeyStore(SqlKeyStore):
    """The SQL key store, dropping a key's cached budget counters whenever its limits change."""

    def __init__(self, db: Database, ledger: RedisLedger) -> None:
        super().__init__(db)
        self._ledger = ledger

    async def save(self, key: KeyRecord) -> None:
        await super().save(key)
        await self._ledger.invalidate(key.id)

    async def delete(self, key_id: str) -> bool:
        deleted = await super().delete(key_id)
        await self._ledger.invalidate(key_id)
        return deleted
