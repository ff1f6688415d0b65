"""Loaded by the gateway that ``bench/sqlite_create.py`` starts (this directory is put first on its
``PYTHONPATH``): gives every ``sqlite3`` connection the gateway opens a subclass that times each
``execute`` and ``commit`` (in order, each with its SQL), and keeps the last statements with their
values. The first SIGUSR2 starts timing; the second writes the timings and the kept statements to
``VIDGATE_BENCH_SQLITE_OUT`` (JSON).
Not part of the gateway: nothing under ``src/`` imports it."""

from __future__ import annotations

import collections
import json
import os
import signal
import sqlite3
import sqlite3.dbapi2
import time
from typing import Any

_KEPT = 200  # statements kept: several creates' worth
_timing = False
_timings: list[tuple[str, float]] = []  # (sql, seconds), in the order run
_recent: collections.deque[tuple[str, list[Any]]] = collections.deque(maxlen=_KEPT)


class _Timed(sqlite3.Connection):
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if not _timing:
            return super().execute(sql, parameters)
        start = time.perf_counter()
        try:
            return super().execute(sql, parameters)
        finally:
            _timings.append((sql, time.perf_counter() - start))
            _recent.append((sql, list(parameters)))

    def commit(self) -> None:
        if not _timing:
            return super().commit()
        start = time.perf_counter()
        try:
            return super().commit()
        finally:
            _timings.append(("COMMIT", time.perf_counter() - start))
            _recent.append(("COMMIT", []))


def _connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    kwargs.setdefault("factory", _Timed)
    conn: sqlite3.Connection = _original(*args, **kwargs)
    return conn


def _toggle(*_: Any) -> None:
    global _timing
    if not _timing:
        _timings.clear()
        _recent.clear()
        _timing = True
        return
    _timing = False
    with open(os.environ["VIDGATE_BENCH_SQLITE_OUT"], "w") as out:
        json.dump({"timings": _timings, "recent": list(_recent)}, out, default=str)


if os.environ.get("VIDGATE_BENCH_SQLITE_OUT"):
    _original = sqlite3.connect
    sqlite3.connect = _connect  # type: ignore[assignment]
    sqlite3.dbapi2.connect = _connect  # type: ignore[assignment]  # SQLAlchemy's pysqlite calls this one
    signal.signal(signal.SIGUSR2, _toggle)
