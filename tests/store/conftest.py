"""Backends for the store conformance suite: every test taking ``backend`` runs on the in-memory
reference stores, SQLite, PostgreSQL, and SQLite/PostgreSQL with Redis.

PostgreSQL tests use databases created for this run (``vidgate_store_<hex>``) and dropped at its end:
one shared database, emptied before each test, plus fresh ones for migration tests. Redis tests use a
unique key prefix per test and delete their keys afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis.asyncio import Redis
from tests.conftest import PgDatabases

from vidgate.gateway.ports import Stores
from vidgate.store.factory import SqlStores, open_stores
from vidgate.store.memory import MemoryStores
from vidgate.store.sql.tables import ALL_TABLES


async def shared_pg_database(databases: PgDatabases, server_url: str) -> str:
    """The run's migrated database, emptied for the calling test."""
    if databases.shared is None:
        databases.shared = await databases.create(server_url)
    stores = await open_stores(databases.shared, None, Path("unused"))
    try:
        await stores.db.truncate(ALL_TABLES)
    finally:
        await stores.close()
    return databases.shared


@dataclass
class Backend:
    name: str
    stores: Stores
    database_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = ""
    content_dir: Path = Path()
    _others: list[SqlStores] = field(default_factory=list)

    @property
    def is_sql(self) -> bool:
        return self.database_url is not None

    @property
    def has_redis(self) -> bool:
        return self.redis_url is not None

    async def another(self) -> Stores:
        """A second, independent instance (its own engine and pool, its own Redis client) on the same
        database and Redis: what a second replica would have."""
        if self.database_url is None:
            pytest.skip("the in-memory stores live in one process; nothing to share")
        other = await open_stores(
            self.database_url, self.redis_url, self.content_dir, redis_prefix=self.redis_prefix
        )
        self._others.append(other)
        return other

    async def close(self) -> None:
        for other in self._others:
            await other.close()
        await self.stores.close()


BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("sqlite+redis", id="sqlite+redis", marks=pytest.mark.redis),
    pytest.param("postgres+redis", id="postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
]


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    name: str = request.param
    if name == "memory":
        memory = Backend(name, MemoryStores())
        yield memory
        await memory.close()
        return
    if name.startswith("postgres"):
        server_url: str = request.getfixturevalue("postgres_url")  # skips when PostgreSQL is not set up
        database_url = await shared_pg_database(request.getfixturevalue("pg_databases"), server_url)
    else:
        database_url = f"sqlite:///{tmp_path / 'vidgate.db'}"
    redis_url: str | None = request.getfixturevalue("redis_url") if name.endswith("+redis") else None
    prefix = f"vgtest:{uuid.uuid4().hex[:12]}:"
    content_dir = tmp_path / "content"
    stores = await open_stores(database_url, redis_url, content_dir, redis_prefix=prefix)
    chosen = Backend(name, stores, database_url, redis_url, prefix, content_dir)
    try:
        yield chosen
    finally:
        await chosen.close()
        if redis_url is not None:
            await _delete_prefixed(redis_url, prefix)


async def _delete_prefixed(redis_url: str, prefix: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        doomed = [k async for k in client.scan_iter(match=prefix + "*", count=500)]
        if doomed:
            await client.delete(*doomed)
    finally:
        await client.aclose()
