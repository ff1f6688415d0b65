"""PostgreSQL writes and reads (``store/sql/postgres.py``): connections PostgreSQL dropped (a restart, a
failover, an idle timeout in a proxy) are replaced on their next use instead of failing the request that
drew them from the pool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from tests.store.factories import make_job

from vidgate.store.factory import open_stores
from vidgate.store.sql.database import Database


async def _drop_connections(database_url: str) -> int:
    url = make_url(database_url)
    admin = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        return int(
            await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                url.database,
            )
        )
    finally:
        await admin.close()


@pytest.mark.postgres
async def test_pooled_connections_dropped_by_postgres_are_replaced_on_next_use(
    fresh_pg_url: str, tmp_path: Path
) -> None:
    stores = await open_stores(fresh_pg_url, None, tmp_path / "content")
    try:
        await stores.jobs.insert(make_job("video_a"))
        assert (await stores.probe())["db"] is None  # the pool now holds idle connections
        assert await _drop_connections(fresh_pg_url) >= 1
        assert (await stores.probe())["db"] is None  # readiness stays green
        job = await stores.jobs.get("video_a")  # and reads and writes work at the first try
        assert job is not None
        assert await stores.jobs.save(job) is True
    finally:
        await stores.close()


@pytest.mark.postgres
async def test_a_write_drawing_a_connection_postgres_dropped_runs_again_on_a_new_one(
    fresh_pg_url: str, tmp_path: Path
) -> None:
    stores = await open_stores(fresh_pg_url, None, tmp_path / "content")
    try:
        await stores.jobs.insert(make_job("video_a"))
        assert await _drop_connections(fresh_pg_url) >= 1
        await stores.jobs.insert(make_job("video_b"))  # the first use of the pool since the drop
        assert await stores.jobs.get("video_b") is not None
    finally:
        await stores.close()


@pytest.mark.postgres
async def test_a_one_statement_write_drawing_connections_postgres_dropped_replaces_each(
    fresh_pg_url: str, tmp_path: Path
) -> None:
    """A save runs in autocommit (``write_one``): no transaction to retry, so a closed connection must be
    found before the statement is sent, however many of them the pool holds."""
    stores = await open_stores(fresh_pg_url, None, tmp_path / "content")
    try:
        await asyncio.gather(*(stores.jobs.insert(make_job(f"video_{i}")) for i in range(6)))
        jobs = [await stores.jobs.get(f"video_{i}") for i in range(6)]
        assert await _drop_connections(fresh_pg_url) >= 2  # the pool holds several, all dropped now
        await asyncio.sleep(0.2)  # their sockets' ends are read: asyncpg marks them closed
        for job in jobs:
            assert job is not None
            assert await stores.jobs.save(job) is True
    finally:
        await stores.close()


@pytest.mark.postgres
async def test_connections_opened_under_load_stay_open_for_the_next_burst(fresh_pg_url: str) -> None:
    """16 reads at once, twice: the second burst opens no connection. SQLAlchemy's overflow connections
    are closed as soon as they are handed back, so with fewer kept than a steady load uses, every burst
    reconnected (each connect several round trips: listings' p99 was 50-160 ms at 16 connections)."""
    database = Database(fresh_pg_url)
    connects: list[object] = []
    event.listen(database.sync_engine, "connect", lambda *_: connects.append(None))

    def held(conn: sa.Connection) -> None:
        conn.execute(sa.text("SELECT pg_sleep(0.2)"))  # every read of the burst holds its connection

    try:
        await asyncio.gather(*(database.read(held) for _ in range(16)))
        assert len(connects) == 16
        await asyncio.gather(*(database.read(held) for _ in range(16)))
        assert len(connects) == 16
    finally:
        await database.dispose()
