"""SQL stores (SQLite through pysqlite in worker threads, PostgreSQL through asyncpg) with packaged Alembic
migrations."""

from vidgate.store.sql.admission import SqlAdmission
from vidgate.store.sql.database import Database, driver_url
from vidgate.store.sql.idempotency import SqlIdempotencyStore
from vidgate.store.sql.jobs import SqlJobStore
from vidgate.store.sql.keys import SqlKeyStore
from vidgate.store.sql.ledger import SqlLedger
from vidgate.store.sql.migrate import current_revision, downgrade, head_revision, upgrade

__all__ = [
    "Database",
    "SqlAdmission",
    "SqlIdempotencyStore",
    "SqlJobStore",
    "SqlKeyStore",
    "SqlLedger",
    "current_revision",
    "downgrade",
    "driver_url",
    "head_revision",
    "upgrade",
]
