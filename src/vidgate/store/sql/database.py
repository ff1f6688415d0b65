"""The async engine and its transactions, for SQLite (aiosqlite) and PostgreSQL (asyncpg).

Every store method is one short transaction through :class:`Database`. Writes that must be exact under
concurrency are single conditional statements (``UPDATE ... WHERE <condition>``): on PostgreSQL the row
lock taken by the first writer makes a concurrent one wait and re-check the condition; SQLite has one
writer at a time anyway. For SQLite we also take the write lock up front (``BEGIN IMMEDIATE``, so the
busy timeout applies instead of a "database is locked" error on lock upgrade) and queue this process's
writers on an ``asyncio.Lock``, so a hundred concurrent reservations wait their turn instead of failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

SQLITE_BUSY_TIMEOUT_MS = 30_000
_SQLITE_SYNC_DRIVERS = {"sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"}
_POSTGRES_NAMES = {"postgres", "postgresql"}


def async_url(database_url: str) -> URL:
    """Map a sync-style URL (``sqlite:///x.db``, ``postgresql://...``, ``postgres://...``,
    ``postgresql+psycopg2://...``) to the async driver vidgate uses; async URLs pass through."""
    try:
        url = make_url(database_url)
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"database_url: cannot parse {database_url!r} ({exc})") from None
    backend = url.get_backend_name()
    if url.drivername in _SQLITE_SYNC_DRIVERS:
        return url.set(drivername="sqlite+aiosqlite")
    if backend in _POSTGRES_NAMES:
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(
        f"database_url: unsupported database {url.drivername!r}; use 'sqlite:///path.db' "
        "(sqlite+aiosqlite) or 'postgresql://user@host/db' (postgresql+asyncpg)"
    )


def _is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or bool(url.query.get("mode") == "memory")


def create_engine(database_url: str) -> AsyncEngine:
    """An async engine for ``database_url`` with vidgate's connection settings."""
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_timeout=60)


def _sqlite_engine(url: URL) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if _is_memory_sqlite(url):
        # One shared connection: each new connection to ":memory:" would be a different database.
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"] = {"check_same_thread": False}
    elif url.database:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that "begin" below decides how to BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get("vidgate_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """An engine plus the two kinds of transaction the stores use."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.is_sqlite = self.dialect == "sqlite"
        self._writers = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A read-write transaction, committed on normal exit and rolled back on an exception."""
        if self._writers is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._writers, self.engine.connect() as conn:
            await conn.execution_options(vidgate_write=True)
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def read(self, *, snapshot: bool = False) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction; ``snapshot`` makes several statements see one consistent state
        (REPEATABLE READ on PostgreSQL; a SQLite read transaction is a snapshot already)."""
        async with self.engine.connect() as conn:
            if snapshot and not self.is_sqlite:
                await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn

    def insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        """A dialect INSERT, which has ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
        return sqlite.insert(table) if self.is_sqlite else postgresql.insert(table)

    async def truncate(self, tables: Iterable[sa.Table]) -> None:
        """Empty ``tables`` (tests and ``vidgate`` admin tooling)."""
        async with self.write() as conn:
            for table in tables:
                await conn.execute(table.delete())

    async def dispose(self) -> None:
        await self.engine.dispose()
