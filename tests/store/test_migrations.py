"""The packaged Alembic migrations: empty -> head on SQLite and PostgreSQL, the result equals the
models (autogenerate finds nothing to do), and concurrent upgrades (replicas starting together) work."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from tests.store.factories import make_job

import vidgate
from vidgate.gateway.records import JobRecord, OwedCancel
from vidgate.store.sql import Database, current_revision, downgrade, head_revision, upgrade
from vidgate.store.sql.jobs import COUNT_BY_STATUS
from vidgate.store.sql.migrate import MIGRATIONS_DIR
from vidgate.store.sql.rows import job_to_row, row_to_job
from vidgate.store.sql.tables import (
    jobs,
    metadata,
    owed_cancels,
    rate_counts,
    rate_hits,
    reservations,
    slots,
)


def _diff(connection: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def _tables(connection: sa.Connection) -> list[str]:
    return sa.inspect(connection).get_table_names()


async def _check_upgrade_from_empty(url: str) -> None:
    db = Database(url)
    try:
        assert await current_revision(db) is None
        await upgrade(db)
        assert await current_revision(db) == head_revision()
        assert await db.read(_diff) == []
        tables = set(await db.read(_tables))
        assert tables == {t.name for t in metadata.sorted_tables} | {"alembic_version"}
        await upgrade(db)  # already at head: nothing to do
        await downgrade(db, "base")
        assert await current_revision(db) is None
        assert await db.read(_tables) == ["alembic_version"]
        await upgrade(db)
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


async def _check_concurrent_upgrades(url: str) -> None:
    dbs = [Database(url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(db) for db in dbs))
        assert {await current_revision(db) for db in dbs} == {head_revision()}
    finally:
        for db in dbs:
            await db.dispose()


async def test_sqlite_upgrade_from_empty_matches_models(tmp_path: Path) -> None:
    await _check_upgrade_from_empty(f"sqlite:///{tmp_path / 'fresh.db'}")


async def test_sqlite_concurrent_upgrades(tmp_path: Path) -> None:
    await _check_concurrent_upgrades(f"sqlite:///{tmp_path / 'fresh.db'}")


@pytest.mark.postgres
async def test_postgres_upgrade_from_empty_matches_models(fresh_pg_url: str) -> None:
    await _check_upgrade_from_empty(fresh_pg_url)


@pytest.mark.postgres
async def test_postgres_concurrent_upgrades(fresh_pg_url: str) -> None:
    await _check_concurrent_upgrades(fresh_pg_url)


def test_migrations_ship_inside_the_package() -> None:
    assert vidgate.__file__ is not None
    assert MIGRATIONS_DIR.is_relative_to(Path(vidgate.__file__).parent)
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("v*.py"))[0] == "v0001_initial.py"


def _insert_v0001_job(connection: sa.Connection) -> None:
    row = job_to_row(make_job("video_old", status="completed", cost_micros=5))
    added_later = ("videos_generated", "webhook_pending", "webhook_failures", "submitting")  # 0002, 0004
    for added in (*added_later, "token_bound", "token_micros", "output_tokens", "callback_url"):  # 0005, 0008
        row.pop(added)
    for added in ("trace_parent", "upstream_polls"):  # 0010
        row.pop(added)
    for added in ("task", "source_video_id", "outputs"):  # 0011
        row.pop(added)
    row.pop("provider_callback_hash")  # 0009
    connection.execute(jobs.insert().values(**row))  # only the columns 0001 has
    for n, key in enumerate(("key_a", "key_a", "key_b")):
        connection.execute(rate_hits.insert().values(id=f"hit{n}", key_id=key, at=1000.0 + n))


def _rate_counts(connection: sa.Connection) -> dict[str, int]:
    return {
        str(k): int(n) for k, n in connection.execute(sa.select(rate_counts.c.key_id, rate_counts.c.hits))
    }


def _jobs(connection: sa.Connection) -> list[JobRecord]:
    return [row_to_job(row) for row in connection.execute(sa.select(jobs)).mappings()]


async def _check_upgrade_keeps_jobs(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db, "0001")
        await db.write(_insert_v0001_job)
        await upgrade(db)
        assert await current_revision(db) == head_revision() == "0018"  # 0008, 0010, 0009, 0011-0018
        assert await db.read(_rate_counts) == {"key_a": 2, "key_b": 1}  # 0006 counts the stored hits
        [job] = await db.read(_jobs)
        assert (job.id, job.status, job.cost_micros) == ("video_old", "completed", 5)
        assert (job.videos_generated, job.webhook_pending, job.webhook_failures) == (None, False, 0)
        assert job.submitting is False
        assert (job.token_bound, job.token_micros, job.output_tokens) == (0, 0, None)
        assert job.callback_url is None  # 0008: jobs made before it have no per-job webhook
        assert (job.trace_parent, job.upstream_polls) == (None, 0)  # 0010
        assert job.provider_callback_hash is None  # 0009
        assert (job.task, job.source_video_id, job.outputs) == ("generate", None, ())  # 0011
        assert await db.read(_owed) == []  # 0016, 0018: jobs made before them owe no cancel
        await downgrade(db, "0001")
        assert await current_revision(db) == "0001"
    finally:
        await db.dispose()


def _owed(connection: sa.Connection) -> list[OwedCancel]:
    rows = connection.execute(sa.select(owed_cancels).order_by(owed_cancels.c.native_id)).mappings()
    return [OwedCancel(**row) for row in rows]


def _insert_v0017_jobs(connection: sa.Connection) -> None:
    """Failed records of creates answered late, owing their cancel on the jobs row (0016), and one not."""
    owing: dict[str, Any] = {"status": "failed", "cost_micros": 0, "error_code": "upstream_outcome_unknown"}
    for job in (
        make_job("video_owes", native_id="task-1", poll_failures=3, next_poll_at=1234.5, **owing),
        make_job("video_owes_event", native_id="task-2", webhook_pending=True, next_poll_at=99.0, **owing),
        make_job("video_done", native_id="task-3", status="failed", cost_micros=0),
    ):
        connection.execute(jobs.insert().values(**job_to_row(job)))
    connection.execute(
        sa.text("UPDATE jobs SET cancel_pending = :owed, pending = :owed WHERE id LIKE 'video_owes%'"),
        {"owed": True},
    )


def _cancel_columns(connection: sa.Connection) -> list[tuple[Any, ...]]:
    found = connection.execute(
        sa.text("SELECT id, cancel_pending, pending, poll_failures, next_poll_at FROM jobs ORDER BY id")
    )
    return [(row[0], bool(row[1]), bool(row[2]), row[3], row[4]) for row in found]


def _pending(connection: sa.Connection) -> dict[str, bool]:
    return {str(i): bool(p) for i, p in connection.execute(sa.select(jobs.c.id, jobs.c.pending))}


async def _check_0018_moves_owed_cancels(url: str) -> None:
    """0018 moves each cancel owed on a jobs row into ``owed_cancels`` (tries and due time kept) and
    drops the column; the downgrade puts it back on the jobs that hold an owed native id."""
    db = Database(url)
    try:
        await upgrade(db, "0017")
        await db.write(_insert_v0017_jobs)
        await upgrade(db, "0018")
        assert await db.read(_owed) == [
            OwedCancel("d1", "task-1", "video_owes", "local", created_at=100, next_try_at=1234.5, tries=3),
            OwedCancel("d1", "task-2", "video_owes_event", "local", created_at=100, next_try_at=99.0),
        ]
        # No longer the jobs' work: only the webhook event keeps its job in the poller's queue.
        assert await db.read(_pending) == {"video_done": False, "video_owes": False, "video_owes_event": True}
        await downgrade(db, "0017")
        assert await db.read(_cancel_columns) == [
            ("video_done", False, False, 0, 0.0),
            ("video_owes", True, True, 3, 1234.5),
            ("video_owes_event", True, True, 0, 99.0),
        ]
    finally:
        await db.dispose()


async def test_sqlite_0018_moves_owed_cancels(tmp_path: Path) -> None:
    await _check_0018_moves_owed_cancels(f"sqlite:///{tmp_path / 'owed.db'}")


@pytest.mark.postgres
async def test_postgres_0018_moves_owed_cancels(fresh_pg_url: str) -> None:
    await _check_0018_moves_owed_cancels(fresh_pg_url)


def _plan(connection: sa.Connection) -> str:
    compiled = COUNT_BY_STATUS.compile(connection, compile_kwargs={"literal_binds": True})
    if connection.dialect.name == "sqlite":
        return " ".join(str(r[-1]) for r in connection.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
    connection.execute(sa.text("SET LOCAL enable_seqscan = off"))  # tiny tables: force the planner's hand
    # ... to the index it can answer from alone: a bitmap scan of the listing index (deleted, created_at,
    # id; 0013) costs as little on an empty table, but must read every row for its status.
    connection.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
    return " ".join(str(r[0]) for r in connection.execute(sa.text(f"EXPLAIN {compiled}")))


async def _check_count_by_status_uses_the_index(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        plan = await db.write(_plan)
    finally:
        await db.dispose()
    if url.startswith("sqlite"):
        assert "COVERING INDEX ix_jobs_deleted_status" in plan, plan
    else:  # an index-only scan (reading the heap only until autovacuum marks pages all-visible)
        assert "ix_jobs_deleted_status" in plan, plan
        assert "Index Cond: (deleted = false)" in plan, plan


async def test_sqlite_upgrade_from_0001_keeps_jobs(tmp_path: Path) -> None:
    await _check_upgrade_keeps_jobs(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
async def test_postgres_upgrade_from_0001_keeps_jobs(fresh_pg_url: str) -> None:
    await _check_upgrade_keeps_jobs(fresh_pg_url)


async def test_sqlite_count_by_status_is_an_index_only_read(tmp_path: Path) -> None:
    await _check_count_by_status_uses_the_index(f"sqlite:///{tmp_path / 'plan.db'}")


@pytest.mark.postgres
async def test_postgres_count_by_status_is_an_index_only_read(fresh_pg_url: str) -> None:
    await _check_count_by_status_uses_the_index(fresh_pg_url)


def _admission_rows(connection: sa.Connection) -> list[list[tuple[Any, ...]]]:
    return [
        sorted(tuple(row) for row in connection.execute(sa.select(table)))
        for table in (rate_hits, slots, reservations)
    ]


def _insert_admission_rows(connection: sa.Connection) -> None:
    for n, key in enumerate(("key_a", "key_a", "key_b")):
        connection.execute(rate_hits.insert().values(id=f"hit{n}", key_id=key, at=1000.0 + n))
        connection.execute(slots.insert().values(job_id=f"video_{n}", key_id=key, acquired_at=1000 + n))
        connection.execute(
            reservations.insert().values(
                job_id=f"video_{n}",
                key_id=key,
                micros=100 * n,
                state="reserved",
                cost_micros=None,
                created_at=1000 + n,
                updated_at=1000 + n,
            )
        )


def _without_rowid(connection: sa.Connection) -> dict[str, bool]:
    found = connection.execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE name IN ('rate_hits', 'slots', 'reservations')")
    )
    rowid = {str(name): "WITHOUT ROWID" in str(sql) for name, sql in found}
    assert set(rowid) == {"rate_hits", "slots", "reservations"}
    return rowid


async def _check_0014_keeps_admission_rows(url: str) -> None:
    """0014 rebuilds the admission tables (SQLite) or re-keys them (PostgreSQL): every held hit, slot and
    reservation survives the upgrade and the downgrade."""
    db = Database(url)
    try:
        await upgrade(db, "0013")
        await db.write(_insert_admission_rows)
        before = await db.read_snapshot(_admission_rows)
        await upgrade(db, "0014")
        assert await db.read_snapshot(_admission_rows) == before
        if url.startswith("sqlite"):
            assert set((await db.read(_without_rowid)).values()) == {True}
        await downgrade(db, "0013")
        assert await db.read_snapshot(_admission_rows) == before
        if url.startswith("sqlite"):
            assert set((await db.read(_without_rowid)).values()) == {False}
    finally:
        await db.dispose()


async def test_sqlite_0014_keeps_admission_rows(tmp_path: Path) -> None:
    await _check_0014_keeps_admission_rows(f"sqlite:///{tmp_path / 'admission.db'}")


@pytest.mark.postgres
async def test_postgres_0014_keeps_admission_rows(fresh_pg_url: str) -> None:
    await _check_0014_keeps_admission_rows(fresh_pg_url)
