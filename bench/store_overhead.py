"""CPU per write transaction: the gateway's ``Database.write`` against its database driver used directly.

    .venv/bin/python bench/store_overhead.py [--writes 2000] [--rounds 3]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Each write is one transaction of 1 or 5 single-row INSERTs into a scratch table, awaited one at a time
on one event loop (uvloop), as a create's writes are at 1 connection. The direct side is the driver
alone: ``sqlite3`` (``BEGIN IMMEDIATE`` / ``COMMIT``, WAL, ``synchronous = NORMAL``, as the gateway sets
it) on a SQLite file, or one ``asyncpg`` connection (``async with conn.transaction()``) on PostgreSQL
(a fresh database, dropped at the end). Rounds alternate; this process's CPU per write is printed for
each and the medians compared: what the gateway's store layer (SQLAlchemy, the writer, the pool) adds
to a transaction and to a statement.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sidebyside import database

from vidgate.store.sql.database import Database
from vidgate.store.sql.prepared import Prepared

TABLE = sa.table("bench_rows", sa.column("v", sa.Integer))
INSERT = Prepared(sa.insert(TABLE).values(v=sa.bindparam("b_v", type_=sa.Integer)))
CREATE = "CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"
CREATE_PG = "CREATE TABLE bench_rows (id serial PRIMARY KEY, v integer NOT NULL)"


def insert_rows(conn: sa.Connection, value: int, count: int) -> None:
    for _ in range(count):
        INSERT.run(conn, {"b_v": value})


class Sides:
    """The two ways of writing, each opened in the event loop that uses it."""

    def __init__(self, url: str, statements: int) -> None:
        self.url = url
        self.statements = statements

    def gateway(self, writes: int) -> float:
        async def run() -> float:
            db = Database(self.url)
            try:
                started = time.process_time()
                for i in range(writes):
                    await db.write(insert_rows, i, self.statements)
                return (time.process_time() - started) / writes * 1e6
            finally:
                await db.dispose()

        return uvloop.run(run())

    def direct(self, writes: int) -> float:
        if self.url.startswith("sqlite"):
            return self._sqlite(writes)
        return uvloop.run(self._asyncpg(writes))

    def _sqlite(self, writes: int) -> float:
        conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        try:
            started = time.process_time()
            for i in range(writes):
                conn.execute("BEGIN IMMEDIATE")
                for _ in range(self.statements):
                    conn.execute("INSERT INTO bench_rows (v) VALUES (?)", (i,))
                conn.execute("COMMIT")
            return (time.process_time() - started) / writes * 1e6
        finally:
            conn.close()

    async def _asyncpg(self, writes: int) -> float:
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(self.url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            started = time.process_time()
            for i in range(writes):
                async with conn.transaction():
                    for _ in range(self.statements):
                        await conn.execute("INSERT INTO bench_rows (v) VALUES ($1)", i)
            return (time.process_time() - started) / writes * 1e6
        finally:
            await conn.close()


def make_table(url: str) -> None:
    async def run() -> None:
        db = Database(url)
        try:
            ddl = CREATE if url.startswith("sqlite") else CREATE_PG
            await db.write(lambda conn: conn.execute(sa.text(ddl)))
        finally:
            await db.dispose()

    uvloop.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--writes", type=int, default=2000, help="write transactions per run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating direct/gateway rounds")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="vidgate-store-bench-") as tmp,
        database(args.database_url, Path(tmp)) as url,
    ):
        if not url.startswith("sqlite"):
            url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
        make_table(url)
        store = "SQLite file" if url.startswith("sqlite") else "PostgreSQL"
        print(f"{store}; {args.writes} write transactions per run, {args.rounds} alternating rounds")
        figures: dict[int, dict[str, float]] = {}
        for statements in (1, 5):
            sides = Sides(url, statements)
            cpu: dict[str, list[float]] = {"direct": [], "gateway": []}
            for _ in range(args.rounds):
                cpu["direct"].append(sides.direct(args.writes))
                cpu["gateway"].append(sides.gateway(args.writes))
            medians = {side: statistics.median(values) for side, values in cpu.items()}
            figures[statements] = medians
            rounds = {side: ", ".join(f"{v:.0f}" for v in values) for side, values in cpu.items()}
            print(
                f"\n{statements} INSERT{'s' if statements > 1 else ''} per transaction "
                f"(CPU µs per write transaction, this process)"
            )
            for side in ("direct", "gateway"):
                print(f"  {side:8s} {medians[side]:7.0f}   (rounds: {rounds[side]})")
            print(f"  gateway/direct: {medians['gateway'] / medians['direct']:.2f}")
        report(figures)


def report(figures: dict[int, dict[str, Any]]) -> None:
    """The fixed cost of a transaction and the cost of each further statement, on each side."""
    print("\nper transaction and per further statement (µs, from the 1- and 5-statement figures)")
    for side in ("direct", "gateway"):
        per_statement = (figures[5][side] - figures[1][side]) / 4
        fixed = figures[1][side] - per_statement
        print(f"  {side:8s} transaction {fixed:6.0f}   statement {per_statement:6.0f}")


if __name__ == "__main__":
    main()
