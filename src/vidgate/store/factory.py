"""Open the gateway's stores from configuration: SQL (SQLite or PostgreSQL) for keys, jobs and the
ledger, Redis for admission and the reservation fast path when ``redis_url`` is given (the database
does both otherwise), and the filesystem for content. Migrations run first."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from vidgate.gateway.ports import (
    Admission,
    CharacterStore,
    ContentStore,
    IdempotencyStore,
    JobStarts,
    JobStore,
    KeyStore,
    Ledger,
    OwedCancelStore,
)
from vidgate.store.content import FileContentStore
from vidgate.store.readiness import outcome
from vidgate.store.redis import DEFAULT_CACHE_TTL, DEFAULT_PREFIX, RedisAdmission, RedisKeyStore, RedisLedger
from vidgate.store.redis import connect as connect_redis
from vidgate.store.sql.admission import SqlAdmission
from vidgate.store.sql.cancels import SqlOwedCancelStore
from vidgate.store.sql.characters import SqlCharacterStore
from vidgate.store.sql.database import Database
from vidgate.store.sql.idempotency import SqlIdempotencyStore
from vidgate.store.sql.jobs import SqlJobStore
from vidgate.store.sql.keys import SqlKeyStore
from vidgate.store.sql.ledger import SqlLedger
from vidgate.store.sql.migrate import upgrade
from vidgate.store.sql.starts import SqlJobStarts


@dataclass
class SqlStores:
    """Every port over one database (plus Redis when configured)."""

    keys: KeyStore
    jobs: JobStore
    ledger: Ledger
    admission: Admission
    content: ContentStore
    idempotency: IdempotencyStore
    db: Database
    redis: Redis | None = None
    redis_prefix: str = DEFAULT_PREFIX
    starts: JobStarts | None = None
    characters: CharacterStore = field(init=False)
    cancels: OwedCancelStore = field(init=False)

    def __post_init__(self) -> None:
        self.characters = SqlCharacterStore(self.db)
        self.cancels = SqlOwedCancelStore(self.db)

    async def probe(self) -> dict[str, Exception | None]:
        """A rolled-back write on the database, a write and delete in the content store, and (when
        configured) a short-lived key set in Redis: a PING answers on a read-only replica or a Redis
        refusing writes, a SET does not."""
        results = {
            "db": await outcome(self.db.probe_write()),
            "content": await outcome(self.content.probe()),
        }
        if self.redis is not None:
            results["redis"] = await outcome(self._probe_redis(self.redis))
        return results

    async def _probe_redis(self, redis: Redis) -> None:
        await redis.set(f"{self.redis_prefix}readiness", b"1", px=5000)

    async def close(self) -> None:
        try:
            await self.db.dispose()
        finally:
            if self.redis is not None:
                await self.redis.aclose()


async def open_stores(
    database_url: str,
    redis_url: str | None,
    content_dir: Path,
    *,
    redis_prefix: str = DEFAULT_PREFIX,
    budget_cache_ttl: float = DEFAULT_CACHE_TTL,
    migrate: bool = True,
) -> SqlStores:
    """Connect, bring the schema to the newest migration, and build the stores.

    ``database_url`` may be sync-style (``sqlite:///vidgate.db``, ``postgresql://u@h/db``); it is
    mapped to the async driver. ``redis_prefix`` namespaces every Redis key (several gateways, or
    tests, can share one Redis).
    """
    db = Database(database_url)
    redis: Redis | None = None
    try:
        if migrate:
            await upgrade(db)
        sql_ledger = SqlLedger(db)
        content = FileContentStore(Path(content_dir))
        idempotency = SqlIdempotencyStore(db)
        jobs = SqlJobStore(db)
        if redis_url is None:
            return SqlStores(
                SqlKeyStore(db),
                jobs,
                sql_ledger,
                SqlAdmission(db),
                content,
                idempotency,
                db,
                # with Redis, slots and the reservation fast path live there
                starts=SqlJobStarts(db, jobs.rows),
            )
        redis = connect_redis(redis_url)
        ledger = RedisLedger(sql_ledger, db, redis, prefix=redis_prefix, cache_ttl=budget_cache_ttl)
        admission = RedisAdmission(redis, prefix=redis_prefix, db=db)
        return SqlStores(
            RedisKeyStore(db, ledger),
            jobs,
            ledger,
            admission,
            content,
            idempotency,
            db,
            redis,
            redis_prefix,
        )
    except BaseException:
        await db.dispose()
        if redis is not None:
            await redis.aclose()
        raise
