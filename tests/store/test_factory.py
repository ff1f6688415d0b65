"""open_stores: URL mapping, migrations on open, readiness probes, and the Redis wiring."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from tests.store.factories import make_key

from vidgate.store.factory import open_stores
from vidgate.store.redis import RedisAdmission, RedisLedger
from vidgate.store.sql import SqlAdmission, SqlLedger, driver_url
from vidgate.store.sql.migrate import current_revision, head_revision


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///vidgate.db", "sqlite+pysqlite:///vidgate.db"),
        ("sqlite:////abs/path/v.db", "sqlite+pysqlite:////abs/path/v.db"),
        ("sqlite+aiosqlite:///./x.db", "sqlite+pysqlite:///./x.db"),
        ("sqlite://", "sqlite+pysqlite://"),
        ("postgresql://u:p@h:5433/db", "postgresql+asyncpg://u:***@h:5433/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_urls_map_to_the_drivers_used(given: str, expected: str) -> None:
    assert str(driver_url(given)) == expected


@pytest.mark.parametrize("bad", ["mysql://u@h/db", "not a url", "oracle+cx://x"])
def test_unsupported_urls_name_the_setting(bad: str) -> None:
    with pytest.raises(ValueError, match="database_url"):
        driver_url(bad)


async def test_sqlite_open_migrates_and_pings(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "vidgate.db"
    stores = await open_stores(f"sqlite:///{path}", None, tmp_path / "content")
    try:
        assert path.is_file()
        assert await current_revision(stores.db) == head_revision()
        assert isinstance(stores.ledger, SqlLedger)
        assert isinstance(stores.admission, SqlAdmission)
        assert await stores.probe() == {"db": None, "content": None}
        await stores.keys.create(make_key())
    finally:
        await stores.close()
    reopened = await open_stores(f"sqlite:///{path}", None, tmp_path / "content")
    try:
        assert [k.id for k in await reopened.keys.list()] == ["k1"]
    finally:
        await reopened.close()


async def test_in_memory_sqlite_works(tmp_path: Path) -> None:
    stores = await open_stores("sqlite://", None, tmp_path)
    try:
        await stores.keys.create(make_key())
        assert await stores.keys.get("k1") == make_key()
    finally:
        await stores.close()


async def test_probe_names_redis_when_redis_is_unreachable(tmp_path: Path) -> None:
    stores = await open_stores(f"sqlite:///{tmp_path / 'v.db'}", "redis://127.0.0.1:1/0", tmp_path)
    try:
        assert isinstance(stores.ledger, RedisLedger)
        assert isinstance(stores.admission, RedisAdmission)
        outcome = await stores.probe()
        assert outcome["db"] is None
        assert outcome["content"] is None
        assert isinstance(outcome["redis"], RedisConnectionError)
    finally:
        await stores.close()


async def test_probe_names_the_database_when_it_is_unreachable(tmp_path: Path) -> None:
    stores = await open_stores("postgresql://nobody@127.0.0.1:1/none", None, tmp_path, migrate=False)
    try:
        outcome = await stores.probe()
        assert isinstance(outcome["db"], OSError)
        assert "connect" in str(outcome["db"]).lower()
        assert outcome["content"] is None
    finally:
        await stores.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_postgres_with_redis_from_sync_style_urls(
    fresh_pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    assert fresh_pg_url.startswith("postgresql://")
    stores = await open_stores(fresh_pg_url, redis_url, tmp_path, redis_prefix="vgtest-factory:")
    try:
        assert await stores.probe() == {"db": None, "content": None, "redis": None}
        assert await current_revision(stores.db) == head_revision()
    finally:
        await stores.close()
