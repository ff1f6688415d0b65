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
- ``stranded`` finds held reservations with no job row (their create died with its process) through
  ``ix_reservations_state_created``, in its order: only held rows are read, not every job's outcome.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vidgate.errors import APIError, NotFoundError
from vidgate.gateway.auth import revoked_key
from vidgate.gateway.budget import roll_period
from vidgate.gateway.records import KeyRecord, SpendEntry
from vidgate.store.memory import budget_exceeded
from vidgate.store.sql.database import Database, dialect_insert
from vidgate.store.sql.prepared import Prepared
from vidgate.store.sql.rows import entry_to_row, row_to_entry, row_to_key
from vidgate.store.sql.tables import jobs, keys, reservations, spend_logs

# Hot statements, built once (see ``jobs.py``): executed with a dict of values.
_KEY: sa.BindParameter[str] = sa.bindparam("b_key", type_=sa.String)
_PERIOD = Prepared(sa.select(keys.c.budget_duration, keys.c.budget_reset_at).where(keys.c.id == _KEY))
_HELD = Prepared(sa.select(reservations.c.job_id).where(reservations.c.job_id == sa.bindparam("b_job")))
_MICROS = sa.bindparam("b_micros", type_=sa.BigInteger)
_FITS = sa.and_(
    keys.c.revoked.is_(False),  # blocked after the request authenticated: nothing is reserved
    sa.or_(
        keys.c.max_budget_micros.is_(None),
        keys.c.spend_micros + keys.c.reserved_micros + _MICROS <= keys.c.max_budget_micros,
    ),
)
_TAKE = Prepared(
    sa.update(keys)
    .where(keys.c.id == _KEY, _FITS)
    .values(reserved_micros=keys.c.reserved_micros + _MICROS)
    .returning(keys.c.id)
)
# The key's budget period runs at ``b_now`` (no duration, or before its reset: what ``roll_period``
# leaves alone).
_IN_PERIOD = sa.or_(
    keys.c.budget_duration.is_(None), keys.c.budget_reset_at > sa.bindparam("b_now", type_=sa.BigInteger)
)
# ``_TAKE`` while the period runs, so the common reserve is one statement; otherwise the period is read
# and rolled over first.
_TAKE_IN_PERIOD = Prepared(
    sa.update(keys)
    .where(keys.c.id == _KEY, _IN_PERIOD, _FITS)
    .values(reserved_micros=keys.c.reserved_micros + _MICROS)
    .returning(keys.c.id)
)
_RESERVATION = Prepared(reservations.insert())


def _roll(conn: sa.Connection, key_id: str, now: int) -> bool:
    """Roll the key's budget period over if it ended at ``now``; False if the key does not exist."""
    row = _PERIOD.run(conn, {"b_key": key_id}).first()
    if row is None:
        return False
    duration, reset_at = row
    ended, new_reset_at = roll_period(duration, reset_at, now)
    if new_reset_at == reset_at:
        return True
    same_period = keys.c.budget_reset_at.is_(None) if reset_at is None else keys.c.budget_reset_at == reset_at
    values: dict[str, Any] = {"budget_reset_at": new_reset_at}
    if ended:
        values["spend_micros"] = 0
    # Conditional on the period we saw: of concurrent callers, exactly one rolls it over.
    conn.execute(sa.update(keys).where(keys.c.id == key_id, same_period).values(values))
    return True


def _reserve(
    conn: sa.Connection, key_id: str, job_id: str, micros: int, now: int, *, fresh: bool = False
) -> bool | APIError:
    """True when reserved now, False when the job had a reservation (or outcome) already; or the
    refusal (the budget, or the key revoked since the request authenticated), to raise once the
    transaction (and so any period roll-over) has committed. ``fresh``: the job id was just minted, so
    there is no earlier reservation to look for (one would still fail the insert on its primary key)."""
    if not fresh and _HELD.run(conn, {"b_job": job_id}).first() is not None:
        return False  # one reservation per job: a repeated reserve is a no-op
    params = {"b_key": key_id, "b_micros": micros}
    taken = _TAKE_IN_PERIOD.run(conn, {**params, "b_now": now}).first()
    if taken is None:
        if not _roll(conn, key_id, now):
            raise NotFoundError(f"Key '{key_id}' not found.")
        taken = _TAKE.run(conn, params).first()
    if taken is None:
        current = row_to_key(conn.execute(sa.select(keys).where(keys.c.id == key_id)).mappings().one())
        return revoked_key() if current.revoked else budget_exceeded(current, micros)
    row = {"job_id": job_id, "key_id": key_id, "micros": micros, "state": "reserved"}
    _RESERVATION.run(conn, {**row, "created_at": now, "updated_at": now})
    return True


def _finish(
    conn: sa.Connection, key_id: str, job_id: str, state: str, at: int, cost: int | None
) -> tuple[str, int] | None:
    """Move the job's reservation out of ``reserved`` (or record the outcome when it had none); the
    (key id, reserved micros) to adjust, or None if the job was already settled or released."""
    moved = conn.execute(
        sa.update(reservations)
        .where(reservations.c.job_id == job_id, reservations.c.state == "reserved")
        .values(state=state, cost_micros=cost, updated_at=at)
        .returning(reservations.c.key_id, reservations.c.micros)
    ).first()
    if moved is not None:
        return str(moved.key_id), int(moved.micros)
    outcome = {
        "job_id": job_id,
        "key_id": key_id,
        "micros": 0,
        "state": state,
        "cost_micros": cost,
        "created_at": at,
        "updated_at": at,
    }
    recorded = conn.execute(
        dialect_insert(conn, reservations)
        .values(outcome)
        .on_conflict_do_nothing(index_elements=[reservations.c.job_id])
        .returning(reservations.c.job_id)
    ).first()
    return (key_id, 0) if recorded is not None else None


def _settle(conn: sa.Connection, entry: SpendEntry) -> bool:
    moved = _finish(conn, entry.key_id, entry.job_id, "settled", entry.created_at, entry.cost_micros)
    if moved is None:
        return False
    key_id, reserved = moved
    _roll(conn, key_id, entry.created_at)
    conn.execute(
        sa.update(keys)
        .where(keys.c.id == key_id)
        .values(
            reserved_micros=keys.c.reserved_micros - reserved,
            spend_micros=keys.c.spend_micros + entry.cost_micros,
            total_spend_micros=keys.c.total_spend_micros + entry.cost_micros,
        )
    )
    conn.execute(spend_logs.insert().values(**entry_to_row(entry)))
    return True


_CHARGED = Prepared(
    sa.select(reservations.c.cost_micros).where(
        reservations.c.job_id == sa.bindparam("b_job"), reservations.c.state == "settled"
    )
)


def _charged(conn: sa.Connection, job_id: str) -> int:
    cost = _CHARGED.run(conn, {"b_job": job_id}).scalar()
    return int(cost or 0)


def _release(conn: sa.Connection, key_id: str, job_id: str, at: int) -> bool:
    moved = _finish(conn, key_id, job_id, "released", at, None)
    if moved is None:
        return False
    owner, reserved = moved
    if reserved:
        conn.execute(
            sa.update(keys)
            .where(keys.c.id == owner)
            .values(reserved_micros=keys.c.reserved_micros - reserved)
        )
    return True


# "No job row" as a scalar subquery with LIMIT, not NOT EXISTS: PostgreSQL turns NOT EXISTS into an
# anti join, and on a mid-sized store chose a merge anti join that read every job id in the primary key
# and sorted the held reservations; a subquery with LIMIT stays a per-row primary-key probe, so the
# plan is the index's walk of held reservations in order, stopping at ``limit`` (both databases).
_JOB_ROW = sa.select(sa.literal(1)).where(jobs.c.id == reservations.c.job_id).limit(1).scalar_subquery()
_STRANDED = (
    sa.select(reservations.c.key_id, reservations.c.job_id)
    .where(
        reservations.c.state == "reserved",
        reservations.c.created_at < sa.bindparam("b_before", type_=sa.BigInteger),
        _JOB_ROW.is_(None),
    )
    .order_by(reservations.c.created_at, reservations.c.job_id)
    .limit(sa.bindparam("b_limit", type_=sa.Integer))
)


def _stranded(conn: sa.Connection, before: int, limit: int) -> list[tuple[str, str]]:
    rows = conn.execute(_STRANDED, {"b_before": before, "b_limit": limit})
    return [(str(row.key_id), str(row.job_id)) for row in rows]


def _total(conn: sa.Connection) -> int:
    return int(
        conn.execute(sa.select(sa.func.coalesce(sa.func.sum(spend_logs.c.cost_micros), 0))).scalar_one()
    )


def _logs(conn: sa.Connection, query: sa.Select[tuple[object, ...]]) -> list[SpendEntry]:
    return [row_to_entry(row) for row in conn.execute(query).mappings()]


class SqlLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def reserve(self, key: KeyRecord, job_id: str, micros: int, *, now: int) -> None:
        await self.try_reserve(key, job_id, micros, now=now)

    async def try_reserve(self, key: KeyRecord, job_id: str, micros: int, *, now: int) -> bool:
        """``reserve``, telling whether this call made the reservation (False: the job had one)."""
        if micros < 0:
            raise ValueError(f"micros must be >= 0, got {micros}")
        try:
            outcome = await self._db.write(_reserve, key.id, job_id, micros, now)
        except IntegrityError:
            return False  # a concurrent reserve for the same job won; ours rolled back entirely
        if isinstance(outcome, APIError):
            raise outcome
        return outcome

    async def settle(self, entry: SpendEntry) -> bool:
        return await self._db.write(_settle, entry)

    async def release(self, key_id: str, job_id: str) -> bool:
        return await self._db.write(_release, key_id, job_id, int(time.time()))

    async def charged(self, job_id: str) -> int:
        return await self._db.read(_charged, job_id)

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
        return await self._db.read(_logs, query)

    async def total_spend(self) -> int:
        """One SUM over the spend log (a scan: /metrics calls it once per scrape)."""
        return await self._db.read(_total)

    async def stranded(self, *, before: int, limit: int) -> list[tuple[str, str]]:
        if limit <= 0:
            return []
        return await self._db.read(_stranded, before, limit)
