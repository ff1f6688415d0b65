"""Owed cancels in SQL (``OwedCancelStore``): one row per (deployment id, native id) in ``owed_cancels``.

``claim_due`` is the jobs' claim (``jobs.py``): one ``UPDATE ... WHERE key IN (SELECT ... FOR UPDATE SKIP
LOCKED) RETURNING``, so concurrent claimers on PostgreSQL skip each other's rows, and SQLite's single
write lock makes it atomic. Every poller round asks, and almost always nothing is owed, so a small read
through ``ix_owed_cancels_due`` comes first: only a round with a due row writes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from vidgate.gateway.records import OwedCancel
from vidgate.store.sql.database import Database
from vidgate.store.sql.tables import owed_cancels as t

_FIELDS = tuple(f.name for f in dataclasses.fields(OwedCancel))
_KEY = sa.and_(
    t.c.deployment_id == sa.bindparam("b_deployment", type_=sa.String),
    t.c.native_id == sa.bindparam("b_native", type_=sa.String),
)
_NOW = sa.bindparam("b_now", type_=sa.Double)
_DUE = sa.and_(t.c.next_try_at <= _NOW, sa.or_(t.c.lease_expires_at.is_(None), t.c.lease_expires_at <= _NOW))
_INSERT = {
    name: insert(t).on_conflict_do_nothing(index_elements=[t.c.deployment_id, t.c.native_id])
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_GET = sa.select(t).where(_KEY)
_ANY_DUE = sa.select(t.c.next_try_at).where(_DUE).order_by(t.c.next_try_at).limit(1)
_FAILED = (
    sa.update(t)
    .where(_KEY, t.c.lease_owner == sa.bindparam("b_owner", type_=sa.String))
    .values(
        tries=t.c.tries + 1,
        next_try_at=sa.bindparam("b_next", type_=sa.Double),
        lease_owner=None,
        lease_expires_at=None,
    )
)
_SETTLE = sa.delete(t).where(_KEY)


def _record(row: Mapping[Any, Any]) -> OwedCancel:
    return OwedCancel(**{name: row[name] for name in _FIELDS})


def _owe(conn: sa.Connection, cancel: OwedCancel) -> bool:
    return conn.execute(_INSERT[conn.dialect.name], dataclasses.asdict(cancel)).rowcount == 1


def _get(conn: sa.Connection, params: dict[str, str]) -> OwedCancel | None:
    row = conn.execute(_GET, params).mappings().first()
    return None if row is None else _record(row)


def _any_due(conn: sa.Connection, now: float) -> bool:
    return conn.execute(_ANY_DUE, {"b_now": now}).first() is not None


def _claim(conn: sa.Connection, owner: str, now: float, until: float, limit: int) -> list[OwedCancel]:
    due = (
        sa.select(t.c.deployment_id, t.c.native_id)
        .where(_DUE)
        .order_by(t.c.next_try_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        sa.update(t)
        .where(sa.tuple_(t.c.deployment_id, t.c.native_id).in_(due))
        .values(lease_owner=owner, lease_expires_at=until)
        .returning(*t.c)
    )
    return [_record(row) for row in conn.execute(stmt, {"b_now": now}).mappings()]


def _changed(conn: sa.Connection, stmt: sa.Executable, params: dict[str, object]) -> bool:
    return conn.execute(stmt, params).rowcount == 1


class SqlOwedCancelStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def owe(self, cancel: OwedCancel) -> bool:
        return await self._db.write_one(_owe, cancel)

    async def get(self, deployment_id: str, native_id: str) -> OwedCancel | None:
        return await self._db.read_small(_get, {"b_deployment": deployment_id, "b_native": native_id})

    async def claim_due(
        self, worker_id: str, *, now: float, lease_seconds: float, limit: int
    ) -> list[OwedCancel]:
        if limit <= 0 or not await self._db.read_small(_any_due, now):
            return []
        claimed = await self._db.write_one(_claim, worker_id, now, now + lease_seconds, limit)
        claimed.sort(key=lambda c: (c.next_try_at, c.deployment_id, c.native_id))
        return claimed

    async def failed(self, deployment_id: str, native_id: str, worker_id: str, *, next_try_at: float) -> bool:
        params: dict[str, object] = {
            "b_deployment": deployment_id,
            "b_native": native_id,
            "b_owner": worker_id,
            "b_next": next_try_at,
        }
        return await self._db.write_one(_changed, _FAILED, params)

    async def settle(self, deployment_id: str, native_id: str) -> bool:
        params: dict[str, object] = {"b_deployment": deployment_id, "b_native": native_id}
        return await self._db.write_one(_changed, _SETTLE, params)
