"""The budget ledger in SQL: exact under concurrency, on one database or many replicas sharing it.

- ``reserve`` is one conditional ``UPDATE keys SET reserved = reserved + x WHERE spend + reserved + x
  <= max_budget`` plus the job's reservation row, in one transaction. On PostgreSQL a concurrent
  reserve on the same key waits for the row lock and re-evaluates the condition against the committed
  counters, so concurrent creates can never together exceed the budget.
- ``settle`` / ``release`` move the reservation row ``reserved -> settled | released`` with a
  conditional UPDATE, and in the same transaction adjust the key's counters and (settle) insert the
  spend log: the job is charged exactly once however often the step is repeated. A job with no
  reservation (the master key reserves nothing) gets a settled/released row the same way.
- The budget period rolls over (spend -> 0) in ``reserve`` and ``settle`` through a conditional UPDATE
  on the old ``budget_reset_at``, so concurrent callers roll it once (``gateway.budget.roll_period``).
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from vidgate.errors import NotFoundError
from vidgate.gateway.budget import roll_period
from vidgate.gateway.records import KeyRecord, SpendEntry
from vidgate.store.memory import budget_exceeded
from vidgate.store.sql.database import Database
from vidgate.store.sql.rows import entry_to_row, row_to_entry, row_to_key
from vidgate.store.sql.tables import keys, reservations, spend_logs


class SqlLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def reserve(self, key: KeyRecord, job_id: str, micros: int, *, now: int) -> None:
        if micros < 0:
            raise ValueError(f"micros must be >= 0, got {micros}")
        refusal: Exception | None = None
        try:
            async with self._db.write() as conn:
                held = await conn.execute(
                    sa.select(reservations.c.job_id).where(reservations.c.job_id == job_id)
                )
                if held.first() is not None:
                    return  # one reservation per job: a repeated reserve is a no-op
                if not await _roll(conn, key.id, now):
                    raise NotFoundError(f"Key '{key.id}' not found.")
                fits = sa.or_(
                    keys.c.max_budget_micros.is_(None),
                    keys.c.spend_micros + keys.c.reserved_micros + micros <= keys.c.max_budget_micros,
                )
                taken = await conn.execute(
                    sa.update(keys)
                    .where(keys.c.id == key.id, fits)
                    .values(reserved_micros=keys.c.reserved_micros + micros)
                    .returning(keys.c.id)
                )
                if taken.first() is None:
                    current = (
                        (await conn.execute(sa.select(keys).where(keys.c.id == key.id))).mappings().one()
                    )
                    refusal = budget_exceeded(row_to_key(current), micros)
                else:
                    await conn.execute(
                        reservations.insert().values(
                            job_id=job_id,
                            key_id=key.id,
                            micros=micros,
                            state="reserved",
                            created_at=now,
                            updated_at=now,
                        )
                    )
        except IntegrityError:
            return  # a concurrent reserve for the same job won; ours rolled back entirely
        if refusal is not None:
            raise refusal  # raised after the commit, so a period roll-over is kept

    async def settle(self, entry: SpendEntry) -> bool:
        async with self._db.write() as conn:
            moved = await self._transition(
                conn, entry.key_id, entry.job_id, "settled", entry.created_at, entry
            )
            if moved is None:
                return False
            key_id, reserved = moved
            await _roll(conn, key_id, entry.created_at)
            await conn.execute(
                sa.update(keys)
                .where(keys.c.id == key_id)
                .values(
                    reserved_micros=keys.c.reserved_micros - reserved,
                    spend_micros=keys.c.spend_micros + entry.cost_micros,
                    total_spend_micros=keys.c.total_spend_micros + entry.cost_micros,
                )
            )
            await conn.execute(spend_logs.insert().values(**entry_to_row(entry)))
            return True

    async def release(self, key_id: str, job_id: str) -> bool:
        async with self._db.write() as conn:
            moved = await self._transition(conn, key_id, job_id, "released", int(time.time()), None)
            if moved is None:
                return False
            owner, reserved = moved
            if reserved:
                await conn.execute(
                    sa.update(keys)
                    .where(keys.c.id == owner)
                    .values(reserved_micros=keys.c.reserved_micros - reserved)
                )
            return True

    async def _transition(
        self, conn: AsyncConnection, key_id: str, job_id: str, state: str, at: int, entry: SpendEntry | None
    ) -> tuple[str, int] | None:
        """Move the job's reservation out of ``reserved`` (or record the outcome when there was none);
        the (key id, reserved micros) to adjust, or None if the job was already settled/released."""
        cost = entry.cost_micros if entry is not None else None
        moved = await conn.execute(
            sa.update(reservations)
            .where(reservations.c.job_id == job_id, reservations.c.state == "reserved")
            .values(state=state, cost_micros=cost, updated_at=at)
            .returning(reservations.c.key_id, reservations.c.micros)
        )
        row = moved.first()
        if row is not None:
            return str(row.key_id), int(row.micros)
        outcome: dict[str, Any] = {
            "job_id": job_id,
            "key_id": key_id,
            "micros": 0,
            "state": state,
            "cost_micros": cost,
            "created_at": at,
            "updated_at": at,
        }
        inserted = await conn.execute(
            self._db.insert(reservations)
            .values(outcome)
            .on_conflict_do_nothing(index_elements=[reservations.c.job_id])
            .returning(reservations.c.job_id)
        )
        return (key_id, 0) if inserted.first() is not None else None

    async def spend_logs(
        self, *, key_id: str | None, start: int | None, end: int | None, limit: int
    ) -> list[SpendEntry]:
        query = sa.select(spend_logs)
        if key_id is not None:
            query = query.where(spend_logs.c.key_id == key_id)
        if start is not None:
            query = query.where(spend_logs.c.created_at >= start)
        if end is not None:
            query = query.where(spend_logs.c.created_at <= end)
        query = query.order_by(spend_logs.c.created_at.desc(), spend_logs.c.id.desc()).limit(max(limit, 0))
        async with self._db.read() as conn:
            return [row_to_entry(row) for row in (await conn.execute(query)).mappings()]


async def _roll(conn: AsyncConnection, key_id: str, now: int) -> bool:
    """Roll the key's budget period over if it ended at ``now``; False if the key does not exist."""
    row = (
        await conn.execute(
            sa.select(keys.c.budget_duration, keys.c.budget_reset_at).where(keys.c.id == key_id)
        )
    ).first()
    if row is None:
        return False
    duration, reset_at = row.budget_duration, row.budget_reset_at
    ended, new_reset_at = roll_period(duration, reset_at, now)
    if new_reset_at == reset_at:
        return True
    same_period = keys.c.budget_reset_at.is_(None) if reset_at is None else keys.c.budget_reset_at == reset_at
    values: dict[str, Any] = {"budget_reset_at": new_reset_at}
    if ended:
        values["spend_micros"] = 0
    # Conditional on the period we saw: of concurrent callers, exactly one rolls it over.
    await conn.execute(sa.update(keys).where(keys.c.id == key_id, same_period).values(values))
    return True
