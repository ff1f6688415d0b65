"""The packaged Alembic migrations: empty -> head on SQLite and PostgreSQL, the result equals the
models (autogenerate finds nothing to do), and concurrent upgrades (replicas starting together) work."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import vidgate
from vidgate.store.sql import Database, current_revision, downgrade, head_revision, upgrade
from vidgate.store.sql.migrate import MIGRATIONS_DIR
from vidgate.store.sql.tables import metadata


def _diff(connection: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def _tables(connection: sa.Connection) -> list[str]:
    return sa.inspect(connection).get_table_names()


async def _check_upgrade_from_empty(url: str) -> None:
    db = Database(url)
    try:
        assert await current_revision(db) is None
        await upgrade(db)
        assert await current_revision(db) == head_revision()
        assert await db.read(_diff) == []
        tables = set(await db.read(_tables))
        assert tables == {t.name for t in metadata.sorted_tables} | {"alembic_version"}
        await upgrade(db)  # already at head: nothing to do
        await downgrade(db, "base")
        assert await current_revision(db) is None
        assert await db.read(_tables) == ["alembic_version"]
        await upgrade(db)
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


async def _check_concurrent_upgrades(url: str) -> None:
    dbs = [Database(url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(db) for db in dbs))
        assert {await current_revision(db) for db in dbs} == {head_revision()}
    finally:
        for db in dbs:
            await db.dispose()


async def test_sqlite_upgrade_from_empty_matches_models(tmp_path: Path) -> None:
    await _check_upgrade_from_empty(f"sqlite:///{tmp_path / 'fresh.db'}")


async def test_sqlite_concurrent_upgrades(tmp_path: Path) -> None:
    await _check_concurrent_upgrades(f"sqlite:///{tmp_path / 'fresh.db'}")


@pytest.mark.postgres
async def test_postgres_upgrade_from_empty_matches_models(fresh_pg_url: str) -> None:
    await _check_upgrade_from_empty(fresh_pg_url)


@pytest.mark.postgres
async def test_postgres_concurrent_upgrades(fresh_pg_url: str) -> None:
    await _check_concurrent_upgrades(fresh_pg_url)


def test_migrations_ship_inside_the_package() -> None:
    assert vidgate.__file__ is not None
    assert MIGRATIONS_DIR.is_relative_to(Path(vidgate.__file__).parent)
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("v*.py"))[0] == "v0001_initial.py"
