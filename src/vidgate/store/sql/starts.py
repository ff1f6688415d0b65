"""A job's admission and write-ahead record in one SQL transaction (``JobStarts``): the key's rate
check, then the reservation, the concurrency slot and the ``submitting`` job row, written together or
not at all (a savepoint), while a counted request stays counted as when the steps run one by one.

Taken one by one they were four write transactions before every provider create, each with its own
round trip (PostgreSQL) or thread hop and commit (SQLite), and a refusal of a later one had to undo
the earlier ones in more transactions. The statements are the ledger's, the admission's and the job
store's own, so the semantics (exact budget, slot limit, unique native id) are theirs.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vidgate.errors import APIError, BudgetExceededError, ConflictError, RateLimitError
from vidgate.gateway.records import JobRecord, KeyRecord
from vidgate.store.sql.admission import _acquire, _check_rate
from vidgate.store.sql.database import Database
from vidgate.store.sql.jobs import _insert
from vidgate.store.sql.ledger import _reserve
from vidgate.store.sql.prepared import savepoint
from vidgate.store.sql.rows import job_to_row
from vidgate.store.sql.stored_rows import StoredRows


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
) -> APIError | None:
    """The refusal to raise once committed (a counted request stays counted), or None."""
    if rpm_limit is not None:
        refusal = _check_rate(conn, key_id, rpm_limit, now)
        if refusal is not None:
            return refusal
    try:
        with savepoint(conn):  # reservation, slot and record: all or none
            outcome = _reserve(conn, key_id, job.id, micros, int(now), fresh=True)
            if isinstance(outcome, BudgetExceededError):
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


class SqlJobStarts:
    def __init__(self, db: Database, rows: StoredRows | None = None) -> None:
        self._db = db
        # The job store's, so its save after the create sends what changed (an empty one is falsy).
        self._rows = StoredRows() if rows is None else rows

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
        try:
            refusal = await self._db.write(
                _admit_and_insert, key.id, job, row, micros, rpm_limit, slot_limit, now
            )
        except IntegrityError:
            raise ConflictError(
                f"Job '{job.id}' (or native id '{job.native_id}' on deployment '{job.deployment_id}') "
                "already exists."
            ) from None
        if refusal is not None:
            raise refusal
        self._rows.remember(row)
