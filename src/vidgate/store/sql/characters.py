"""Characters in the database (``CharacterStore``); their clips are in the content store."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vidgate.errors import ConflictError
from vidgate.gateway.records import CharacterRecord
from vidgate.store.sql.database import Database
from vidgate.store.sql.tables import characters as t

_FIELDS = tuple(f.name for f in dataclasses.fields(CharacterRecord))


def _insert(conn: sa.Connection, character: CharacterRecord) -> None:
    conn.execute(sa.insert(t).values(**dataclasses.asdict(character)))


def _get(conn: sa.Connection, character_id: str) -> CharacterRecord | None:
    row = conn.execute(sa.select(t).where(t.c.id == character_id)).mappings().first()
    return None if row is None else CharacterRecord(**{name: row[name] for name in _FIELDS})


class SqlCharacterStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, character: CharacterRecord) -> None:
        try:
            await self._db.write(_insert, character)
        except IntegrityError:
            raise ConflictError(f"Character '{character.id}' already exists.") from None

    async def get(self, character_id: str) -> CharacterRecord | None:
        return await self._db.read(_get, character_id)
