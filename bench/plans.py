"""The query planner's plan for every statement the hot store operations run, on a large store.

    .venv/bin/python bench/plans.py [--prefill 100000] [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Fills a fresh database (SQLite file, or a database created on the given PostgreSQL server and dropped
after) with ``--prefill`` finished jobs, their settled reservations and spend logs, then runs the
operations a create, a status poll, a listing, a poller round, a rate check, a settlement and a /metrics
scrape perform through the real stores (the same as ``tests/store/test_query_plans.py`` asserts on),
captures each SQL statement they send, and prints the planner's plan for it (``EXPLAIN QUERY PLAN`` on
SQLite, without statistics as the gateway leaves it; ``EXPLAIN`` on PostgreSQL after ``ANALYZE``, as
autovacuum would). A line marked ``SCAN`` (SQLite, without an index) or ``Seq Scan`` (PostgreSQL) on a
large table is a missing index.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sidebyside import database, prefill

from vidgate.gateway.ports import Stores
from vidgate.gateway.records import IdempotencyRecord, JobRecord, KeyQuery, KeyRecord, SpendEntry
from vidgate.store.factory import open_stores
from vidgate.store.sql.database import Database
from vidgate.store.sql.migrate import upgrade
from vidgate.store.sql.tables import rate_counts, rate_hits

LARGE = ("jobs", "reservations", "spend_logs", "rate_hits")


async def operations(url: str, content: Path) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Run each hot operation once; the statements (SQL, parameters) each sent."""
    stores = await open_stores(url, None, content)
    engine = stores.db.sync_engine
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "PRAGMA")):
            sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    now = time.time()
    key = KeyRecord(
        id="plan-key", key_hash="plan-hash", key_prefix="sk-plan", max_budget_micros=10**12, rpm_limit=10**6
    )
    job = JobRecord(
        id="video_plan",
        owner_key_id=key.id,
        model_name="sora-2",
        deployment_id="sora-2#0",
        provider="openai",
        native_id="video_native_plan",
        status="queued",
        created_at=int(now),
        size="720x1280",
        seconds="4",
        reserved_micros=400_000,
    )
    steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("key by hash (auth)", lambda: stores.keys.get_by_hash("plan-hash")),
        ("rate check", lambda: stores.admission.check_rate(key.id, 10**6, now=now)),
        ("slot", lambda: stores.admission.acquire_slot(key.id, job.id, 10**6)),
        ("reserve", lambda: stores.ledger.reserve(key, job.id, 400_000, now=int(now))),
        ("job insert", lambda: stores.jobs.insert(job)),
        ("job by id (status poll)", lambda: stores.jobs.get(job.id)),
        (
            "job by native id (pass-through poll)",
            lambda: stores.jobs.find_by_native("sora-2#0", "video_prefill_7"),
        ),
        (
            "refresh lease (stale status poll)",
            lambda: stores.jobs.try_lease(job.id, "plan", now=now, lease_seconds=30),
        ),
        ("lease release after refresh", lambda: stores.jobs.release_lease(job.id, "plan")),
        (
            "listing",
            lambda: stores.jobs.list_for_owner("prefill-owner-7", after=None, limit=20, order="desc"),
        ),
        (
            "listing after a cursor",
            lambda: stores.jobs.list_for_owner("prefill-owner-7", after=job.id, limit=20, order="desc"),
        ),
        (
            "master key's listing",
            lambda: stores.jobs.list_for_owner(None, after=None, limit=20, order="desc"),
        ),
        (
            "master key's listing after a cursor",
            lambda: stores.jobs.list_for_owner(None, after=job.id, limit=20, order="desc"),
        ),
        ("key list (/key/list), newest first", lambda: stores.keys.page(KeyQuery())),
        (
            "idempotency claim",
            lambda: stores.idempotency.claim(
                IdempotencyRecord(key.id, "idem-plan", "fp", "claim", int(now)),
                replace_before=int(now) - 86400,
                unlinked_before=int(now) - 60,
            ),
        ),
        ("idempotency link", lambda: stores.idempotency.link(key.id, "idem-plan", "claim", job.id)),
        ("poller claim", lambda: stores.jobs.claim_due("plan", now=now + 3600, lease_seconds=30, limit=32)),
        ("lease release", lambda: stores.jobs.release_lease(job.id, "plan")),
        (
            "poller claim of owed cancels",
            lambda: stores.cancels.claim_due("plan", now=now + 3600, lease_seconds=30, limit=8),
        ),
        ("poller saves (a group)", lambda: saves(stores, job.id)),
        ("idempotency prune", lambda: stores.idempotency.prune(before=int(now) - 86400, limit=100)),
        ("stranded reservations", lambda: stores.ledger.stranded(before=int(now), limit=100)),
        (
            "settle",
            lambda: stores.ledger.settle(
                SpendEntry(
                    "spend-plan", key.id, job.id, "sora-2", "sora-2#0", 4.0, "720x1280", 400_000, int(now)
                )
            ),
        ),
        ("slot release", lambda: stores.admission.release_slot(key.id, job.id)),
        (
            "spend logs of a key",
            lambda: stores.ledger.spend_logs(key_id=key.id, start=None, end=None, limit=50),
        ),
        ("/metrics jobs by status", lambda: stores.jobs.count_by_status()),
    ]
    captured = []
    try:
        await stores.keys.create(key)
        for name, step in steps:
            sent.clear()
            await step()
            captured.append((name, list(sent)))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
        await stores.close()
    return captured


async def saves(stores: Stores, job_id: str) -> list[bool]:
    job = await stores.jobs.get(job_id)
    assert job is not None
    return await stores.jobs.save_many([job])


async def explain(url: str, captured: list[tuple[str, list[tuple[str, Any]]]]) -> None:
    db = Database(url)
    try:

        def plans(conn: sa.Connection) -> None:
            sqlite = conn.dialect.name == "sqlite"
            if not sqlite:  # autovacuum analyzes PostgreSQL; the gateway never runs ANALYZE on SQLite
                conn.exec_driver_sql("ANALYZE")
            for name, statements in captured:
                print(f"\n== {name}")
                for statement, params in statements:
                    print("   " + " ".join(statement.split())[:160])
                    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
                    rows = conn.exec_driver_sql(prefix + statement, params).all()
                    for row in rows:
                        line = str(row[-1]) if sqlite else str(row[0])
                        flag = ""
                        if any(t in line for t in LARGE) and (
                            (sqlite and line.startswith("SCAN") and "INDEX" not in line) or "Seq Scan" in line
                        ):
                            flag = "   <-- full scan of a large table"
                        elif "TEMP B-TREE" in line or line.lstrip(" ->").startswith(
                            ("Sort ", "Incremental Sort")
                        ):
                            flag = "   <-- a sort"
                        print(f"      {line}{flag}")

        await db.write(plans)
    finally:
        await db.dispose()


async def fill_rate_window(url: str, count: int) -> None:
    """A full minute of hits for the key the rate check uses (1,000 requests a second)."""
    now = time.time()
    rows = [
        {"id": f"hit{i}", "key_id": "plan-key", "at": now - 59 + i / max(count, 1) * 59} for i in range(count)
    ]
    db = Database(url)
    try:
        await db.write(insert_hits, rows)
    finally:
        await db.dispose()


def insert_hits(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(rate_hits.insert(), rows)
        conn.execute(rate_counts.insert().values(key_id="plan-key", hits=len(rows)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prefill", type=int, default=100_000)
    parser.add_argument("--rate-hits", type=int, default=60_000, help="hits in the rate key's window")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="vidgate-plans-") as tmp,
        database(args.database_url, Path(tmp)) as url,
    ):
        asyncio.run(migrate(url))
        took = prefill(url, args.prefill)
        asyncio.run(fill_rate_window(url, args.rate_hits))
        store = "PostgreSQL" if args.database_url else "SQLite"
        print(f"{args.prefill} finished jobs prefilled in {took:.1f} s, {args.rate_hits} rate hits ({store})")
        captured = asyncio.run(operations(url, Path(tmp) / "content"))
        asyncio.run(explain(url, captured))


async def migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


if __name__ == "__main__":
    main()
