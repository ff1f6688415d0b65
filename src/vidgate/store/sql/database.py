"""The database behind the SQL stores, SQLite or PostgreSQL, and how the stores run work on it.

Store operations are plain functions of a SQLAlchemy ``Connection`` (``fn(conn, *args)``), each run
as one short transaction by :meth:`Database.write`, :meth:`Database.read` (one statement, autocommit)
or :meth:`Database.read_snapshot`:

- PostgreSQL: an async engine (asyncpg); a write or read runs whole (connect, statements, commit) in
  one greenlet on the engine's sync face (``store/sql/postgres.py``).
  Exactness under concurrency comes from single conditional statements (``UPDATE ... WHERE
  <condition>``): a concurrent writer of the same row waits for the row lock and then re-checks the
  condition against the committed values. Single-statement reads run in autocommit (one round trip).
- SQLite: a sync engine (pysqlite). Reads run in a small thread pool, one thread hop per operation
  (through aiosqlite, one SELECT took about ten thread hops, ~1 ms; this way ~0.2 ms); writes run on
  one writer thread (``_SqliteWriter``). Write transactions take the lock up front (``BEGIN
  IMMEDIATE``, so the busy timeout applies rather than a "database is locked" error on lock upgrade).
  This process's writes queue and are committed in groups: whatever is waiting when the previous
  commit ends runs in one transaction, each write in its own savepoint (``_sqlite_group``), so
  concurrent writers share one thread hop and one COMMIT instead of paying for them in turn, and a
  hundred concurrent reservations wait their turn instead of failing. A write cancelled before its
  group starts is not run. WAL lets reads proceed while a write is in progress. An in-memory database
  is one connection: its reads go to the writer thread too. The hot statements skip SQLAlchemy's
  execution layer (``prepared.py``).

PostgreSQL connections that the server dropped (a restart, a failover, a proxy's idle timeout) fail on
their next use; SQLAlchemy then discards every connection pooled before the drop, and the operation
runs once more on a new one. That is safe: a read changes nothing, and a write whose statements failed
was rolled back (a failure at COMMIT itself is ambiguous and is raised). Without it the first request
on each pooled connection failed: readiness flapped, and a create the provider had already accepted
could not be stored. (``pool_pre_ping`` would do it too, at twice the cost of every query.)

A SQLite file is pinned by identity (device and inode) when first opened: if it disappears, is
replaced (its directory removed or recreated) or stops being writable, every operation fails with
``ServiceUnavailableError`` (503) instead of reading and writing a deleted file that open
connections still hold. :meth:`Database.probe_write` proves the write path for readiness.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import os
import queue
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, NoReturn, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from vidgate.errors import ServiceUnavailableError
from vidgate.store.sql import postgres
from vidgate.store.sql.json_codec import json_text, json_value
from vidgate.store.sql.prepared import driver_row, driver_sql, savepoint

P = ParamSpec("P")
T = TypeVar("T")
_Source = sa.Engine | Callable[[], sa.Connection]  # where a SQLite transaction gets its connection

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_THREADS = 8
WRITE = "BEGIN IMMEDIATE"  # a write transaction takes the lock first: the busy timeout applies
WRITE_NOW = "BEGIN IMMEDIATE, without waiting"  # ``WRITE`` or ``_Busy`` at once (``_begin_now``)
CHECKPOINT_WRITES = 100  # writes between WAL checkpoints (about SQLite's own 1,000 pages)
WAL_RESET_FRAMES = 4_000  # a WAL this long (16 MiB of 4 KiB pages) is checkpointed with writes held off
GROUP_COMMIT_MAX = 64  # SQLite writes committed together at most
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"}
_POSTGRES_NAMES = {"postgres", "postgresql"}
log = logging.getLogger(__name__)


def driver_url(database_url: str) -> URL:
    """The URL with the driver vidgate uses: ``postgresql+asyncpg`` or ``sqlite+pysqlite``.

    Accepts sync-style URLs (``sqlite:///x.db``, ``postgresql://...``, ``postgres://...``,
    ``postgresql+psycopg2://...``) and async ones (``sqlite+aiosqlite:///x.db``,
    ``postgresql+asyncpg://...``); anything else is a ValueError naming ``database_url``.
    """
    try:
        url = make_url(database_url)
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"database_url: cannot parse {database_url!r} ({exc})") from None
    if url.drivername in _SQLITE_DRIVERS:
        return url.set(drivername="sqlite+pysqlite")
    if url.get_backend_name() in _POSTGRES_NAMES:
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(
        f"database_url: unsupported database {url.drivername!r}; use 'sqlite:///path.db' "
        "or 'postgresql://user@host/db' (async forms such as postgresql+asyncpg:// work too)"
    )


def _is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def _sqlite_engine(url: URL) -> sa.Engine:
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False},
        "json_serializer": json_text,
        "json_deserializer": json_value,
    }
    if _is_memory_sqlite(url):
        kwargs["poolclass"] = StaticPool  # every new ":memory:" connection would be another database
    else:
        kwargs.update(pool_size=SQLITE_THREADS, max_overflow=SQLITE_THREADS)
        if url.database:
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver, so that ``_sqlite_tx`` decides how to BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Savepoints' statement journals (every create's admission; each write of a group commit) past
        # 64 KiB otherwise spill to a temporary file: created, written page by page, unlinked. Measured
        # with strace under creates: 40 % of the process's pwrite calls were to those files.
        cursor.execute("PRAGMA temp_store = MEMORY")
        cursor.close()
        # SQLite's own lower() folds ASCII only; PostgreSQL's (a UTF-8 database) and the memory store's
        # fold every letter. Case-insensitive matches (``KeyQuery.alias_contains``) go through lower():
        # this one makes them the same on every backend. No index is built on lower().
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    return engine


def _lower(value: object) -> object:
    """SQL ``lower()`` for SQLite, folding every letter as Python does (text; anything else as is)."""
    return value.lower() if isinstance(value, str) else value


class Database:
    """One database: SQLite or PostgreSQL, chosen by URL."""

    def __init__(self, database_url: str) -> None:
        self.url = driver_url(database_url)
        self.dialect = self.url.get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        self._async: AsyncEngine | None = None
        self._sync: sa.Engine | None = None
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None  # SQLite file reads
        self._writer: _SqliteWriter | None = None
        self._file: _SqliteFile | None = None
        self._turns: dict[asyncio.AbstractEventLoop, list[_QueuedWrite]] = {}
        if self.is_sqlite:
            self._sync = _sqlite_engine(self.url)
            self._file = _SqliteFile(self.sqlite_path)
            self._writer = _SqliteWriter(self._sync, self._file)
            if not _is_memory_sqlite(self.url):  # in memory: one connection, so its reads go to the writer
                self._threads = concurrent.futures.ThreadPoolExecutor(
                    SQLITE_THREADS, thread_name_prefix="vidgate-sqlite"
                )
        else:
            self._async = create_async_engine(
                self.url,
                pool_size=postgres.POOL_SIZE,
                max_overflow=postgres.MAX_OVERFLOW,
                pool_timeout=60,
                json_serializer=json_text,
                json_deserializer=json_value,
            )

    @property
    def sync_engine(self) -> sa.Engine:
        """The Engine every statement runs on (behind the async one on PostgreSQL): for instruments
        such as ``bench/plans.py`` that listen to its events."""
        if self._async is not None:
            return self._async.sync_engine
        assert self._sync is not None
        return self._sync

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file, or None (PostgreSQL, or an in-memory database)."""
        if not self.is_sqlite or _is_memory_sqlite(self.url):
            return None
        return self.url.database

    async def write(
        self, fn: Callable[Concatenate[sa.Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(conn, ...)`` in a read-write transaction: committed on return, rolled back on raise.

        On a SQLite file the writes one event-loop turn asks for run together at the turn's end
        (``_end_turn``): one transaction, each write in a savepoint (``_sqlite_group``), so each
        commits or leaves no trace as if it were alone. A write cancelled before its turn ends is not
        run."""
        if self._async is not None:
            return await postgres.write(self._async.sync_engine, fn, *args, **kwargs)
        assert self._writer is not None
        bound: Callable[[sa.Connection], T] = lambda conn: fn(conn, *args, **kwargs)  # noqa: E731
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        write = _QueuedWrite(bound, future, loop)
        if self._threads is not None:  # a file: grouped with this loop turn's others, run at its end
            turn = self._turns.get(loop)
            if turn is None:
                turn = self._turns[loop] = []
                loop.call_soon(self._end_turn, loop)
            turn.append(write)
        else:
            self._writer.submit(write)
        result: T = await future
        return result

    async def write_one(
        self, fn: Callable[Concatenate[sa.Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``write`` for ``fn`` that runs a single statement: on PostgreSQL in autocommit, its own
        transaction, which saves the BEGIN and COMMIT round trips (``postgres.write_one``); on SQLite
        it is ``write`` (grouped with the turn's other writes)."""
        if self._async is not None:
            return await postgres.write_one(self._async.sync_engine, fn, *args, **kwargs)
        return await self.write(fn, *args, **kwargs)

    def _end_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run the writes this turn asked for: at once, or queued to the writer thread if it is busy or
        another process holds SQLite's write lock (in order: none overtakes a queued one)."""
        assert self._writer is not None
        writes = [w for w in self._turns.pop(loop, []) if not w.future.cancelled()]
        if not writes:
            return
        outcomes = self._writer.run_now([w.fn for w in writes])
        if outcomes is None:
            for w in writes:
                self._writer.submit(w)
            return
        _resolve(list(zip(writes, outcomes, strict=True)))

    async def read(
        self, fn: Callable[Concatenate[sa.Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(conn, ...)`` for one read statement (autocommit: no BEGIN/ROLLBACK round trips)."""
        if self._async is not None:
            return await postgres.read(self._async.sync_engine, fn, *args, **kwargs)
        return await self._in_thread(None, fn, *args, **kwargs)

    async def read_small(
        self, fn: Callable[Concatenate[sa.Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``read`` for one statement bounded by an index and a limit (a row by its key, a page). On a
        SQLite file it runs at once on the event loop's thread, on the writer's kept connection, when
        that is free (``_SqliteWriter.read_now``): a pool thread's hop and its GIL hand-offs cost several
        times such a read, and more as requests overlap. Otherwise it runs as ``read``."""
        if self._threads is not None and self._writer is not None:
            done = self._writer.read_now(lambda conn: fn(conn, *args, **kwargs))
            if done is not None:
                return done[0]
        return await self.read(fn, *args, **kwargs)

    async def read_snapshot(
        self, fn: Callable[Concatenate[sa.Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(conn, ...)`` whose statements all see one consistent state (REPEATABLE READ on
        PostgreSQL, a read transaction on SQLite)."""
        if self._async is not None:
            return await postgres.snapshot(self._async.sync_engine, fn, *args, **kwargs)
        return await self._in_thread("BEGIN", fn, *args, **kwargs)

    async def probe_write(self) -> None:
        """A real write, rolled back: raises unless the database takes writes now (readiness).

        The row goes into Alembic's version table (present in every migrated database, one short
        column); a random value keeps concurrent probes of several replicas from waiting on each other.
        """
        try:
            await self.write(_probe_insert, f"probe-{secrets.token_hex(8)}")
        except _ProbeRolledBack:
            return

    async def _in_thread(self, begin: str | None, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        assert self._sync is not None
        assert self._file is not None
        call = functools.partial(_sqlite_tx, self._sync, self._file, begin, fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        if self._threads is not None:
            return await loop.run_in_executor(self._threads, call)
        assert self._writer is not None
        future: asyncio.Future[T] = loop.create_future()
        self._writer.submit(_QueuedWrite(lambda _conn: call(), future, loop, alone=True))
        return await future

    async def truncate(self, tables: Iterable[sa.Table]) -> None:
        """Empty ``tables`` (the test suite resets a shared database this way)."""
        chosen = list(tables)

        def run(conn: sa.Connection) -> None:
            for table in chosen:
                conn.execute(table.delete())

        await self.write(run)

    async def dispose(self) -> None:
        """Close every connection (after letting running SQLite operations finish)."""
        if self._turns:  # writes this turn asked for: run now, not on a writer being closed
            self._end_turn(asyncio.get_running_loop())
        if self._async is not None:
            await self._async.dispose()
        if self._threads is not None:
            await asyncio.to_thread(self._threads.shutdown, True)
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)
        if self._sync is not None:
            self._sync.dispose()


class _ProbeRolledBack(Exception):
    """Raised by the readiness probe's write so that its transaction is rolled back."""


def _probe_insert(conn: sa.Connection, value: str) -> None:
    conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": value})
    raise _ProbeRolledBack


class _SqliteFile:
    """The SQLite file this database opened, pinned by (device, inode) once it exists."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.identity: tuple[int, int] | None = None
        self._writable: tuple[int, int, int, int] | None = None  # (ctime, mode, uid, gid) last found so

    def check(self, *, write: bool) -> None:
        """Raise ServiceUnavailableError if the pinned file is gone, replaced, or (for a write) read-only."""
        if self.path is None:
            return
        try:
            st = os.stat(self.path)
        except OSError as exc:
            if self.identity is None and isinstance(exc, FileNotFoundError):
                return  # not created yet: the first connection creates it
            self._fail(f"cannot stat it ({exc})")
        identity = (st.st_dev, st.st_ino)
        if self.identity is None:
            self.identity = identity
        elif identity != self.identity:
            self._fail("it was replaced (its directory removed or recreated) since the gateway opened it")
        if write:
            # Asked again only when the file's metadata changed: a chmod, chown, ACL or attribute change
            # (``chattr +i``) moves its ctime. The answer otherwise stays what it was, and the question
            # was a system call on every write transaction.
            stamp = (st.st_ctime_ns, st.st_mode, st.st_uid, st.st_gid)
            if stamp != self._writable:
                if not os.access(self.path, os.W_OK):
                    self._writable = None
                    self._fail("it is not writable")
                self._writable = stamp

    def _fail(self, why: str) -> NoReturn:
        log.error("SQLite database %s is unusable: %s", self.path, why)
        # The caller sees no path: operator details stay in the log.
        raise ServiceUnavailableError("The gateway's database is unavailable; try again later.")


def dialect_insert(conn: sa.Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which has ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


@dataclass
class _QueuedWrite:
    fn: Callable[[sa.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    alone: bool = False  # an in-memory database's read: ``fn`` runs outside any group, on no connection


class _CheckpointDue:
    """Queued by ``run_now`` when a checkpoint is due. Not a write: not counted in ``_unfinished``, so
    the loop's writes still run at once while the thread checkpoints."""


_CHECKPOINT = _CheckpointDue()


class _SqliteWriter:
    """The thread that runs this process's SQLite writes: whatever is queued when it is free runs as
    one group (``_sqlite_group``, at most ``GROUP_COMMIT_MAX``), and the group's outcomes go back to
    the event loop in one call. A write cancelled before its group starts is not run.

    The thread keeps one connection for its writes (a fresh one after a group fails). Taken from the
    pool per group, the writes went round the pool's connections, and SQLite drops a connection's page
    cache whenever another connection wrote since its last transaction: every group read its pages
    from the file again (writer thread CPU per create 557 -> ~490 µs in an in-process harness at 8
    connections, not committed; ``pread`` calls gone from its perf profile).

    One long-lived thread rather than a pool task per group: each group then cost the event loop a
    committer task and a ``run_in_executor`` round (executor future, its wrapper, a wake-up), and the
    writes are serialized by SQLite's single write lock anyway.

    When no write is queued or running, the writes an event-loop turn asked for run at its end on the
    loop's thread (``run_now``), as one group on the same kept connection, if it gets SQLite's write
    lock without waiting (another process may hold it: then they are queued, and the thread waits for
    the lock). Two thread hops and their GIL hand-offs per write cost more than the write: a create at
    one connection took 1,873 µs of the gateway's CPU before and 1,813 after, p50 1.69 -> 1.49 ms over
    direct (``bench/sidebyside.py --only status,create``, one run each; the in-process gain was
    larger). Grouping a turn's writes: with 8 connections creating, 8,000 writes ran in about 3,000
    transactions instead of one each (2.6 writes per inline group), and the gateway's system CPU per
    create fell by about a third (fewer commits, and pages shared by the writes, such as the key's row,
    written once). Under load writes find the thread busy and are grouped there as before.

    The kept connection does not checkpoint the WAL at commit (a checkpoint copies pages and syncs the
    file: the event loop would wait for it); the thread checkpoints it (``PASSIVE``) after every
    ``CHECKPOINT_WRITES`` writes, on a connection of its own and without holding ``_using``, so the
    loop's writes go on meanwhile. A checkpoint is about 4 ms, mostly the syncs; when it held the kept
    connection, every write of those milliseconds was queued behind it (1-connection p99 of creates
    7.6-9.2 ms before, 3.4-7.8 after, in alternating runs). A PASSIVE checkpoint takes no write lock, so
    SQLite lets it run beside a writer; it copies the frames committed when it started. The WAL starts
    over only when a write begins after a checkpoint that copied every frame, which under steady load
    the next write would rarely find: once the WAL is ``WAL_RESET_FRAMES`` long, the checkpoint holds
    the kept connection, as every checkpoint once did, and the next write restarts the WAL."""

    run_inline = True  # tests that hold the thread inside a write turn this off

    def __init__(self, engine: sa.Engine, file: _SqliteFile) -> None:
        self._engine = engine
        self._file = file
        self._queue: queue.SimpleQueue[_QueuedWrite | _CheckpointDue | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._conn: sa.Connection | None = None  # the writer's own, kept: its page cache stays warm
        self._using = threading.Lock()  # held while a transaction runs on ``_conn`` (either thread)
        self._count = threading.Lock()
        self._unfinished = 0  # writes queued and not yet done
        self._since_checkpoint = 0  # writes committed or tried on ``_conn`` since its last checkpoint
        self._no_wait: sa.Connection | None = None  # ``_conn`` while its busy timeout is 0 (``_used_by``)
        self._checkpointer: sa.Connection | None = None  # the thread's own, for checkpoints beside writes
        self._wal_frames = 0  # the WAL's length in frames at the last checkpoint (0: it restarts)

    def submit(self, write: _QueuedWrite) -> None:
        self._start()
        with self._count:
            self._unfinished += 1
        self._queue.put(write)

    def _start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="vidgate-sqlite-writer", daemon=True
                    )
                    self._thread.start()

    def run_now(self, fns: list[Callable[[sa.Connection], Any]]) -> list[tuple[bool, Any]] | None:
        """``fns`` in one transaction on this thread (``_sqlite_group``), if no write is queued or
        running and SQLite's write lock is free: each one's outcome; None when they did not run."""
        if not self._free_now():
            return None
        try:
            try:
                outcomes = _sqlite_group(self._now, self._file, fns, begin=WRITE_NOW)
            except _Busy:
                return None
            self._after(outcomes)
        finally:
            self._using.release()
        if self._since_checkpoint >= CHECKPOINT_WRITES:
            self._since_checkpoint = 0
            self._start()
            self._queue.put(_CHECKPOINT)
        return outcomes

    def _free_now(self) -> bool:
        """Whether this thread may use the kept connection at once (nothing queued or running); if so,
        it now holds ``_using`` and must release it."""
        return self.run_inline and not self._unfinished and self._using.acquire(blocking=False)

    def read_now(self, fn: Callable[[sa.Connection], T]) -> tuple[T] | None:
        """``fn`` run at once on this thread, on the kept connection, in autocommit (its result in a
        1-tuple), if nothing is queued or running; None when it did not run (the connection is busy,
        or SQLite answered busy: recovery of another process's crash, a WAL restart). The kept
        connection's page cache is the warmest: it made the latest writes itself."""
        if not self._free_now():
            return None
        try:
            return (_sqlite_tx(self._now, self._file, None, fn),)
        except ServiceUnavailableError as exc:
            if _busy(exc.__cause__):
                return None
            self._after([(False, exc)])  # SQLite itself failed: the next user opens a fresh connection
            raise
        finally:
            self._using.release()

    def close(self) -> None:
        """Run what is queued, stop the thread and close the kept connection (blocking: call it from
        a worker thread)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()
        self._close_connection()  # opened by ``run_now`` when the thread never ran

    def _close_connection(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        with self._using:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            self._close_connection()

    def _serve(self) -> None:
        running = True
        while running:
            batch: list[_QueuedWrite | _CheckpointDue | None] = [self._queue.get()]
            while len(batch) < GROUP_COMMIT_MAX:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            running = None not in batch
            group: list[_QueuedWrite] = []
            due = False
            for write in batch:
                if isinstance(write, _CheckpointDue):
                    due = True
                    continue
                if write is None or write.future.cancelled():
                    self._finished(0 if write is None else 1)
                    continue
                if write.alone:
                    self._run_group(group)
                    group = []
                    outcome = _outcome(write.fn, None)
                    self._finished(1)
                    _deliver([write], [outcome])
                else:
                    group.append(write)
            self._run_group(group)
            if due or self._since_checkpoint >= CHECKPOINT_WRITES:
                self._checkpoint()

    def _finished(self, count: int) -> None:
        """``count`` queued writes are done: counted off before their callers hear of it, so that a
        caller's next write, on an idle thread, runs at once rather than queued behind them."""
        if count:
            with self._count:
                self._unfinished -= count

    def _run_group(self, group: list[_QueuedWrite]) -> None:
        if not group:
            return
        with self._using:
            outcomes = _sqlite_group(self._queued, self._file, [w.fn for w in group])
            self._after(outcomes)
        self._finished(len(group))
        _deliver(group, outcomes)

    def _after(self, outcomes: list[tuple[bool, Any]]) -> None:
        """Count the writes for the next checkpoint; after a failure of SQLite itself, the next
        transaction starts on a fresh connection."""
        self._since_checkpoint += len(outcomes)
        if self._conn is not None and (
            self._conn.invalidated or any(not ok and _database_failed(value) for ok, value in outcomes)
        ):
            self._conn.invalidate()  # closed for good, not handed back to the pool
            self._conn.close()
            self._conn = None

    def _checkpoint(self) -> None:
        """Copy the WAL's pages into the database file (on this thread; see the class docstring)."""
        self._since_checkpoint = 0
        try:
            if self._wal_frames < WAL_RESET_FRAMES:
                self._wal_frames = _wal_checkpoint(self._checkpointing())[0]
                return
            with self._using:  # no write appends meanwhile, so the next one restarts the WAL
                if self._conn is None:
                    return
                frames, complete = _wal_checkpoint(self._conn)
                self._wal_frames = 0 if complete else frames
        except sa.exc.DBAPIError as exc:  # the next writes go on; the next checkpoint tries again
            log.warning("SQLite WAL checkpoint failed: %s", exc)
            if self._checkpointer is not None:
                self._checkpointer.invalidate()
                self._checkpointer.close()
                self._checkpointer = None

    def _checkpointing(self) -> sa.Connection:
        """The thread's connection for checkpoints that let writes go on (opened when first needed)."""
        if self._checkpointer is None:
            self._checkpointer = self._engine.connect()
        return self._checkpointer

    def _connection(self) -> sa.Connection:
        """The kept connection, opened when first needed (only once the file has passed its check:
        opened while the file is read-only, SQLite would open it read-only for good)."""
        if self._conn is None:
            conn = self._engine.connect()
            driver_sql(conn, "PRAGMA wal_autocheckpoint = 0")  # ``_checkpoint`` does it, on the thread
            self._conn = conn
        return self._conn

    def _now(self) -> sa.Connection:
        return self._used_by(waits=False)

    def _queued(self) -> sa.Connection:
        return self._used_by(waits=True)

    def _used_by(self, *, waits: bool) -> sa.Connection:
        """The kept connection, with the busy timeout its user needs: a write run at once (``run_now``)
        must not wait for SQLite's write lock (``_Busy``: it is queued instead), the thread must. Set
        only when the user changes: toggled around every inline write, it cost two statements each.
        Inside a write transaction the timeout no longer matters: once ``BEGIN IMMEDIATE`` holds the
        write lock, no statement of the transaction waits for a lock in WAL mode (commits do not
        checkpoint on this connection: ``wal_autocheckpoint = 0``, and a PASSIVE checkpoint never
        waits)."""
        conn = self._connection()
        if (self._no_wait is conn) == waits:
            driver_sql(conn, f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS if waits else 0}")
            self._no_wait = None if waits else conn
        return conn


def _wal_checkpoint(conn: sa.Connection) -> tuple[int, bool]:
    """A PASSIVE checkpoint on ``conn``: the WAL's length in frames, and whether every frame was copied."""
    row = driver_row(conn, "PRAGMA wal_checkpoint(PASSIVE)")
    assert row is not None
    busy, frames, copied = row
    return int(frames), not busy and frames == copied


def _outcome(fn: Callable[[Any], Any], arg: Any) -> tuple[bool, Any]:
    try:
        return True, fn(arg)
    except Exception as exc:
        return False, exc


def _deliver(writes: list[_QueuedWrite], outcomes: list[tuple[bool, Any]]) -> None:
    """Hand the outcomes to each write's event loop, one call per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_QueuedWrite, tuple[bool, Any]]]] = {}
    for write, outcome in zip(writes, outcomes, strict=True):
        by_loop.setdefault(write.loop, []).append((write, outcome))
    for loop, done in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody awaits these any more
            loop.call_soon_threadsafe(_resolve, done)


def _resolve(done: list[tuple[_QueuedWrite, tuple[bool, Any]]]) -> None:
    for write, (ok, value) in done:
        if write.future.done():
            continue
        if ok:
            write.future.set_result(value)
        else:
            write.future.set_exception(value)


def _sqlite_group(
    engine: _Source, file: _SqliteFile, fns: list[Callable[[sa.Connection], Any]], *, begin: str = WRITE
) -> list[tuple[bool, Any]]:
    """One write transaction running ``fns`` in order: (True, result) or (False, exception) for each.

    A single write runs as its own transaction. Several run each in a savepoint, so one that raises
    leaves no trace while the others commit: exactly as if each had been its own transaction, one
    after the other (which is also what each sees of the earlier ones), with one BEGIN/COMMIT and one
    thread hop for all of them. A failure of the database itself (``OperationalError``) fails them all.
    ``begin`` is ``WRITE`` (the thread waits for the lock) or ``WRITE_NOW`` (``_Busy`` is raised, and
    nothing has run, when another connection holds it).
    """
    if len(fns) == 1:
        try:
            return [(True, _sqlite_tx(engine, file, begin, fns[0]))]
        except _Busy:
            raise
        except Exception as exc:
            return [(False, exc)]

    def run(conn: sa.Connection) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        for fn in fns:
            try:
                with savepoint(conn):
                    value = fn(conn)
            except sa.exc.OperationalError:
                raise
            except Exception as exc:
                outcomes.append((False, exc))
                continue
            outcomes.append((True, value))
        return outcomes

    try:
        return _sqlite_tx(engine, file, begin, run)
    except _Busy:
        raise
    except Exception as exc:  # the transaction failed as a whole: every write in it did
        return [(False, exc)] * len(fns)


def _sqlite_tx(
    engine: _Source,
    file: _SqliteFile,
    begin: str | None,
    fn: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    """``fn(conn, ...)`` in a transaction opened with ``begin`` (``WRITE`` takes the write lock up
    front, ``"BEGIN"`` a read snapshot; None: a single-statement read in autocommit).

    The driver runs in autocommit (``isolation_level = None``), so SQLAlchemy's ``begin()`` sends
    nothing and this BEGIN decides. It is sent here rather than from a "begin" event listener: any
    connection event listener makes SQLAlchemy dispatch events around every statement (with the
    per-connection execution options it replaced, ~13 % of a create's SQLite CPU: 1.58 -> 1.38 ms
    for the admission, insert and save of one create, measured in one process)."""
    file.check(write=begin in (WRITE, WRITE_NOW))
    try:
        with _connected(engine) as conn, conn.begin():
            if begin == WRITE_NOW:
                _begin_now(conn)
            elif begin is not None:
                driver_sql(conn, begin)
            result = fn(conn, *args, **kwargs)
    except sa.exc.OperationalError as exc:
        # Read-only file, disk I/O error, lock wait exhausted: the database, not the request, failed.
        log.error("SQLite operation failed: %s", exc)
        raise ServiceUnavailableError("The gateway's database is unavailable; try again later.") from exc
    if file.identity is None:
        file.check(write=False)  # pins the identity of a file the first connection created
    return result


def _connected(source: _Source) -> contextlib.AbstractContextManager[sa.Connection]:
    """A connection for one transaction: one from the engine's pool, or the kept one ``source`` gives."""
    return source.connect() if isinstance(source, sa.Engine) else contextlib.nullcontext(source())


def _database_failed(error: BaseException) -> bool:
    """Whether a write failed because SQLite did (``_sqlite_tx``'s 503 for an OperationalError)."""
    return isinstance(error, ServiceUnavailableError) and isinstance(error.__cause__, sa.exc.OperationalError)


class _Busy(Exception):
    """Another connection holds SQLite's write lock (``_begin_now``): the write goes to the queue."""


def _begin_now(conn: sa.Connection) -> None:
    """``BEGIN IMMEDIATE`` on a connection whose busy timeout is 0 (``_SqliteWriter._used_by``):
    ``_Busy`` at once if the lock is taken."""
    try:
        driver_sql(conn, WRITE)
    except sa.exc.OperationalError as exc:
        if _busy(exc):
            raise _Busy from exc
        raise


def _busy(error: BaseException | None) -> bool:
    """Whether ``error`` is SQLite's "busy" (another connection holds a lock this one may not wait for)."""
    if not isinstance(error, sa.exc.OperationalError):
        return False
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY  # BUSY_RECOVERY, BUSY_SNAPSHOT too
