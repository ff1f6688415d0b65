"""Run the packaged Alembic migrations programmatically, on the store's own connection.

Several replicas may start at once: on PostgreSQL the upgrade runs under a transaction-scoped advisory
lock (DDL is transactional there, so the second replica waits, then finds the schema at head); on
SQLite it runs under a file lock and inside a ``BEGIN IMMEDIATE`` write transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from vidgate.store.sql.database import Database

try:
    import fcntl
except ImportError:  # Windows: no cross-process lock; start SQLite replicas one at a time there
    fcntl = None  # type: ignore[assignment]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x76696467  # "vidg": any fixed 64-bit number shared by every replica


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic revisions found under {MIGRATIONS_DIR}")
    return head


def _run(connection: sa.Connection, revision: str, direction: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if direction == "up":
        command.upgrade(cfg, revision)
    else:
        command.downgrade(cfg, revision)


def _current(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (default: the newest). Safe to run concurrently."""
    async with _sqlite_file_lock(db):
        await db.write(_run, revision, "up")


async def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to ``revision`` (``"base"``: drop everything)."""
    async with _sqlite_file_lock(db):
        await db.write(_run, revision, "down")


async def current_revision(db: Database) -> str | None:
    return await db.read(_current)


@asynccontextmanager
async def _sqlite_file_lock(db: Database) -> AsyncIterator[None]:
    """Serialize SQLite migrations across processes with an OS lock on ``<database>.migrate.lock``.

    The first connection to a new SQLite file switches it to WAL, which needs an exclusive lock; if
    another process is inside a transaction at that moment SQLite may answer "database is locked" at
    once instead of waiting. Migrating (and so first connecting) one process at a time avoids that.
    """
    path = db.sqlite_path
    if path is None or fcntl is None:
        yield
        return
    async with await anyio.open_file(f"{path}.migrate.lock", "a+b") as handle:
        fd = handle.wrapped.fileno()
        await anyio.to_thread.run_sync(fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
