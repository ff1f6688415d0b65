"""Shared fixtures. Real-service URLs come from the environment (``.ci/run`` sets them)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url


@pytest.fixture(autouse=True)
def _isolated_local_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the local provider's job files and render cache out of the user's home."""
    base = tmp_path_factory.getbasetemp() / "vidgate-local"
    base.mkdir(exist_ok=True)
    monkeypatch.setenv("VIDGATE_LOCAL_DIR", str(base))


@pytest.fixture(scope="session")
def render_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One render cache for the whole run, so each distinct video is encoded once."""
    return tmp_path_factory.mktemp("render-cache")


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("VIDGATE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("VIDGATE_TEST_POSTGRES_URL is not set (no PostgreSQL for this run)")
    return url


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("VIDGATE_TEST_REDIS_URL")
    if not url:
        pytest.skip("VIDGATE_TEST_REDIS_URL is not set (no Redis for this run)")
    return url


def _plain_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


class PgDatabases:
    """Databases this run created, on the server of ``VIDGATE_TEST_POSTGRES_URL``."""

    def __init__(self) -> None:
        self.created: list[tuple[str, str]] = []  # (server url, database name)
        self.shared: str | None = None

    async def create(self, server_url: str) -> str:
        name = f"vidgate_store_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(_plain_dsn(server_url))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append((server_url, name))
        return _plain_dsn(server_url, name)

    async def drop_all(self) -> None:
        for server_url, name in self.created:
            conn = await asyncpg.connect(_plain_dsn(server_url))
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    databases = PgDatabases()
    yield databases
    if databases.created:
        asyncio.run(databases.drop_all())


@pytest.fixture
async def fresh_pg_url(postgres_url: str, pg_databases: PgDatabases) -> str:
    """An empty database of its own (for migration tests)."""
    return await pg_databases.create(postgres_url)
