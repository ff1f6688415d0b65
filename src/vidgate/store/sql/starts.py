"""A job's admission and write-ahead record in one SQL transaction (``JobStarts``): the key's rate
check, then the reservation, the concurrency slot and the ``submitting`` job row, written together or
not at all (a savepoint), while a counted request stays counted as when the steps run one by one.

Taken one by one they were four write transactions before every provider create, each with its own
round trip (PostgreSQL) or thread hop and commit (SQLite), and a refusal of a later one had to undo
the earlier ones in more transactions. The statements are the ledger's, the admission's and the job
store's own, so the semantics (exact budget, slot limit, unique native id) are theirs.

The common admission (the key's budget period running, the budget fitting, a slot free) takes the
reservation and the slot count in one conditional UPDATE of the key's row, then inserts the
reservation, slot and job rows: nothing after that UPDATE can refuse, so no savepoint is needed. When
the UPDATE matches no row, nothing was written, and the step-by-step path inside a savepoint decides
(rolling the budget period over, or naming the refusal). The reservation, slot and job rows took 7
statements (savepoint, two UPDATEs of the key's row, three inserts, release) and now take 4: 3 fewer
round trips on PostgreSQL.

On PostgreSQL the common case is one statement in autocommit (``start_statement``): one round trip in
all. The transaction runs after it only for what it leaves (a sweep due, a period to roll over, a
refusal to name), and for keys with a rate limit of 0 (refused, and never counted).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vidgate.errors import APIError, ConflictError, RateLimitError
from vidgate.gateway.records import JobRecord, KeyRecord
from vidgate.store.sql import start_statement
from vidgate.store.sql.admission import RateSweeps, _acquire, _check_rate
from vidgate.store.sql.database import Database
from vidgate.store.sql.jobs import _insert
from vidgate.store.sql.ledger import _FITS, _IN_PERIOD, _KEY, _MICROS, _RESERVATION, _TAKE_IN_PERIOD, _reserve
from vidgate.store.sql.prepared import Prepared, savepoint
from vidgate.store.sql.rows import job_to_row
from vidgate.store.sql.stored_rows import StoredRows
from vidgate.store.sql.tables import keys, slots

# The ledger's reserve and the admission's slot count in one statement, on the key's row.
_TAKE_WITH_SLOT = Prepared(
    sa.update(keys)
    .where(
        keys.c.id == _KEY, _IN_PERIOD, _FITS, keys.c.active_jobs < sa.bindparam("b_limit", type_=sa.Integer)
    )
    .values(reserved_micros=keys.c.reserved_micros + _MICROS, active_jobs=keys.c.active_jobs + 1)
    .returning(keys.c.id)
)
_SLOT = Prepared(slots.insert())  # a fresh job's: a conflict fails the whole transaction


class _Refused(Exception):
    def __init__(self, error: APIError) -> None:
        self.error = error


def _admit_and_insert(
    conn: sa.Connection,
    key_id: str,
    job: JobRecord,
    row: dict[str, Any],
    micros: int,
    rpm_limit: int | None,
    slot_limit: int | None,
    now: float,
    sweep: bool,
) -> APIError | None:
    """The refusal to raise once committed (a counted request stays counted), or None. ``sweep``: as
    ``_check_rate``'s."""
    if rpm_limit is not None:
        refusal = _check_rate(conn, key_id, rpm_limit, now, sweep)
        if refusal is not None:
            return refusal
    if _admitted_at_once(conn, key_id, job.id, micros, int(now), slot_limit):
        _insert(conn, row)
        return None
    try:
        with savepoint(conn):  # reservation, slot and record: all or none
            outcome = _reserve(conn, key_id, job.id, micros, int(now), fresh=True)
            if isinstance(outcome, APIError):  # the budget, or the key revoked meanwhile
                raise _Refused(outcome)
            if slot_limit is not None:
                try:
                    _acquire(conn, key_id, job.id, slot_limit)
                except RateLimitError as exc:
                    raise _Refused(exc) from None
            _insert(conn, row)
    except _Refused as refused:
        return refused.error
    return None


def _admitted_at_once(
    conn: sa.Connection, key_id: str, job_id: str, micros: int, now: int, slot_limit: int | None
) -> bool:
    """Reserve ``micros`` and (with a limit) count a slot in one UPDATE of the key's row, then insert the
    reservation and slot rows: True. False, with nothing written, when the row does not match (no such
    row, the budget period ended, the budget or the slots full): the step-by-step path then decides."""
    params = {"b_key": key_id, "b_micros": micros, "b_now": now}
    if slot_limit is None:
        taken = _TAKE_IN_PERIOD.run(conn, params)
    else:
        taken = _TAKE_WITH_SLOT.run(conn, {**params, "b_limit": slot_limit})
    if taken.first() is None:
        return False
    held = {"job_id": job_id, "key_id": key_id, "micros": micros, "state": "reserved"}
    _RESERVATION.run(conn, {**held, "created_at": now, "updated_at": now})
    if slot_limit is not None:
        _SLOT.run(conn, {"job_id": job_id, "key_id": key_id, "acquired_at": now})
    return True


class SqlJobStarts:
    def __init__(self, db: Database, rows: StoredRows | None = None) -> None:
        self._db = db
        # The job store's, so its save after the create sends what changed (an empty one is falsy).
        self._rows = StoredRows() if rows is None else rows
        self._sweeps = RateSweeps()

    async def admit_and_insert(
        self,
        key: KeyRecord,
        job: JobRecord,
        micros: int,
        *,
        rpm_limit: int | None,
        slot_limit: int | None,
        now: float,
    ) -> None:
        if micros < 0:
            raise ValueError(f"micros must be >= 0, got {micros}")
        row = job_to_row(job)
        sweep = rpm_limit is not None and self._sweeps.due(key.id, now)
        try:
            if not self._db.is_sqlite and not sweep and rpm_limit != 0:  # PostgreSQL: data-modifying CTEs
                started = await self._db.write_one(
                    start_statement.run, key.id, row, micros, now, uuid.uuid4().hex, rpm_limit, slot_limit
                )
                if started.admitted:
                    self._rows.remember(row)
                    return
                if started.counted:  # counted and committed: the transaction does the rest
                    rpm_limit = None
            refusal = await self._db.write(
                _admit_and_insert, key.id, job, row, micros, rpm_limit, slot_limit, now, sweep
            )
        except IntegrityError:
            raise ConflictError(
                f"Job '{job.id}' (or native id '{job.native_id}' on deployment '{job.deployment_id}') "
                "already exists."
            ) from None
        if refusal is not None:
            raise refusal
        self._rows.remember(row)
