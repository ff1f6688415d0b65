"""Hot statements compiled once and, on SQLite, run on the driver's connection directly.

A SQLAlchemy Core ``execute`` of a cached statement costs 10-50 µs of Python (cache key, execution
context, result object, events), while pysqlite runs a small statement in 1-5 µs. A create runs about
twenty statements on the database's single writer, so that overhead, not SQLite, bounded creates per
second. :class:`Prepared` keeps the statement a Core construct (one source of SQL for both databases,
the dialect's rendering, its type processing) and on SQLite compiles it once per set of parameter
names, then executes the compiled string with the bind and result processors of the statement's own
types. A connection with event listeners (an instrument capturing statements, such as the query
plan tests) gets ``Connection.execute``, so every listener still sees every statement. Driver errors
are wrapped as SQLAlchemy's (``IntegrityError``, ``OperationalError``) so callers
and :func:`vidgate.store.sql.database._sqlite_tx` handle them as before. On PostgreSQL the compiled
SQL, its values already processed, runs on a cursor of SQLAlchemy's adapted driver (``_adapted``):
the adapter's transaction start, asyncpg's prepared-statement cache and the error translation stay
SQLAlchemy's, and a failure goes through the ``Connection``'s own handler (SQLAlchemy's exception, a
dropped connection invalidated); the per-execution cache key, parameter building, execution context
and result object are skipped (82 -> 42-68 µs a further statement in two runs, the driver alone 35-54:
``bench/store_overhead.py``). Result processors follow the driver's column types (PostgreSQL's
numeric types depend on them), read from the first result.

:func:`savepoint` is the same idea for ``SAVEPOINT``: SQLAlchemy's ``begin_nested`` compiles a new
clause per savepoint name (about 40 µs a pair against 1 µs on SQLite); the statements go to the driver
(SQLite) or its adapter's cursor (PostgreSQL).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

_Statement = sa.Select[Any] | sa.Insert | sa.Update | sa.Delete


class Rows:
    """What a prepared statement returned: its rows (already type-processed) and the row count."""

    __slots__ = ("keys", "rowcount", "rows")

    def __init__(self, keys: Sequence[str], rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self.keys = keys
        self.rows = rows
        self.rowcount = rowcount

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        """The first column of the first row, or None when there is no row."""
        return self.rows[0][0] if self.rows else None


class _Compiled:
    """One statement compiled for one dialect with one set of parameter names: its SQL and, per
    position, where the value comes from (the caller's dict, or a value fixed in the statement) and its
    type's bind processor. The names are part of the cache key, so each position's source is resolved
    here, once: a call takes the values with one ``itemgetter`` and runs only the positions whose type
    converts (a jobs row: 50 values, 7 of them converted)."""

    __slots__ = ("_dialect", "_fixed", "_get", "_missing", "_process", "_types", "results", "sql")

    def __init__(self, stmt: _Statement, dialect: Dialect, column_keys: list[str]) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=column_keys)
        if compiled.escaped_bind_names or any(b.expanding for b in compiled.binds.values()):
            raise ValueError("prepared statements take plain bind parameters (no IN lists, no escaped names)")
        self.sql = compiled.string
        given = set(column_keys)
        sources: list[str] = []  # the caller's names, in SQL order, for the positions they fill
        self._fixed: list[tuple[int, Any]] = []  # (position, value) of values fixed in the statement
        self._process: list[tuple[int, Callable[[Any], Any]]] = []
        self._missing: str | None = None  # a required bind no name fills: every call fails
        for position, name in enumerate(compiled.positiontup or ()):
            bind = compiled.binds[name]
            if bind.key in given or name in given:
                sources.append(bind.key if bind.key in given else name)
            elif bind.required:
                self._missing = self._missing or bind.key
            else:
                self._fixed.append((position, bind.effective_value))
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._process.append((position, processor))
        self._get = _getter(sources)
        self._types = [column.type.dialect_impl(dialect) for column in _returned(stmt)]
        self._dialect = dialect
        # SQLite's processors do not depend on the driver's column type; others' (PostgreSQL's numeric
        # types) do, and are set from the first result's description (``type_results``).
        self.results: list[tuple[int, Callable[[Any], Any]]] | None = (
            self._processors([None] * len(self._types)) if dialect.name == "sqlite" else None
        )

    def type_results(self, coltypes: Sequence[Any]) -> list[tuple[int, Callable[[Any], Any]]]:
        """The result processors for the driver's column types (once per statement)."""
        if self.results is None:
            self.results = self._processors(coltypes)
        return self.results

    def _processors(self, coltypes: Sequence[Any]) -> list[tuple[int, Callable[[Any], Any]]]:
        processors = [
            impl.result_processor(self._dialect, coltype)
            for impl, coltype in zip(self._types, coltypes, strict=True)
        ]
        # Only the columns whose type converts (JSON, Boolean): a jobs row has 50 columns and 5 of those.
        return [(i, p) for i, p in enumerate(processors) if p is not None]

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values in SQL order, as ``SQLCompiler.construct_params`` would resolve them."""
        if self._missing is not None:
            missing = sa.exc.InvalidRequestError(f"A value is required for bind parameter {self._missing!r}")
            raise sa.exc.StatementError(str(missing), self.sql, dict(params), missing)
        values = self._get(params)
        if not self._fixed and not self._process:
            return values
        filled = list(values)
        for position, value in self._fixed:
            filled.insert(position, value)
        for position, process in self._process:
            value = filled[position]
            if value is not None:
                filled[position] = process(value)
        return tuple(filled)


def _getter(names: list[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """``params`` -> the values of ``names``, as a tuple whatever their number."""
    if not names:
        return lambda params: ()
    if len(names) == 1:
        name = names[0]
        return lambda params: (params[name],)
    return operator.itemgetter(*names)


def _returned(stmt: _Statement) -> list[sa.ColumnElement[Any]]:
    """The columns a SELECT or a DML ``RETURNING`` gives back, in order (none for plain DML)."""
    exported = getattr(stmt, "exported_columns", None)
    return list(exported) if exported is not None else []


class Prepared:
    """A Core statement to execute with a dict of values (see the module docstring)."""

    __slots__ = ("_compiled", "keys", "stmt")

    def __init__(self, stmt: _Statement) -> None:
        self.stmt = stmt
        self.keys = [str(column.key) for column in _returned(stmt)]
        self._compiled: dict[tuple[str, str, tuple[str, ...]], _Compiled] = {}

    def run(self, conn: sa.Connection, params: Mapping[str, Any]) -> Rows:
        dialect = conn.dialect
        if conn._has_events or conn.engine._has_events:
            result = conn.execute(self.stmt, dict(params))
            rows = [tuple(row) for row in result] if result.returns_rows else []
            return Rows(self.keys, rows, result.rowcount)
        names = tuple(params)  # as given: one call site's dicts keep one order (sorting cost more)
        key = (dialect.name, dialect.paramstyle, names)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.stmt, dialect, list(names))
        values = compiled.parameters(params)
        if dialect.name == "sqlite":
            driver = conn.connection.dbapi_connection
            assert driver is not None
            try:
                cursor = driver.execute(compiled.sql, values)
                fetched = cursor.fetchall() if cursor.description is not None else []
            except dialect.loaded_dbapi.Error as exc:
                raise _wrapped(compiled.sql, values, exc, dialect) from exc
            rowcount = cursor.rowcount
            results = compiled.results or []
        else:
            fetched, rowcount, description = _adapted(conn, compiled.sql, values)
            results = compiled.type_results([column[1] for column in description]) if description else []
        if fetched and results:
            fetched = [_processed(row, results) for row in fetched]
        return Rows(self.keys, fetched, rowcount)


def _adapted(
    conn: sa.Connection, sql: str, values: tuple[Any, ...]
) -> tuple[list[tuple[Any, ...]], int, Any]:
    """``sql`` on a cursor of SQLAlchemy's adapted driver (asyncpg behind its DB-API face): the rows, the
    row count and the cursor's description. The adapter still begins the transaction, prepares and
    caches the statement and translates asyncpg's errors; a failure goes through the ``Connection``'s
    own handler, so it is raised as SQLAlchemy's exception and a dropped connection is invalidated
    (``connection_invalidated``), as ``exec_driver_sql`` would. Skipped: its execution context and
    result object, 14-40 µs a statement in two runs (``bench/store_overhead.py --database-url ...``).
    The handler is SQLAlchemy's private ``Connection._handle_dbapi_exception`` (what
    ``exec_driver_sql`` calls): the PostgreSQL tests of constraint errors and dropped connections fail
    if an upgrade changes it."""
    driver = conn.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(sql, values)
        description = cursor.description
        rows = [tuple(row) for row in cursor.fetchall()] if description is not None else []
        return rows, cursor.rowcount, description
    except Exception as exc:
        conn._handle_dbapi_exception(exc, sql, values, cursor, None)
        raise  # the handler raised already: SQLAlchemy's exception
    finally:
        cursor.close()


def _processed(row: tuple[Any, ...], processors: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    values = list(row)
    for i, process in processors:
        if values[i] is not None:
            values[i] = process(values[i])
    return tuple(values)


def _wrapped(sql: str, values: tuple[Any, ...], exc: Exception, dialect: Dialect) -> BaseException:
    return sa.exc.DBAPIError.instance(sql, values, exc, dialect.loaded_dbapi.Error, dialect=dialect)


# Both databases resolve a name to the newest open savepoint that has it, so nested savepoints may share
# one. A name per savepoint made every statement new text: asyncpg prepared each one on the server (a
# round trip) and pushed real statements out of the prepared-statement caches of both drivers.
_SAVEPOINT = "vg_savepoint"


@contextmanager
def savepoint(conn: sa.Connection) -> Iterator[None]:
    """A savepoint around the block: released when it returns, rolled back to when it raises. Sent to
    the driver directly, as ``Prepared`` sends its statements, unless listeners are on the engine
    (tests counting statements, tracing instrumentation): then through SQLAlchemy, so they see these
    statements as they see every other."""
    if conn._has_events or conn.engine._has_events:
        run = _observed_sql
    else:
        run = _sqlite_sql if conn.dialect.name == "sqlite" else _other_sql
    name = _SAVEPOINT  # one name: nested ones are told apart by order, as both databases define
    run(conn, f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        try:
            run(conn, f"ROLLBACK TO SAVEPOINT {name}")
            run(conn, f"RELEASE SAVEPOINT {name}")
        except sa.exc.DBAPIError:
            pass  # the database failed: the enclosing transaction fails with the error raised below
        raise
    run(conn, f"RELEASE SAVEPOINT {name}")


def _observed_sql(conn: sa.Connection, sql: str) -> None:
    conn.exec_driver_sql(sql)


def _sqlite_sql(conn: sa.Connection, sql: str) -> None:
    driver = conn.connection.dbapi_connection
    assert driver is not None
    _driver_sql(driver, conn.dialect, sql)


def _other_sql(conn: sa.Connection, sql: str) -> None:
    _adapted(conn, sql, ())


def _driver_sql(driver: Any, dialect: Dialect, sql: str) -> None:
    try:
        driver.execute(sql)
    except dialect.loaded_dbapi.Error as exc:
        raise _wrapped(sql, (), exc, dialect) from exc


def driver_sql(conn: sa.Connection, sql: str) -> None:
    """``sql`` (no parameters, no rows: BEGIN, SAVEPOINT) on the SQLite driver directly."""
    _sqlite_sql(conn, sql)


def driver_row(conn: sa.Connection, sql: str) -> tuple[Any, ...] | None:
    """The first row of ``sql`` (no parameters: a PRAGMA) run on the SQLite driver directly. Every row
    is fetched, so the statement is finished here rather than whenever its cursor is collected."""
    driver = conn.connection.dbapi_connection
    assert driver is not None
    try:
        rows: list[tuple[Any, ...]] = driver.execute(sql).fetchall()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(sql, (), exc, conn.dialect) from exc
    return rows[0] if rows else None
