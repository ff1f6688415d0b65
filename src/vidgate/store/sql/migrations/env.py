"""Alembic environment for vidgate's schema.

vidgate runs it programmatically (``vidgate.store.sql.migrate``), handing over an open connection in
``config.attributes["connection"]``. Without one it connects to ``sqlalchemy.url`` itself, so the
standard ``alembic`` command works too with a config whose ``script_location`` points here.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context

from vidgate.store.sql.database import Database
from vidgate.store.sql.tables import metadata

config = context.config


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )


def _run(connection: sa.Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_own_database(url: str) -> None:
    db = Database(url)
    try:
        await db.write(_run)
    finally:
        await db.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
    else:
        asyncio.run(_run_own_database(config.get_main_option("sqlalchemy.url") or ""))
