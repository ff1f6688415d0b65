"""Jobs in SQL: optimistic saves by version, and leased claims for the pollers.

``claim_due`` is one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``: on
PostgreSQL concurrent claimers skip each other's rows instead of waiting or double-claiming; on SQLite
the statement runs under the database's single write lock, which makes it atomic the same way.
Taking or releasing a lease bumps ``version`` (it is a write), so a stale copy cannot overwrite it.
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vidgate.errors import ConflictError
from vidgate.gateway.records import JobRecord
from vidgate.store.sql.database import Database
from vidgate.store.sql.rows import job_to_row, row_to_job
from vidgate.store.sql.tables import jobs

_BY_ID = sa.select(jobs).where(jobs.c.id == sa.bindparam("job_id"))
_BY_NATIVE = sa.select(jobs).where(
    jobs.c.deployment_id == sa.bindparam("deployment_id"), jobs.c.native_id == sa.bindparam("native_id")
)


def _lease_free(now: float) -> sa.ColumnElement[bool]:
    return sa.or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at <= now)


def _insert(conn: sa.Connection, job: JobRecord) -> None:
    conn.execute(jobs.insert().values(**job_to_row(job)))


def _first(
    conn: sa.Connection, query: sa.Select[tuple[object, ...]], params: dict[str, str]
) -> JobRecord | None:
    row = conn.execute(query, params).mappings().first()
    return row_to_job(row) if row is not None else None


def _page(conn: sa.Connection, query: sa.Select[tuple[object, ...]]) -> list[JobRecord]:
    return [row_to_job(row) for row in conn.execute(query).mappings()]


def _save(conn: sa.Connection, job: JobRecord) -> bool:
    row = job_to_row(job)
    row.pop("id")
    row["version"] = job.version + 1
    stmt = sa.update(jobs).where(jobs.c.id == job.id, jobs.c.version == job.version).values(row)
    return conn.execute(stmt.returning(jobs.c.version)).first() is not None


def _leased(conn: sa.Connection, stmt: sa.Update) -> list[JobRecord]:
    return [row_to_job(row) for row in conn.execute(stmt.returning(*jobs.c)).mappings()]


# Every /metrics scrape runs this: ``ix_jobs_deleted_status`` answers it from the index alone.
COUNT_BY_STATUS = (
    sa.select(jobs.c.status, sa.func.count()).where(sa.not_(jobs.c.deleted)).group_by(jobs.c.status)
)


def _count_by_status(conn: sa.Connection) -> dict[str, int]:
    return {str(status): int(count) for status, count in conn.execute(COUNT_BY_STATUS)}


def _execute(conn: sa.Connection, stmt: sa.Update) -> None:
    conn.execute(stmt)


class SqlJobStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, job: JobRecord) -> None:
        try:
            await self._db.write(_insert, job)
        except IntegrityError:
            raise ConflictError(
                f"Job '{job.id}' (or native id '{job.native_id}' on deployment '{job.deployment_id}') "
                "already exists."
            ) from None

    async def get(self, job_id: str) -> JobRecord | None:
        return await self._db.read(_first, _BY_ID, {"job_id": job_id})

    async def list_for_owner(
        self, owner_key_id: str, *, after: str | None, limit: int, order: Literal["asc", "desc"]
    ) -> tuple[list[JobRecord], bool]:
        position = sa.tuple_(jobs.c.created_at, jobs.c.id)
        query = sa.select(jobs).where(jobs.c.owner_key_id == owner_key_id, sa.not_(jobs.c.deleted))
        if after is not None:
            # The cursor may be deleted (it still marks a position); not the owner's -> NULL -> no rows.
            cursor_time = (
                sa.select(jobs.c.created_at)
                .where(jobs.c.id == after, jobs.c.owner_key_id == owner_key_id)
                .scalar_subquery()
            )
            mark = sa.tuple_(cursor_time, sa.literal(after, sa.String))
            query = query.where(position > mark if order == "asc" else position < mark)
        if order == "asc":
            query = query.order_by(jobs.c.created_at, jobs.c.id)
        else:
            query = query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
        size = max(limit, 0)
        rows = await self._db.read(_page, query.limit(size + 1))
        return rows[:size], len(rows) > size

    async def save(self, job: JobRecord) -> bool:
        saved = await self._db.write(_save, job)
        if saved:
            job.version += 1
        return saved

    async def claim_due(
        self, worker_id: str, *, now: float, lease_seconds: float, limit: int
    ) -> list[JobRecord]:
        if limit <= 0:
            return []
        due = (
            sa.select(jobs.c.id)
            .where(jobs.c.pending, jobs.c.next_poll_at <= now, _lease_free(now))
            .order_by(jobs.c.next_poll_at, jobs.c.created_at, jobs.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            sa.update(jobs)
            .where(jobs.c.id.in_(due))
            .values(lease_owner=worker_id, lease_expires_at=now + lease_seconds, version=jobs.c.version + 1)
        )
        claimed = await self._db.write(_leased, stmt)
        claimed.sort(key=lambda j: (j.next_poll_at, j.created_at, j.id))
        return claimed

    async def try_lease(
        self, job_id: str, worker_id: str, *, now: float, lease_seconds: float
    ) -> JobRecord | None:
        stmt = (
            sa.update(jobs)
            .where(jobs.c.id == job_id, sa.or_(_lease_free(now), jobs.c.lease_owner == worker_id))
            .values(lease_owner=worker_id, lease_expires_at=now + lease_seconds, version=jobs.c.version + 1)
        )
        leased = await self._db.write(_leased, stmt)
        return leased[0] if leased else None

    async def release_lease(self, job_id: str, worker_id: str) -> None:
        stmt = (
            sa.update(jobs)
            .where(jobs.c.id == job_id, jobs.c.lease_owner == worker_id)
            .values(lease_owner=None, lease_expires_at=None, version=jobs.c.version + 1)
        )
        await self._db.write(_execute, stmt)

    async def find_by_native(self, deployment_id: str, native_id: str) -> JobRecord | None:
        params = {"deployment_id": deployment_id, "native_id": native_id}
        return await self._db.read(_first, _BY_NATIVE, params)

    async def count_by_status(self) -> dict[str, int]:
        return await self._db.read(_count_by_status)
