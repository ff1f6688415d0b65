"""Jobs in SQL: optimistic saves by version, and leased claims for the pollers.

``claim_due`` is one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``: on
PostgreSQL concurrent claimers skip each other's rows instead of waiting or double-claiming; on SQLite
the statement runs under the database's single write lock, which makes it atomic the same way.
Taking or releasing a lease bumps ``version`` (it is a write), so a stale copy cannot overwrite it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from vidgate.errors import ConflictError
from vidgate.gateway.ports import MAX_SUBMITTING
from vidgate.gateway.records import SUMMARY_FIELDS, JobRecord, JobSummary
from vidgate.store.sql.database import Database
from vidgate.store.sql.prepared import Prepared
from vidgate.store.sql.rows import job_to_row, jobs_from, row_to_job
from vidgate.store.sql.stored_rows import StoredRows
from vidgate.store.sql.tables import jobs

# The hot statements are built once with bind parameters and executed with a dict of values: building
# them per call (``.values(**row)`` makes a BindParameter per column, then a cache key over all of them)
# cost more CPU than SQLite spent running them.
# ``Prepared`` runs them on SQLite's driver directly.
_BY_ID = Prepared(sa.select(jobs).where(jobs.c.id == sa.bindparam("job_id")))
_BY_NATIVE = Prepared(
    sa.select(jobs).where(
        jobs.c.deployment_id == sa.bindparam("deployment_id"), jobs.c.native_id == sa.bindparam("native_id")
    )
)
# ``pending`` first: ``ix_jobs_claim``'s prefix (a write-ahead record is always pending).
_SUBMITTING_ON = Prepared(
    sa.select(jobs)
    .where(jobs.c.pending, jobs.c.submitting, jobs.c.deployment_id == sa.bindparam("deployment_id"))
    .order_by(jobs.c.created_at, jobs.c.id)
    .limit(MAX_SUBMITTING)
)
_INSERT = Prepared(jobs.insert())
# SET comes from the parameters' column names; the WHERE names are not columns.
_SAVE = Prepared(
    sa.update(jobs)
    .where(jobs.c.id == sa.bindparam("b_id"), jobs.c.version == sa.bindparam("b_version"))
    .returning(jobs.c.version)
)


def _listing(owned: bool, cursor: bool, order: Literal["asc", "desc"]) -> sa.Select[tuple[object, ...]]:
    """A page of one owner's (``ix_jobs_owner_listing``) or every owner's (``ix_jobs_listing``) live
    jobs by (created_at, id), after the cursor job's position when there is one, as ``JobSummary``
    columns. The cursor may be deleted (it still marks a position); when it is not the owner's, its
    position is NULL: no rows."""
    position = sa.tuple_(jobs.c.created_at, jobs.c.id)
    mine = jobs.c.owner_key_id == sa.bindparam("b_owner", type_=sa.String) if owned else sa.true()
    query = sa.select(*(jobs.c[name] for name in SUMMARY_FIELDS)).where(mine, sa.not_(jobs.c.deleted))
    if cursor:
        after = sa.bindparam("b_after", type_=sa.String)
        cursor_time = sa.select(jobs.c.created_at).where(jobs.c.id == after, mine).scalar_subquery()
        mark = sa.tuple_(cursor_time, after)
        query = query.where(position > mark if order == "asc" else position < mark)
    if order == "asc":
        query = query.order_by(jobs.c.created_at, jobs.c.id)
    else:
        query = query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
    return query.limit(sa.bindparam("b_limit", type_=sa.Integer))


# Built once (see above): the listing's eight shapes, by (one owner, after a cursor, order).
_LISTINGS = {
    (owned, cursor, order): Prepared(_listing(owned, cursor, order))
    for owned in (True, False)
    for cursor in (True, False)
    for order in ("asc", "desc")
}


def _lease_free(now: float | sa.BindParameter[float]) -> sa.ColumnElement[bool]:
    return sa.or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at <= now)


_LEASE = sa.bindparam("b_now", type_=sa.Double)
_TRY_LEASE = Prepared(
    sa.update(jobs)
    .where(
        jobs.c.id == sa.bindparam("b_id"),
        sa.or_(_lease_free(_LEASE), jobs.c.lease_owner == sa.bindparam("b_owner")),
    )
    .values(
        lease_owner=sa.bindparam("b_owner"),
        lease_expires_at=sa.bindparam("b_until", type_=sa.Double),
        version=jobs.c.version + 1,
    )
    .returning(*jobs.c)
)
_RELEASE_LEASE = (
    sa.update(jobs)
    .where(jobs.c.id == sa.bindparam("b_id"), jobs.c.lease_owner == sa.bindparam("b_owner"))
    .values(lease_owner=None, lease_expires_at=None, version=jobs.c.version + 1)
)


def _insert(conn: sa.Connection, row: dict[str, Any]) -> None:
    _INSERT.run(conn, row)


def _first(conn: sa.Connection, query: Prepared, params: dict[str, str]) -> JobRecord | None:
    found = query.run(conn, params)
    return jobs_from(found.keys, found.rows[:1])[0] if found.rows else None


def _page(conn: sa.Connection, query: Prepared, params: dict[str, object]) -> list[JobRecord]:
    found = query.run(conn, params)
    return jobs_from(found.keys, found.rows)


def _summaries(conn: sa.Connection, query: Prepared, params: dict[str, object]) -> list[JobSummary]:
    return [JobSummary(*row) for row in query.run(conn, params).rows]  # its columns, in its order


def _save(conn: sa.Connection, params: dict[str, Any]) -> bool:
    return _SAVE.run(conn, params).first() is not None


def _save_all(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[bool]:
    return [_SAVE.run(conn, row).first() is not None for row in rows]


def _leased(conn: sa.Connection, stmt: sa.Update) -> list[JobRecord]:
    return [row_to_job(row) for row in conn.execute(stmt.returning(*jobs.c)).mappings()]


def _try_lease(conn: sa.Connection, params: dict[str, object]) -> JobRecord | None:
    found = _TRY_LEASE.run(conn, params)
    return jobs_from(found.keys, found.rows[:1])[0] if found.rows else None


def _run(conn: sa.Connection, stmt: sa.Executable, params: dict[str, object]) -> None:
    conn.execute(stmt, params)


# Every /metrics scrape runs this: ``ix_jobs_deleted_status`` answers it from the index alone.
COUNT_BY_STATUS = (
    sa.select(jobs.c.status, sa.func.count()).where(sa.not_(jobs.c.deleted)).group_by(jobs.c.status)
)


def _count_by_status(conn: sa.Connection) -> dict[str, int]:
    return {str(status): int(count) for status, count in conn.execute(COUNT_BY_STATUS)}


class SqlJobStore:
    def __init__(self, db: Database, rows: StoredRows | None = None) -> None:
        self._db = db
        # Shared with ``SqlJobStarts``, which inserts jobs too. Not ``rows or ...``: an empty one is falsy.
        self.rows = StoredRows() if rows is None else rows

    async def insert(self, job: JobRecord) -> None:
        row = job_to_row(job)
        try:
            await self._db.write(_insert, row)
        except IntegrityError:
            raise ConflictError(
                f"Job '{job.id}' (or native id '{job.native_id}' on deployment '{job.deployment_id}') "
                "already exists."
            ) from None
        self.rows.remember(row)

    def _save_params(self, job: JobRecord, row: dict[str, Any]) -> dict[str, Any]:
        """The UPDATE's values for saving ``job`` as ``row``: the columns that changed since the version
        it was read at (``StoredRows``), the next version, and the WHERE's id and version."""
        values = {name: value for name, value in row.items() if name != "id"}
        values["version"] = job.version + 1
        params = self.rows.changes(job.id, job.version, values)
        params["b_id"], params["b_version"] = job.id, job.version
        return params

    def _saved(self, job: JobRecord, row: dict[str, Any], saved: bool) -> None:
        if saved:
            job.version += 1
            row["version"] = job.version
            self.rows.remember(row)
        else:
            self.rows.forget(job.id)

    def _remember(self, records: Sequence[JobRecord]) -> None:
        for job in records:
            self.rows.remember(job_to_row(job))

    async def get(self, job_id: str) -> JobRecord | None:
        return await self._db.read_small(_first, _BY_ID, {"job_id": job_id})

    async def list_for_owner(
        self, owner_key_id: str | None, *, after: str | None, limit: int, order: Literal["asc", "desc"]
    ) -> tuple[list[JobSummary], bool]:
        query = _LISTINGS[(owner_key_id is not None, after is not None, order)]
        size = max(limit, 0)
        params: dict[str, object] = {"b_owner": owner_key_id, "b_after": after, "b_limit": size + 1}
        rows = await self._db.read_small(_summaries, query, params)
        return rows[:size], len(rows) > size

    async def save(self, job: JobRecord) -> bool:
        row = job_to_row(job)
        try:
            saved = await self._db.write_one(_save, self._save_params(job, row))
        except IntegrityError:
            self.rows.forget(job.id)
            raise ConflictError(
                f"Deployment '{job.deployment_id}' already has a job for '{job.native_id}'."
            ) from None
        self._saved(job, row, saved)
        return saved

    async def save_many(self, jobs: Sequence[JobRecord]) -> list[bool]:
        """One transaction of version-checked UPDATEs, in job id order (concurrent groups on PostgreSQL
        take their row locks in one order, so two replicas' groups cannot deadlock); the outcomes in the
        callers' order. Jobs of one id keep their order, so a second save of a version loses as it would
        alone."""
        if not jobs:
            return []
        order = sorted(range(len(jobs)), key=lambda i: jobs[i].id)
        rows = [job_to_row(job) for job in jobs]
        outcomes = await self._db.write(_save_all, [self._save_params(jobs[i], rows[i]) for i in order])
        saved = [False] * len(jobs)
        for i, ok in zip(order, outcomes, strict=True):
            saved[i] = ok
        for job, row, ok in zip(jobs, rows, saved, strict=True):
            self._saved(job, row, ok)
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
        claimed = await self._db.write_one(_leased, stmt)
        claimed.sort(key=lambda j: (j.next_poll_at, j.created_at, j.id))
        self._remember(claimed)
        return claimed

    async def try_lease(
        self, job_id: str, worker_id: str, *, now: float, lease_seconds: float
    ) -> JobRecord | None:
        params = {"b_id": job_id, "b_owner": worker_id, "b_now": now, "b_until": now + lease_seconds}
        leased = await self._db.write_one(_try_lease, params)
        if leased is not None:
            self._remember([leased])
        return leased

    async def release_lease(self, job_id: str, worker_id: str) -> None:
        await self._db.write_one(_run, _RELEASE_LEASE, {"b_id": job_id, "b_owner": worker_id})

    async def find_by_native(self, deployment_id: str, native_id: str) -> JobRecord | None:
        params = {"deployment_id": deployment_id, "native_id": native_id}
        return await self._db.read_small(_first, _BY_NATIVE, params)

    async def submitting_on(self, deployment_id: str) -> list[JobRecord]:
        return await self._db.read(_page, _SUBMITTING_ON, {"deployment_id": deployment_id})

    async def count_by_status(self) -> dict[str, int]:
        return await self._db.read(_count_by_status)
