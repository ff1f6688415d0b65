"""Virtual keys in SQL. ``save`` writes only the admin-editable columns: the counters change only
through the Ledger and Admission, in their own conditional statements."""

from __future__ import annotations

import builtins
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vidgate.errors import ConflictError, NotFoundError
from vidgate.gateway.records import KEY_ADMIN_FIELDS, KEY_SORT_FIELDS, KeyQuery, KeyRecord
from vidgate.store.sql.database import Database
from vidgate.store.sql.rows import key_to_row, row_to_key
from vidgate.store.sql.tables import keys

ADMIN_COLUMNS = tuple("metadata_json" if name == "metadata" else name for name in KEY_ADMIN_FIELDS)
_BY_ID = sa.select(keys).where(keys.c.id == sa.bindparam("value"))
_BY_HASH = sa.select(keys).where(keys.c.key_hash == sa.bindparam("value"))


def _insert(conn: sa.Connection, key: KeyRecord) -> None:
    conn.execute(keys.insert().values(**key_to_row(key)))


def _one(conn: sa.Connection, query: sa.Select[tuple[object, ...]], value: str) -> KeyRecord | None:
    row = conn.execute(query, {"value": value}).mappings().first()
    return row_to_key(row) if row is not None else None


def _all(conn: sa.Connection) -> list[KeyRecord]:
    result = conn.execute(sa.select(keys).order_by(keys.c.created_at, keys.c.id))
    return [row_to_key(row) for row in result.mappings()]


def _page(conn: sa.Connection, query: KeyQuery) -> tuple[builtins.list[KeyRecord], int]:
    """The page and the count in one snapshot; ties broken by id, so pages never overlap or skip.

    Unfiltered, the default order (created_at, id; either direction) reads one page (and the rows its
    OFFSET skips) from ``ix_keys_listing``, and the token sort from the primary key: neither sorts. A
    filter on that order walks the same index, skipping keys that fail it, or finds the few matching keys
    and sorts those: the ``token`` filter (one or two keys, by id and by hash) on both, and on
    PostgreSQL, from its statistics, a rare ``revoked`` value or alias.
    The other sorts (alias, spend, budgets, limits) sort every matching key: they have no index, as
    spend changes on every settle and the rest are nullable. The total counts every matching key: with
    no filter an index-only read of the whole table on SQLite, a sequential scan on PostgreSQL; no sort,
    but it grows with the keys."""
    where = _conditions(query)
    total = conn.execute(sa.select(sa.func.count()).select_from(keys).where(*where)).scalar_one()
    page = sa.select(keys).where(*where).order_by(*_order(query)).offset(query.offset).limit(query.limit)
    return [row_to_key(row) for row in conn.execute(page).mappings()], int(total)


def _order(query: KeyQuery) -> builtins.list[sa.UnaryExpression[Any]]:
    """``sort`` with absent values last, then id, in the query's direction (the token sort: id alone).
    NULLS LAST only on a nullable column: on PostgreSQL ``DESC NULLS LAST`` is not the order of an
    ascending index read backwards, so the planner sorted even the NOT NULL created_at."""
    column = keys.c[KEY_SORT_FIELDS[query.sort]]
    direct = [column.desc(), keys.c.id.desc()] if query.descending else [column.asc(), keys.c.id.asc()]
    if column is keys.c.id:
        return direct[:1]
    if column.nullable:
        return [direct[0].nulls_last(), direct[1]]
    return direct


def _conditions(query: KeyQuery) -> builtins.list[sa.ColumnElement[bool]]:
    where: builtins.list[sa.ColumnElement[bool]] = []
    if query.token is not None:
        where.append(sa.or_(keys.c.id == query.token, keys.c.key_hash == query.token))
    if query.alias is not None:
        where.append(keys.c.alias == query.alias)
    if query.alias_contains is not None:
        where.append(keys.c.alias.icontains(query.alias_contains, autoescape=True))
    if query.search is not None:
        where.append(
            sa.or_(
                keys.c.id == query.search,
                keys.c.key_hash == query.search,
                keys.c.alias.icontains(query.search, autoescape=True),
            )
        )
    if query.revoked is not None:
        where.append(keys.c.revoked == query.revoked)
    return where


def _save(conn: sa.Connection, key: KeyRecord) -> bool:
    row = key_to_row(key)
    values: dict[str, Any] = {name: row[name] for name in ADMIN_COLUMNS}
    # A changed budget_duration starts a new period at the caller's budget_reset_at; otherwise the
    # ledger owns that column (SET expressions read the row as it was before this UPDATE).
    values["budget_reset_at"] = sa.case(
        (keys.c.budget_duration.is_not_distinct_from(key.budget_duration), keys.c.budget_reset_at),
        else_=key.budget_reset_at,
    )
    stmt = sa.update(keys).where(keys.c.id == key.id).values(values)
    return conn.execute(stmt.returning(keys.c.id)).first() is not None


def _delete(conn: sa.Connection, key_id: str) -> bool:
    return conn.execute(sa.delete(keys).where(keys.c.id == key_id).returning(keys.c.id)).first() is not None


class SqlKeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, key: KeyRecord) -> None:
        try:
            await self._db.write(_insert, key)
        except IntegrityError:
            raise ConflictError(f"Key id '{key.id}' (or a key with this secret) already exists.") from None

    async def get(self, key_id: str) -> KeyRecord | None:
        return await self._db.read_small(_one, _BY_ID, key_id)

    async def get_by_hash(self, key_hash: str) -> KeyRecord | None:
        return await self._db.read_small(_one, _BY_HASH, key_hash)

    async def list(self) -> builtins.list[KeyRecord]:
        return await self._db.read(_all)

    async def page(self, query: KeyQuery) -> tuple[builtins.list[KeyRecord], int]:
        return await self._db.read_snapshot(_page, query)

    async def save(self, key: KeyRecord) -> None:
        if not await self._db.write(_save, key):
            raise NotFoundError(f"Key '{key.id}' not found.")

    async def delete(self, key_id: str) -> bool:
        return await self._db.write(_delete, key_id)
