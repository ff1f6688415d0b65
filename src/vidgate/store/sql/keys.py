"""Virtual keys in SQL. ``save`` writes only the admin-editable columns: the counters change only
through the Ledger and Admission, in their own conditional statements."""

from __future__ import annotations

import builtins

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vidgate.errors import ConflictError, NotFoundError
from vidgate.gateway.records import KeyRecord
from vidgate.store.sql.database import Database
from vidgate.store.sql.rows import key_to_row, row_to_key
from vidgate.store.sql.tables import keys

ADMIN_COLUMNS = (
    "alias",
    "models",
    "max_budget_micros",
    "budget_duration",
    "rpm_limit",
    "max_parallel_requests",
    "metadata_json",
    "revoked",
)


class SqlKeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, key: KeyRecord) -> None:
        try:
            async with self._db.write() as conn:
                await conn.execute(keys.insert().values(**key_to_row(key)))
        except IntegrityError:
            raise ConflictError(f"Key id '{key.id}' (or a key with this secret) already exists.") from None

    async def get(self, key_id: str) -> KeyRecord | None:
        return await self._one(keys.c.id == key_id)

    async def get_by_hash(self, key_hash: str) -> KeyRecord | None:
        return await self._one(keys.c.key_hash == key_hash)

    async def list(self) -> builtins.list[KeyRecord]:
        async with self._db.read() as conn:
            result = await conn.execute(sa.select(keys).order_by(keys.c.created_at, keys.c.id))
            return [row_to_key(row) for row in result.mappings()]

    async def save(self, key: KeyRecord) -> None:
        row = key_to_row(key)
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.update(keys)
                .where(keys.c.id == key.id)
                .values({name: row[name] for name in ADMIN_COLUMNS})
                .returning(keys.c.id)
            )
            if result.first() is None:
                raise NotFoundError(f"Key '{key.id}' not found.")

    async def delete(self, key_id: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(sa.delete(keys).where(keys.c.id == key_id).returning(keys.c.id))
            return result.first() is not None

    async def _one(self, where: sa.ColumnElement[bool]) -> KeyRecord | None:
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(keys).where(where))).mappings().first()
            return row_to_key(row) if row is not None else None
