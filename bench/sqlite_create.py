"""Where a create's SQLite time goes: its statements timed inside the gateway, then replayed outside it.

    .venv/bin/python bench/sqlite_create.py [--seconds 4] [--replays 3000] [--keep DIR]

Starts the fake upstream and a gateway on a SQLite file as ``bench/sidebyside.py`` does, with
``bench/sqlite_hook`` first on the gateway's ``PYTHONPATH``: its ``sitecustomize`` times every
``execute`` and ``commit`` of the driver's connections while creates run at 1 connection for
``--seconds``, and keeps the last statements with their values. Then, on a copy of the gateway's
database, the last create's two transactions (admission + write-ahead record, then the record of the
provider's answer) are replayed ``--replays`` times with fresh ids, on one connection set up as the
gateway's writer is:

- hot: statement after statement, as a loop doing nothing else runs them;
- thrashed: with a burst of Python allocations between statements (about what a create's Python does
  to the CPU caches between its statements in the gateway);

and once more, for 200 creates, reading the WAL after each commit: how many pages (WAL frames) each
transaction writes, per b-tree (SQLite's ``dbstat``, read before each create: the pages that create
allocated count as "new"). A commit writes each page it changed as one frame (two ``pwrite`` calls),
so these counts are what the schema costs every create.

Prints, per statement, the mean in the gateway, hot and thrashed (µs), and the frames per create.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import struct
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gateway import measured, signal_and_read
from bench.sidebyside import CREATE_BODY, limited_key, start_gateway, start_upstream

from vidgate.gateway.views import new_video_id

HOOK = Path(__file__).resolve().parent / "sqlite_hook"
WAL_HEADER = 32
FRAME_HEADER = 24
THRASH_OBJECTS = 3000  # small dicts allocated between two replayed statements
PAGES = "SELECT pageno, name FROM dbstat"  # which b-tree each page belongs to
FIRST_PAGE = "sqlite_schema (page 1: the file's size)"
_HEX32 = re.compile(r"[0-9a-f]{32}")

Statement = tuple[str, list[Any]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--replays", type=int, default=3000)
    parser.add_argument(
        "--keep", default=None, help="a directory: keep the gateway's database and timings there"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vidgate-sqlite-") as tmp:
        work = Path(tmp)
        captured = gateway_run(work, args.seconds)
        database = work / "vidgate.db"
        create = last_create(captured["recent"])
        if args.keep is not None:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            (Path(args.keep) / "sqlite.json").write_text(json.dumps(captured))
            copy_database(database, Path(args.keep) / "vidgate.db")
        inside = in_gateway(captured["timings"], [sql for sql, _ in create])
        hot = replay(database, work / "hot.db", create, args.replays, thrash=False)
        thrashed = replay(database, work / "thrashed.db", create, args.replays, thrash=True)
        print(
            f"\nSQLite statements of one create (µs, mean; {args.replays} replays on a copy of the database)"
        )
        print(f"  {'statement':58s} {'gateway':>8s} {'hot':>8s} {'thrashed':>9s}")
        totals = [0.0, 0.0, 0.0]
        for i, (sql, _) in enumerate(create):
            row = (inside[i] * 1e6, hot[i] * 1e6, thrashed[i] * 1e6)
            totals = [t + v for t, v in zip(totals, row, strict=True)]
            print(f"  {short(sql):58s} {row[0]:8.1f} {row[1]:8.1f} {row[2]:9.1f}")
        print(f"  {'per create':58s} {totals[0]:8.1f} {totals[1]:8.1f} {totals[2]:9.1f}")
        frames(database, work / "frames.db", create, 200)


def gateway_run(work: Path, seconds: float) -> dict[str, Any]:
    """Creates at 1 connection through a gateway with the hook: the hook's timings and statements."""
    out = work / "sqlite.json"
    os.environ["VIDGATE_BENCH_SQLITE_OUT"] = str(out)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HOOK), os.environ.get("PYTHONPATH", "")) if p)
    upstream = start_upstream(work, None, "starlette")
    gateway = start_gateway(work, upstream, f"sqlite:///{work / 'vidgate.db'}")
    try:
        auth = limited_key(gateway, "b")
        load: dict[str, Any] = dict(connections=1, method="POST", body=CREATE_BODY)
        measured(gateway, gateway.url, ["/v1/videos"], auth, seconds=1.0, **load)  # warm up
        os.kill(gateway.proc.pid, signal.SIGUSR2)  # the hook starts timing
        result, cpu = measured(gateway, gateway.url, ["/v1/videos"], auth, seconds=seconds, **load)
        signal_and_read(gateway.proc.pid, out)
        creates = len(result.latencies)
        print(f"gateway: {creates} creates at 1 connection, p50 {result.pct(50):.3f} ms, CPU {cpu:.0f} µs")
    finally:
        gateway.stop()
        upstream.stop()
    captured: dict[str, Any] = json.loads(out.read_text())
    return captured


def last_create(recent: list[list[Any]]) -> list[Statement]:
    """The last create's statements: from the BEGIN before its jobs INSERT to the COMMIT after the
    UPDATE that records the provider's answer."""
    statements = [(str(sql), list(values)) for sql, values in recent]
    insert = max(i for i, (sql, _) in enumerate(statements) if sql.startswith("INSERT INTO jobs "))
    begin = max(i for i in range(insert) if statements[i][0].startswith("BEGIN"))
    update = next(
        i for i in range(insert, len(statements)) if statements[i][0].startswith("UPDATE jobs SET native_id")
    )
    end = next(i for i in range(update, len(statements)) if statements[i][0] == "COMMIT")
    return statements[begin : end + 1]


def in_gateway(timings: list[list[Any]], sequence: list[str]) -> list[float]:
    """Each statement's mean seconds in the gateway, over every run of ``sequence`` (a create's
    statements) among the timed ones that no other write interleaved."""
    sqls = [str(sql) for sql, _ in timings]
    spent = [0.0] * len(sequence)
    runs = 0
    for start in range(len(sqls) - len(sequence) + 1):
        if sqls[start : start + len(sequence)] == sequence:
            runs += 1
            for i in range(len(sequence)):
                spent[i] += float(timings[start + i][1])
    return [s / runs if runs else float("nan") for s in spent]


def fresh(create: list[Statement]) -> list[Statement]:
    """``create`` with its job id (a new one from the gateway's minter: ids are time-ordered, so their
    index entries append), the provider's id and every other 32-hex id replaced by new random ones, so
    that a replay inserts new rows."""
    job_id = next(v[0] for sql, v in create if sql.startswith("INSERT INTO jobs "))
    native = next(v[0] for sql, v in create if sql.startswith("UPDATE jobs SET native_id"))
    tokens = {job_id: new_video_id(), native: f"video_{uuid.uuid4().hex}"}
    out: list[Statement] = []
    for sql, values in create:
        replaced = []
        for value in values:
            if isinstance(value, str):
                if _HEX32.fullmatch(value):
                    value = uuid.uuid4().hex
                for old, new in tokens.items():
                    value = value.replace(old, new)
            replaced.append(value)
        out.append((sql, replaced))
    return out


def copy_database(source: Path, copy: Path) -> None:
    """The database file with its WAL and shared-memory index, as they are."""
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{copy}{suffix}")


def connect(source: Path, copy: Path) -> sqlite3.Connection:
    """A copy of the database, opened as the gateway's writer connection is (``store/sql/database.py``)."""
    copy_database(source, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    return conn


def run(conn: sqlite3.Connection, sql: str, values: list[Any]) -> None:
    if sql == "COMMIT":
        conn.commit()  # as SQLAlchemy ends the gateway's transactions: the driver's commit()
    else:
        conn.execute(sql, values).fetchall()


def replay(source: Path, copy: Path, create: list[Statement], count: int, *, thrash: bool) -> list[float]:
    """Each statement's mean seconds over ``count`` replays (a PASSIVE checkpoint every 50 creates, as
    the gateway's writer thread does every 100 writes)."""
    conn = connect(source, copy)
    spent = [0.0] * len(create)
    clock = time.perf_counter
    junk: list[dict[str, int]] = []
    for n in range(count):
        for i, (sql, values) in enumerate(fresh(create)):
            if thrash:
                junk = [{"i": j} for j in range(THRASH_OBJECTS)]
            start = clock()
            run(conn, sql, values)
            spent[i] += clock() - start
        if n % 50 == 49:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    del junk
    conn.close()
    return [s / count for s in spent]


def frames(source: Path, copy: Path, create: list[Statement], count: int) -> None:
    """WAL frames each transaction of a create writes, per b-tree."""
    conn = connect(source, copy)
    try:
        owner = dict(conn.execute(PAGES).fetchall())  # as it stands before each create
    except sqlite3.OperationalError:
        print("\n(this SQLite has no dbstat table: frames per b-tree not counted)")
        return
    wal = Path(f"{copy}-wal")
    counts: collections.Counter[tuple[int, str]] = collections.Counter()
    per_tx: list[list[int]] = [[], []]
    for _ in range(count):
        tx = 0
        seen = wal.stat().st_size if wal.exists() else 0
        for sql, values in fresh(create):
            run(conn, sql, values)
            if sql == "COMMIT":
                pages = wal_pages(wal, seen)
                seen = wal.stat().st_size
                per_tx[tx].append(len(pages))
                for page in pages:
                    name = FIRST_PAGE if page == 1 else owner.get(page, "new page")
                    counts[(tx, name)] += 1
                tx += 1
        owner = dict(conn.execute(PAGES).fetchall())
    conn.close()
    admission, record = (statistics.fmean(c) for c in per_tx)
    print(f"\nWAL frames per create ({count} creates): admission {admission:.1f}, record {record:.1f}")
    print(f"  {'b-tree':46s} {'admission':>9s} {'record':>7s}")
    for name in sorted({n for _, n in counts}, key=lambda n: -(counts[(0, n)] + counts[(1, n)])):
        print(f"  {name:46s} {counts[(0, name)] / count:9.2f} {counts[(1, name)] / count:7.2f}")


def wal_pages(wal: Path, start: int) -> list[int]:
    """The page numbers of the frames written to ``wal`` from byte ``start`` on."""
    data = wal.read_bytes()
    page_size = struct.unpack(">I", data[8:12])[0]
    offset = max(start, WAL_HEADER)
    pages = []
    while offset + FRAME_HEADER + page_size <= len(data):
        pages.append(struct.unpack(">I", data[offset : offset + 4])[0])
        offset += FRAME_HEADER + page_size
    return pages


def short(sql: str) -> str:
    return sql if len(sql) <= 58 else sql[:55] + "..."


if __name__ == "__main__":
    main()
