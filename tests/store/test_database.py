"""The SQL database wrapper on SQLite: grouped writes, the kept connection, checkpoints, small reads.
PostgreSQL's connection handling is in ``test_postgres.py``."""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from vidgate.errors import ServiceUnavailableError
from vidgate.store.sql import database
from vidgate.store.sql.database import Database, _SqliteWriter
from vidgate.store.sql.prepared import savepoint


async def test_sqlite_writes_committed_together_stay_separate(tmp_path: Path) -> None:
    """Concurrent SQLite writes share one transaction (group commit), each in its own savepoint: one
    that raises leaves nothing behind and fails alone; the others commit and see each other in order."""
    db = Database(f"sqlite:///{tmp_path / 'group.db'}")
    table = sa.Table("t", sa.MetaData(), sa.Column("n", sa.Integer, primary_key=True))

    def create(conn: sa.Connection) -> None:
        table.create(conn)

    def add(conn: sa.Connection, n: int) -> int:
        conn.execute(table.insert().values(n=n))
        if n % 3 == 0:
            raise ValueError(f"refused {n}")
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    try:
        await db.write(create)
        outcomes = await asyncio.gather(*(db.write(add, n) for n in range(1, 13)), return_exceptions=True)
        refused = [n for n, o in zip(range(1, 13), outcomes, strict=True) if isinstance(o, ValueError)]
        assert refused == [3, 6, 9, 12]
        counts = [o for o in outcomes if isinstance(o, int)]
        assert counts == list(range(1, 9))  # in order, each seeing the earlier ones and none refused
        stored = await db.read(lambda conn: sorted(conn.execute(sa.select(table.c.n)).scalars()))
        assert stored == [1, 2, 4, 5, 7, 8, 10, 11]
    finally:
        await db.dispose()


async def test_a_sqlite_write_cancelled_before_its_group_starts_is_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer thread is held by a write waiting on an event: a write queued behind it and cancelled
    meanwhile never runs; one queued behind it and kept does."""
    monkeypatch.setattr(_SqliteWriter, "run_inline", False)  # ``hold`` must wait on the thread
    db = Database(f"sqlite:///{tmp_path / 'cancel.db'}")
    table = sa.Table("t", sa.MetaData(), sa.Column("n", sa.Integer, primary_key=True))
    entered, release = threading.Event(), threading.Event()

    def hold(conn: sa.Connection) -> None:
        table.create(conn)
        entered.set()
        assert release.wait(10)

    def add(conn: sa.Connection, n: int) -> None:
        conn.execute(table.insert().values(n=n))

    try:
        held = asyncio.ensure_future(db.write(hold))
        assert await asyncio.to_thread(entered.wait, 10)  # the writer thread is inside ``hold`` now
        cancelled = asyncio.ensure_future(db.write(add, 1))
        kept = asyncio.ensure_future(db.write(add, 2))
        await asyncio.sleep(0)
        cancelled.cancel()
        release.set()
        await held
        await kept
        assert cancelled.cancelled()
        stored = await db.read(lambda conn: sorted(conn.execute(sa.select(table.c.n)).scalars()))
        assert stored == [2]
    finally:
        release.set()
        await db.dispose()


async def test_an_in_memory_sqlite_database_serves_reads_and_writes_on_one_connection() -> None:
    """In memory there is one connection (another would be another database): reads go through the
    writer thread with the writes, concurrently issued or not."""
    db = Database("sqlite://")
    table = sa.Table("t", sa.MetaData(), sa.Column("n", sa.Integer, primary_key=True))

    def add(conn: sa.Connection, n: int) -> None:
        conn.execute(table.insert().values(n=n))

    def count(conn: sa.Connection) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    try:
        await db.write(lambda conn: table.create(conn))
        mixed = [db.write(add, n) if n % 2 else db.read(count) for n in range(1, 41)]
        await asyncio.gather(*mixed)
        assert await db.read(count) == 20
        assert await db.read_snapshot(count) == 20
    finally:
        await db.dispose()


async def test_the_sqlite_writer_keeps_one_connection_and_replaces_it_after_a_database_failure(
    tmp_path: Path,
) -> None:
    """Writes in separate groups run on one connection (its page cache stays warm); a write the
    database fails (an OperationalError: disk I/O, lock wait exhausted) is a 503 and the next group
    gets a fresh connection; disposing the database gives the kept connection back."""
    db = Database(f"sqlite:///{tmp_path / 'kept.db'}")
    pool = db.sync_engine.pool
    assert isinstance(pool, QueuePool)
    path = tmp_path / "kept.db"

    def marked(conn: sa.Connection) -> bool:
        """Whether this connection was here before (a TEMP table lives and dies with its connection)."""
        seen = conn.exec_driver_sql("SELECT count(*) FROM sqlite_temp_master WHERE name = 'mark'").scalar()
        conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS mark (n INTEGER)")
        return bool(seen)

    def broken(conn: sa.Connection) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    try:
        assert not await db.write(marked)
        assert [await db.write(marked) for _ in range(3)] == [True] * 3
        with pytest.raises(ServiceUnavailableError):
            await db.write(broken)
        assert not await db.write(marked)
        assert await db.write(marked)
        assert pool.checkedout() == 1  # the writer's connection, and nothing else held
    finally:
        await db.dispose()
    assert _open_descriptors(path) == 0  # the kept connection is closed too


_TABLE = sa.Table("t", sa.MetaData(), sa.Column("n", sa.Integer, primary_key=True))


def _add(conn: sa.Connection, n: int) -> int:
    conn.execute(_TABLE.insert().values(n=n))
    return threading.get_ident()


async def test_a_write_to_an_idle_sqlite_writer_runs_at_once_on_the_callers_thread(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'now.db'}")
    try:
        await db.write(lambda conn: _TABLE.create(conn))
        assert await db.write(_add, 1) == threading.get_ident()
        assert await db.read(lambda conn: list(conn.execute(sa.select(_TABLE.c.n)).scalars())) == [1]
    finally:
        await db.dispose()


async def test_a_write_while_another_process_holds_the_lock_waits_on_the_thread_not_the_loop(
    tmp_path: Path,
) -> None:
    """Another connection (another process, the CLI) holds SQLite's write lock: the write does not
    wait on the event loop (a timer fires meanwhile); it waits on the writer thread and lands there
    once the lock is given back."""
    path = tmp_path / "locked.db"
    db = Database(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await db.write(lambda conn: _TABLE.create(conn))
        other.execute("BEGIN IMMEDIATE")
        write = asyncio.ensure_future(db.write(_add, 2))
        await asyncio.sleep(0.05)  # the loop runs while the write waits
        assert not write.done()
        other.execute("COMMIT")
        assert await write != threading.get_ident()  # it ran on the writer thread
        assert await db.write(_add, 3) == threading.get_ident()  # idle again: at once
    finally:
        other.close()
        await db.dispose()


async def test_inline_writes_set_the_busy_timeout_only_when_the_user_changes(tmp_path: Path) -> None:
    """A write run at once must not wait for the lock (busy timeout 0), the thread's must (the test
    above): the kept connection's timeout is set when its user changes, not around every write."""
    path = tmp_path / "timeout.db"
    db = Database(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await db.write(lambda conn: _TABLE.create(conn))
        assert await db.write(_add, 1) == threading.get_ident()
        statements = _traced(db)
        driver = _kept_driver(db)
        for n in range(2, 5):
            assert await db.write(_add, n) == threading.get_ident()
        assert [s for s in statements if "busy_timeout" in s] == []
        driver.set_trace_callback(None)
        assert driver.execute("PRAGMA busy_timeout").fetchone() == (0,)
        driver.set_trace_callback(statements.append)
        other.execute("BEGIN IMMEDIATE")  # the next write goes to the thread, which waits
        write = asyncio.ensure_future(db.write(_add, 5))
        await asyncio.sleep(0.05)
        other.execute("COMMIT")
        assert await write != threading.get_ident()
        assert [s for s in statements if "busy_timeout" in s] == [
            f"PRAGMA busy_timeout = {database.SQLITE_BUSY_TIMEOUT_MS}"
        ]
        assert await db.write(_add, 6) == threading.get_ident()  # inline again: 0 again, once
        assert [s for s in statements if "busy_timeout" in s][1:] == ["PRAGMA busy_timeout = 0"]
    finally:
        other.close()
        await db.dispose()


def _reader(conn: sa.Connection) -> tuple[int, Any, list[int]]:
    """Which thread ran it, on which driver connection, and what it read."""
    return threading.get_ident(), conn.connection.dbapi_connection, _rows(conn)


async def test_a_small_read_runs_at_once_on_the_kept_connection(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'small.db'}")
    try:
        await db.write(lambda conn: _TABLE.create(conn))
        await db.write(_add, 1)
        thread, driver, rows = await db.read_small(_reader)
        assert thread == threading.get_ident()
        assert driver is _kept_driver(db)
        assert rows == [1]
    finally:
        await db.dispose()


async def test_a_small_read_while_the_writer_is_busy_runs_in_the_pool(tmp_path: Path) -> None:
    """A write waits on the writer thread for another process's lock: the read neither waits behind it
    nor touches the kept connection, and sees what was committed."""
    path = tmp_path / "busy-read.db"
    db = Database(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await db.write(lambda conn: _TABLE.create(conn))
        await db.write(_add, 1)
        other.execute("BEGIN IMMEDIATE")
        write = asyncio.ensure_future(db.write(_add, 2))
        await asyncio.sleep(0.05)
        thread, driver, rows = await asyncio.wait_for(db.read_small(_reader), 5)
        assert thread != threading.get_ident()
        assert driver is not _kept_driver(db)
        assert rows == [1]
        other.execute("COMMIT")
        await write
    finally:
        other.close()
        await db.dispose()


async def test_a_small_read_sqlite_answers_busy_runs_again_in_the_pool(tmp_path: Path) -> None:
    """SQLite may answer a read "busy" (recovering another process's crash, a WAL restart): the kept
    connection waits for nothing, so the read goes to the pool, whose connections wait."""
    db = Database(f"sqlite:///{tmp_path / 'busy.db'}")
    tries: list[int] = []

    def read(conn: sa.Connection) -> int:
        tries.append(threading.get_ident())
        if len(tries) == 1:
            busy = sqlite3.OperationalError("database is locked")
            busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise sa.exc.OperationalError("SELECT 1", (), busy)
        return threading.get_ident()

    try:
        await db.write(lambda conn: _TABLE.create(conn))
        assert await db.read_small(read) != threading.get_ident()
        assert tries[0] == threading.get_ident()
        assert await db.read_small(_reader) is not None  # the kept connection still serves
    finally:
        await db.dispose()


def _kept_driver(db: Database) -> Any:
    """The writer's kept connection's sqlite3 connection (opened by an earlier write)."""
    kept = db._writer._conn  # type: ignore[union-attr]
    assert kept is not None
    driver = kept.connection.dbapi_connection
    assert driver is not None
    return driver


def _traced(db: Database) -> list[str]:
    """The statements the kept connection runs from now on (it is opened first)."""
    statements: list[str] = []
    _kept_driver(db).set_trace_callback(statements.append)
    return statements


def _rows(conn: sa.Connection) -> list[int]:
    return list(conn.execute(sa.select(_TABLE.c.n).order_by(_TABLE.c.n)).scalars())


async def test_the_writes_of_one_loop_turn_commit_in_one_transaction(tmp_path: Path) -> None:
    """Asked for in the same turn, writes run together at its end: one BEGIN and one COMMIT, each
    write in a savepoint; a write that raises leaves no trace and the others commit."""
    db = Database(f"sqlite:///{tmp_path / 'turn.db'}")

    def add_then_fail(conn: sa.Connection, n: int) -> None:
        _add(conn, n)
        raise ValueError("refused")

    try:
        await db.write(lambda conn: _TABLE.create(conn))
        statements = _traced(db)
        outcomes = await asyncio.gather(
            db.write(_add, 1), db.write(add_then_fail, 2), db.write(_add, 3), return_exceptions=True
        )
        assert outcomes[0] == outcomes[2] == threading.get_ident()
        assert isinstance(outcomes[1], ValueError)
        assert [s for s in statements if s.startswith(("BEGIN", "COMMIT"))] == ["BEGIN IMMEDIATE", "COMMIT"]
        assert await db.read(_rows) == [1, 3]
    finally:
        await db.dispose()


async def test_a_write_cancelled_before_its_turn_ends_is_not_run(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'cancel.db'}")
    try:
        await db.write(lambda conn: _TABLE.create(conn))
        cancelled = asyncio.ensure_future(db.write(_add, 1))
        await asyncio.sleep(0)  # it has asked for its write
        cancelled.cancel()
        assert await db.write(_add, 2) == threading.get_ident()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert await db.read(_rows) == [2]
    finally:
        await db.dispose()


async def test_a_write_asked_for_just_before_dispose_is_run(tmp_path: Path) -> None:
    path = tmp_path / "dispose.db"
    db = Database(f"sqlite:///{path}")
    await db.write(lambda conn: _TABLE.create(conn))
    pending = asyncio.ensure_future(db.write(_add, 7))
    await asyncio.sleep(0)
    await db.dispose()
    assert pending.done()
    assert pending.result() == threading.get_ident()
    check = sqlite3.connect(path)
    try:
        assert check.execute("SELECT n FROM t").fetchall() == [(7,)]
    finally:
        check.close()


async def test_the_kept_connection_leaves_wal_checkpoints_to_the_writer_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "CHECKPOINT_WRITES", 3)
    threads: list[int] = []
    checkpoint = _SqliteWriter._checkpoint

    def counted(self: _SqliteWriter) -> None:
        threads.append(threading.get_ident())
        checkpoint(self)

    monkeypatch.setattr(_SqliteWriter, "_checkpoint", counted)
    db = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        await db.write(lambda conn: _TABLE.create(conn))
        for n in range(1, 8):
            await db.write(_add, n)
        autocheckpoint = await db.write(
            lambda conn: conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        )
        assert autocheckpoint == 0
        await _eventually(lambda: bool(threads))  # queued to the thread (those due together run once)
        assert threads
        assert threading.get_ident() not in threads
    finally:
        await db.dispose()


async def test_writes_run_inline_while_the_thread_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint syncs the file (milliseconds): the loop's writes go on meanwhile, at once on its
    own thread, rather than queued behind it."""
    monkeypatch.setattr(database, "CHECKPOINT_WRITES", 2)
    started, release = threading.Event(), threading.Event()
    checkpoint = database._wal_checkpoint

    def held(conn: sa.Connection) -> tuple[int, bool]:
        started.set()
        release.wait(10)
        return checkpoint(conn)

    monkeypatch.setattr(database, "_wal_checkpoint", held)
    db = Database(f"sqlite:///{tmp_path / 'busy.db'}")
    try:
        await db.write(lambda conn: _TABLE.create(conn))
        await db.write(_add, 1)  # the second write: a checkpoint is due
        assert await asyncio.to_thread(started.wait, 10)
        for n in range(2, 6):
            assert await asyncio.wait_for(db.write(_add, n), 5) == threading.get_ident()
        assert await db.read(_rows) == [1, 2, 3, 4, 5]
    finally:
        release.set()
        await db.dispose()


async def test_a_wal_that_outgrows_its_bound_is_checkpointed_with_writes_held_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint that runs beside writes may leave frames uncopied (a write landed meanwhile, a reader
    still needed them), and the WAL restarts only after one that copied every frame: under steady load
    it would grow for good. Once it is ``WAL_RESET_FRAMES`` long, the checkpoint runs with the writer
    held off, so it restarts. Here each checkpoint beside writes finds a reader's snapshot and a write
    past it, so it cannot copy everything."""
    monkeypatch.setattr(database, "CHECKPOINT_WRITES", 1)
    monkeypatch.setattr(database, "WAL_RESET_FRAMES", 12)
    path = tmp_path / "bound.db"
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    held: list[bool] = []
    checkpoint = database._wal_checkpoint
    db = Database(f"sqlite:///{path}")

    def raced(conn: sa.Connection) -> tuple[int, bool]:
        writer = db._writer
        assert writer is not None
        held.append(writer._using.locked())
        if reader.in_transaction:
            reader.execute("COMMIT")
        if not held[-1]:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM t").fetchall()
            other.execute("INSERT INTO t (n) VALUES (NULL)")
        return checkpoint(conn)

    monkeypatch.setattr(database, "_wal_checkpoint", raced)
    try:
        await db.write(lambda conn: _TABLE.create(conn))
        for n in range(1, 41):
            await db.write(_add, n * 100)
            await _eventually(functools.partial(_at_least, held, n))
        assert any(held)
        assert not all(held)
        frame = 4096 + 24
        wal = (tmp_path / "bound.db-wal").stat().st_size
        assert wal < 32 + 3 * 12 * frame  # a few bounds' worth, not 80 writes'
    finally:
        await db.dispose()
        reader.close()
        other.close()


def _at_least(items: list[bool], count: int) -> bool:
    return len(items) >= count


async def _eventually(done: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until ``done()`` holds (what the writer thread does in the background), or ``seconds``."""
    for _ in range(int(seconds / 0.01)):
        if done():
            return
        await asyncio.sleep(0.01)


def _open_descriptors(path: Path) -> int:
    """How many of this process's file descriptors refer to ``path``."""
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += Path(os.readlink(fd)) == path
        except OSError:  # closed while listed
            continue
    return count


async def test_disposing_closes_the_kept_connection_also_when_every_write_ran_inline(tmp_path: Path) -> None:
    path = tmp_path / "inline.db"
    db = Database(f"sqlite:///{path}")
    await db.write(lambda conn: _TABLE.create(conn))
    assert await db.write(_add, 1) == threading.get_ident()  # the writer thread never ran
    assert _open_descriptors(path) >= 1
    await db.dispose()
    assert _open_descriptors(path) == 0


_PAGES = sa.Table(
    "pages", sa.MetaData(), sa.Column("n", sa.Integer, primary_key=True), sa.Column("text", sa.Text)
)


def _fill_pages(conn: sa.Connection) -> None:
    _PAGES.create(conn)
    conn.execute(_PAGES.insert(), [{"n": n, "text": "a" * 3000} for n in range(40)])


def _journal_files_open_in_a_savepoint(conn: sa.Connection) -> list[str]:
    """Change 40 pages inside a savepoint (SQLite keeps their old copies in a statement journal, spilled
    to a temporary file past 64 KiB unless the temp store is memory) and list the temporary files this
    process holds open meanwhile."""
    with savepoint(conn):
        conn.execute(_PAGES.update().values(text="b" * 3000))
        held = []
        for fd in Path("/proc/self/fd").iterdir():
            try:
                held.append(os.readlink(fd))
            except OSError:  # closed while listed
                continue
    return [name for name in held if "etilqs_" in name]


async def test_savepoints_keep_their_statement_journal_in_memory(tmp_path: Path) -> None:
    """Every create's admission runs in a savepoint (and the writer thread gives each grouped write
    one): with SQLite's default temp store a journal past 64 KiB went to a temporary file, opened,
    written page by page and unlinked."""
    db = Database(f"sqlite:///{tmp_path / 'journal.db'}")
    try:
        await db.write(_fill_pages)
        assert await db.write(_journal_files_open_in_a_savepoint) == []
    finally:
        await db.dispose()
