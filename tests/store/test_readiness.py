"""Readiness probes prove writes, and a SQLite file that went away is never written to.

Each case breaks one component for real (a read-only database file, its directory removed or
replaced, an unwritable content directory, a Redis of the test's own killed) and checks that the probe
names that component, and that writes fail cleanly (``ServiceUnavailableError``, a 503) instead of
landing in a deleted file or surfacing as a driver error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis.exceptions import ConnectionError as RedisConnectionError
from tests.store.factories import make_key
from tests.support.redis_server import redis_server
from tests.support.unwritable import unwritable

from vidgate.errors import ServiceUnavailableError
from vidgate.store.factory import SqlStores, open_stores
from vidgate.store.sql.migrate import head_revision


def _versions(conn: sa.Connection) -> list[str]:
    return [row[0] for row in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]


async def _sqlite(tmp_path: Path) -> tuple[SqlStores, Path]:
    path = tmp_path / "db" / "vidgate.db"
    stores = await open_stores(f"sqlite:///{path}", None, tmp_path / "content")
    assert await stores.probe() == {"db": None, "content": None}
    return stores, path


async def test_a_read_only_database_file_fails_the_probe_and_writes(tmp_path: Path) -> None:
    stores, path = await _sqlite(tmp_path)
    try:
        with unwritable(path):
            outcome = await stores.probe()
            assert isinstance(outcome["db"], ServiceUnavailableError)
            assert outcome["content"] is None
            with pytest.raises(ServiceUnavailableError):
                await stores.keys.create(make_key())
        assert await stores.probe() == {"db": None, "content": None}
        await stores.keys.create(make_key())  # writable again: writes work again
        assert await stores.db.read(_versions) == [head_revision()]  # probes left no row
    finally:
        await stores.close()


async def test_a_removed_database_directory_fails_the_probe_and_nothing_is_written(tmp_path: Path) -> None:
    stores, path = await _sqlite(tmp_path)
    try:
        await stores.keys.create(make_key("before"))
        shutil.rmtree(path.parent)
        assert isinstance((await stores.probe())["db"], ServiceUnavailableError)
        with pytest.raises(ServiceUnavailableError):
            await stores.keys.create(make_key("after"))
        with pytest.raises(ServiceUnavailableError):
            await stores.keys.get("before")  # nor read from the deleted file the pool still holds
        assert not path.exists()
    finally:
        await stores.close()


async def test_a_replaced_database_file_is_not_taken_for_the_one_opened(tmp_path: Path) -> None:
    stores, path = await _sqlite(tmp_path)
    try:
        shutil.rmtree(path.parent)
        path.parent.mkdir()
        path.write_bytes(b"")  # same path, another file (a recreated volume, a restored directory)
        assert isinstance((await stores.probe())["db"], ServiceUnavailableError)
        with pytest.raises(ServiceUnavailableError):
            await stores.keys.create(make_key())
        assert path.read_bytes() == b""
    finally:
        await stores.close()


async def test_an_unwritable_content_directory_fails_the_content_probe(tmp_path: Path) -> None:
    stores, _ = await _sqlite(tmp_path)
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    try:
        with unwritable(content):
            outcome = await stores.probe()
            assert outcome["db"] is None
            assert isinstance(outcome["content"], OSError)
        assert list(content.iterdir()) == []  # the probe file was deleted after each success
        assert await stores.probe() == {"db": None, "content": None}
    finally:
        await stores.close()


async def test_a_stopped_redis_fails_the_redis_probe_only(tmp_path: Path) -> None:
    with redis_server() as server:
        stores = await open_stores(f"sqlite:///{tmp_path / 'v.db'}", server.url, tmp_path / "content")
        try:
            assert await stores.probe() == {"db": None, "content": None, "redis": None}
            server.stop()
            outcome = await stores.probe()
            assert outcome["db"] is None
            assert outcome["content"] is None
            assert isinstance(outcome["redis"], RedisConnectionError)
        finally:
            await stores.close()


@pytest.mark.postgres
async def test_postgres_probe_is_a_write_that_leaves_nothing(fresh_pg_url: str, tmp_path: Path) -> None:
    stores = await open_stores(fresh_pg_url, None, tmp_path / "content")
    try:
        assert await stores.probe() == {"db": None, "content": None}
        assert await stores.db.read(_versions) == [head_revision()]  # the probe's row was rolled back
    finally:
        await stores.close()
