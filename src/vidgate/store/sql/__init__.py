"""SQL stores (SQLite through aiosqlite, PostgreSQL through asyncpg) with packaged Alembic migrations."""

from vidgate.store.sql.admission import SqlAdmission
from vidgate.store.sql.database import Database, async_url, create_engine
from vidgate.store.sql.jobs import SqlJobStore
from vidgate.store.sql.keys import SqlKeyStore
from vidgate.store.sql.ledger import SqlLedger
from vidgate.store.sql.migrate import current_revision, head_revision, upgrade

__all__ = [
    "Database",
    "SqlAdmission",
    "SqlJobStore",
    "SqlKeyStore",
    "SqlLedger",
    "async_url",
    "create_engine",
    "current_revision",
    "head_revision",
    "upgrade",
]
