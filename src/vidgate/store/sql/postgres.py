"""How a PostgreSQL write, read or snapshot read runs: whole (connect, statements, commit, close) in
one greenlet on the async engine's sync face, where ``AsyncEngine.begin`` and ``run_sync`` spawned one
greenlet each to connect, begin, run, commit and close. Same pool, statements and errors: a 1-INSERT
write transaction took 402 µs of CPU and takes 248 (``bench/store_overhead.py --database-url ...``),
creates at 8 connections 290-318 -> 313-352/s.

A connection PostgreSQL dropped (a restart, a failover, an idle timeout in a proxy) is found dead by
the first statement on it; the write or read then runs once more on a fresh connection. A write is
retried only when the failure came from its own statements: nothing was committed. A failed COMMIT is
not retried (the transaction may have committed).

``write_one`` runs a write of one statement in autocommit, its own transaction: no BEGIN and COMMIT
round trips (3 -> 1). A pooled connection already closed is replaced before the statement is sent; once
sent, a failure is raised, not retried, as for a failed COMMIT (it may have committed)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import greenlet_spawn

# Connections the engine opens as concurrency asks for them, and keeps. SQLAlchemy closes an overflow
# connection as soon as it is handed back with the pool full, so a load just above the kept size (16
# listings at once against 10 kept and 20 overflow) opened and closed a connection every few requests:
# a connect is several round trips (asyncpg asks for TLS first), which put listings' p99 at 50-160 ms.
POOL_SIZE = 30
MAX_OVERFLOW = 0

P = ParamSpec("P")
T = TypeVar("T")


async def write(
    engine: sa.Engine, fn: Callable[Concatenate[sa.Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """``fn(conn, ...)`` in a transaction on ``engine`` (an async engine's ``sync_engine``)."""
    for attempt in range(2):
        try:
            return await greenlet_spawn(
                functools.partial(_transaction, engine, attempt == 0, fn, *args, **kwargs)
            )
        except _Reconnect:
            continue
    raise AssertionError("unreachable")


async def write_one(
    engine: sa.Engine, fn: Callable[Concatenate[sa.Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """``fn(conn, ...)``, which runs one statement, in autocommit (see the module docstring)."""
    return await greenlet_spawn(functools.partial(_autocommit, engine, fn, *args, **kwargs))


async def read(
    engine: sa.Engine, fn: Callable[Concatenate[sa.Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """``fn(conn, ...)`` for one statement in autocommit: no BEGIN/ROLLBACK round trips."""
    return await _read_again(functools.partial(_isolated, engine, "AUTOCOMMIT", fn, *args, **kwargs))


async def snapshot(
    engine: sa.Engine, fn: Callable[Concatenate[sa.Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """``fn(conn, ...)`` whose statements all see one state: a REPEATABLE READ transaction."""
    return await _read_again(functools.partial(_isolated, engine, "REPEATABLE READ", fn, *args, **kwargs))


async def _read_again(call: Callable[[], T]) -> T:
    """``call`` in a greenlet, once more if its connection turned out dead (a read changes nothing)."""
    for attempt in range(2):
        try:
            return await greenlet_spawn(call)
        except DBAPIError as exc:
            if attempt == 0 and exc.connection_invalidated:
                continue
            raise
    raise AssertionError("unreachable")


class _Reconnect(Exception):
    """A write's connection turned out dead before its transaction committed: run it again once."""


def _transaction(
    engine: sa.Engine,
    retry: bool,
    fn: Callable[Concatenate[sa.Connection, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``fn(conn, ...)`` in a transaction: committed on return. ``retry``: a connection found dead while
    ``fn`` ran (nothing was committed) raises ``_Reconnect`` for the caller to run it again."""
    with engine.begin() as conn:
        try:
            return fn(conn, *args, **kwargs)
        except DBAPIError as exc:
            if retry and exc.connection_invalidated:
                raise _Reconnect from exc  # rolled back: nothing was committed
            raise


def _autocommit(
    engine: sa.Engine, fn: Callable[Concatenate[sa.Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    # The pool may hold up to POOL_SIZE connections PostgreSQL closed (a restart): each is dropped in turn.
    for attempt in range(POOL_SIZE + 1):
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            if attempt < POOL_SIZE and driver is not None and driver.is_closed():
                conn.invalidate()
                continue
            return fn(conn.execution_options(isolation_level="AUTOCOMMIT"), *args, **kwargs)
    raise AssertionError("unreachable")


def _isolated(
    engine: sa.Engine,
    level: str,
    fn: Callable[Concatenate[sa.Connection, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level=level)
        if level == "AUTOCOMMIT":
            return fn(conn, *args, **kwargs)
        with conn.begin():
            return fn(conn, *args, **kwargs)
