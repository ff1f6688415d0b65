"""A job's admission and write-ahead record in one SQL transaction (``JobStarts``): the reservation, the
concurrency slot and the ``submitting`` job row, written together or not at all.

Taken one by one they were three write transactions before every provider create, each with its own
round trip (PostgreSQL) or thread hop and commit (SQLite), and a refusal of a later one had to undo
the earlier ones in more transactions. The statements are the ledger's, the admission's and the job
store's own, so the semantics (exact budget, slot limit, unique native id) are theirs.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vidgate.errors import BudgetExceededError, ConflictError
from vidgate.gateway.records import JobRecord, KeyRecord
from vidgate.store.sql.admission import _acquire
from vidgate.store.sql.database import Database
from vidgate.store.sql.jobs import _insert
from vidgate.store.sql.ledger import _reserve


def _admit_and_insert(
    conn: sa.Connection, key_id: str, job: JobRecord, micros: int, slot_limit: int | None, now: int
) -> None:
    refusal = _reserve(conn, key_id, job.id, micros, now)
    if isinstance(refusal, BudgetExceededError):
        raise refusal  # nothing of this start stays written
    if slot_limit is not None:
        _acquire(conn, key_id, job.id, slot_limit)
    _insert(conn, job)


class SqlJobStarts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def admit_and_insert(
        self, key: KeyRecord, job: JobRecord, micros: int, *, slot_limit: int | None, now: int
    ) -> None:
        if micros < 0:
            raise ValueError(f"micros must be >= 0, got {micros}")
        try:
            await self._db.write(_admit_and_insert, key.id, job, micros, slot_limit, now)
        except IntegrityError:
            raise ConflictError(
                f"Job '{job.id}' (or native id '{job.native_id}' on deployment '{job.deployment_id}') "
                "already exists."
            ) from None
