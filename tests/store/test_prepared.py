"""Prepared statements answer exactly what ``Connection.execute`` answers (types, fixed values, errors),
on SQLite through the driver directly and on PostgreSQL as driver SQL; savepoints undo a failed
block and keep a finished one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from tests.store.factories import make_job

from vidgate.store.factory import open_stores
from vidgate.store.sql.database import Database
from vidgate.store.sql.prepared import Prepared, savepoint
from vidgate.store.sql.rows import job_to_row
from vidgate.store.sql.tables import jobs, rate_counts

_BY_ID = Prepared(sa.select(jobs).where(jobs.c.id == sa.bindparam("b_id")))
_INSERT = Prepared(jobs.insert())
_DELETE = Prepared(sa.delete(jobs).where(jobs.c.owner_key_id == sa.bindparam("b_owner")))
_COUNT = {  # a value fixed in the statement (hits=1) and a bind used twice
    name: Prepared(
        insert(rate_counts)
        .values(key_id=sa.bindparam("b_key"), hits=1)
        .on_conflict_do_update(index_elements=[rate_counts.c.key_id], set_={"hits": rate_counts.c.hits + 1})
        .returning(rate_counts.c.hits)
    )
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'prepared.db'}"
    else:
        databases = request.getfixturevalue("pg_databases")
        url = await databases.create(request.getfixturevalue("postgres_url"))
    stores = await open_stores(url, None, tmp_path / "content")
    try:
        yield stores.db
    finally:
        await stores.close()


def _job_row(job_id: str, **changes: Any) -> dict[str, Any]:
    job = make_job(job_id, **changes)
    job.native_payload = {"name": "operations/1", "done": True, "nested": [1, {"a": None}]}
    job.outputs = ("video_1", "video_2")
    return job_to_row(job)


async def test_rows_read_back_as_connection_execute_reads_them(db: Database) -> None:
    row = _job_row("video_p1", content_stored=True, lease_expires_at=12.5)
    await db.write(lambda conn: _INSERT.run(conn, row))

    def both(conn: sa.Connection) -> tuple[dict[str, Any], dict[str, Any]]:
        found = _BY_ID.run(conn, {"b_id": "video_p1"})
        prepared = dict(zip(found.keys, found.rows[0], strict=True))
        core = conn.execute(_BY_ID.stmt, {"b_id": "video_p1"}).mappings().one()
        return prepared, dict(core)

    prepared, core = await db.read(both)
    assert prepared == core
    assert prepared["native_payload"] == {"name": "operations/1", "done": True, "nested": [1, {"a": None}]}
    assert prepared["outputs"] == ["video_1", "video_2"]
    assert prepared["content_stored"] is True
    assert prepared["deleted"] is False
    assert prepared["lease_expires_at"] == 12.5


async def test_a_value_fixed_in_the_statement_is_sent(db: Database) -> None:
    def count(conn: sa.Connection) -> Any:
        return _COUNT[conn.dialect.name].run(conn, {"b_key": "k1"}).scalar()

    assert [await db.write(count) for _ in range(3)] == [1, 2, 3]


_MARK = Prepared(  # values fixed in the statement before and between the caller's, two of them converted
    sa.update(jobs)
    .where(jobs.c.id == sa.bindparam("b_id"))
    .values(
        status="failed",
        progress=7,
        native_payload=sa.bindparam("b_payload", type_=sa.JSON),
        deleted=sa.bindparam("b_deleted", type_=sa.Boolean),
    )
)


async def test_fixed_and_converted_values_land_in_their_places(db: Database) -> None:
    await db.write(lambda conn: _INSERT.run(conn, _job_row("video_m1")))
    params = {"b_id": "video_m1", "b_payload": {"n": [1, None]}, "b_deleted": True}
    marked = await db.write(lambda conn: _MARK.run(conn, params))
    assert marked.rowcount == 1
    found = await db.read(lambda conn: _BY_ID.run(conn, {"b_id": "video_m1"}))
    row = dict(zip(found.keys, found.rows[0], strict=True))
    assert (row["status"], row["progress"], row["native_payload"], row["deleted"]) == (
        "failed",
        7,
        {"n": [1, None]},
        True,
    )


async def test_rowcount_and_empty_results(db: Database) -> None:
    def insert(conn: sa.Connection, n: int) -> None:
        _INSERT.run(conn, _job_row(f"video_r{n}", owner="gone"))

    for n in range(3):
        await db.write(insert, n)
    deleted = await db.write(lambda conn: _DELETE.run(conn, {"b_owner": "gone"}))
    assert deleted.rowcount == 3
    assert deleted.first() is None
    assert deleted.scalar() is None
    assert deleted.rows == []
    missing = await db.read(lambda conn: _BY_ID.run(conn, {"b_id": "video_r0"}))
    assert missing.first() is None


async def test_a_missing_parameter_is_refused(db: Database) -> None:
    with pytest.raises(sa.exc.StatementError, match="b_id"):
        await db.read(lambda conn: _BY_ID.run(conn, {}))


async def test_driver_errors_arrive_as_sqlalchemy_errors(db: Database) -> None:
    row = _job_row("video_dup")
    await db.write(lambda conn: _INSERT.run(conn, row))
    with pytest.raises(sa.exc.IntegrityError):
        await db.write(lambda conn: _INSERT.run(conn, row))


async def test_a_savepoint_undoes_a_failed_block_and_keeps_the_rest(db: Database) -> None:
    def refused(conn: sa.Connection) -> None:
        with savepoint(conn):
            _INSERT.run(conn, _job_row("video_undone"))
            with savepoint(conn):
                _INSERT.run(conn, _job_row("video_inner"))
            raise ValueError("refused")

    def run(conn: sa.Connection) -> None:
        _INSERT.run(conn, _job_row("video_kept"))
        with pytest.raises(ValueError, match="refused"):
            refused(conn)
        with savepoint(conn):
            _INSERT.run(conn, _job_row("video_released"))

    await db.write(run)
    ids = await db.read(lambda conn: sorted(r[0] for r in conn.execute(sa.select(jobs.c.id))))
    assert ids == ["video_kept", "video_released"]


async def test_sqlite_runs_on_the_driver_unless_something_listens(tmp_path: Path) -> None:
    """Without listeners ``Connection.execute`` is not used; a listener (a statement capture such as the
    query plan tests') sees every prepared statement."""
    db = Database(f"sqlite:///{tmp_path / 'driver.db'}")
    try:
        await db.write(lambda conn: jobs.create(conn))
        seen: list[str] = []
        original = sa.Connection.execute

        def refuse(self: sa.Connection, *args: Any, **kwargs: Any) -> Any:
            seen.append("Connection.execute")
            return original(self, *args, **kwargs)

        sa.Connection.execute = refuse  # type: ignore[method-assign]
        try:
            await db.write(lambda conn: _INSERT.run(conn, _job_row("video_d1")))
        finally:
            sa.Connection.execute = original  # type: ignore[method-assign]
        assert seen == []

        captured: list[str] = []

        def capture(*args: Any) -> None:
            captured.append(args[2])

        event.listen(db.sync_engine, "before_cursor_execute", capture)
        try:
            found = await db.read(lambda conn: _BY_ID.run(conn, {"b_id": "video_d1"}).first())
        finally:
            event.remove(db.sync_engine, "before_cursor_execute", capture)
        assert found is not None
        assert any(sql.startswith("SELECT jobs.id") for sql in captured)
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_postgres_runs_the_compiled_sql_as_driver_sql(
    pg_databases: Any, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the statement is compiled once and sent with ``exec_driver_sql`` (SQLAlchemy's error
    and reconnect handling, without its per-execution compile cache and parameter building), and the
    numeric and JSON columns come back typed as ``Connection.execute`` types them."""
    stores = await open_stores(await pg_databases.create(postgres_url), None, tmp_path / "content")
    calls: list[str] = []
    original = sa.Connection.execute

    def counted(self: sa.Connection, *args: Any, **kwargs: Any) -> Any:
        calls.append("execute")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sa.Connection, "execute", counted)
    try:
        row = _job_row("video_pg1", lease_expires_at=7.25, next_poll_at=3.5)
        await stores.db.write(lambda conn: _INSERT.run(conn, row))
        found = await stores.db.read(lambda conn: _BY_ID.run(conn, {"b_id": "video_pg1"}))
        assert calls == []
        monkeypatch.setattr(sa.Connection, "execute", original)
        core = await stores.db.read(lambda conn: conn.execute(_BY_ID.stmt, {"b_id": "video_pg1"}).one())
        assert found.rows == [tuple(core)]
        values = dict(zip(found.keys, found.rows[0], strict=True))
        assert (values["lease_expires_at"], values["next_poll_at"]) == (7.25, 3.5)
        assert values["outputs"] == ["video_1", "video_2"]
    finally:
        await stores.close()
