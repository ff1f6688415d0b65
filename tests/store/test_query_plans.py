"""Every statement the hot store operations send is answered through an index, never a full scan or a
sort of rows that grow with the store: the planner's plan shape, on SQLite and PostgreSQL (no timings).

The operations run through the real SQL stores against a store of finished jobs (with their settled
reservations and spend logs), pending jobs, keys, idempotency keys, rate hits and owed cancels,
analyzed, and each statement they send is captured and explained. SQLite: no ``SCAN`` line (a whole
table or index read) and no ``USE TEMP B-TREE`` (a sort). PostgreSQL: sequential scans are priced out
(``enable_seqscan = off``: a table this small would rightly be read whole; a ``Seq Scan`` left in the
plan has no index to use), and no ``Sort`` node. Where more than one index could serve, the one meant
to is named. ``bench/plans.py`` prints the same plans on 100,000 jobs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from tests.store.factories import make_entry, make_job, make_key

from vidgate.gateway.ports import JobStarts
from vidgate.gateway.records import IdempotencyRecord, KeyQuery
from vidgate.store.factory import SqlStores, open_stores
from vidgate.store.sql.rows import entry_to_row, job_to_row, key_to_row
from vidgate.store.sql.tables import (
    idempotency_keys,
    jobs,
    keys,
    owed_cancels,
    rate_counts,
    rate_hits,
    reservations,
    slots,
    spend_logs,
)

OWNERS = 40
FINISHED = 6000
PENDING = 300
NOW = 1_800_000_000
KEY = "owner-7"
_SORT_NODE = re.compile(r"^\s*(->\s+)?(Incremental )?Sort\s+\(")
_SKIP = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "PRAGMA", "SELECT PG_ADVISORY")


def _analyze(conn: sa.Connection) -> None:
    conn.exec_driver_sql("ANALYZE")


def _fill(conn: sa.Connection) -> None:
    conn.execute(
        keys.insert(), [key_to_row(make_key(f"owner-{n}", max_budget_micros=10**12)) for n in range(OWNERS)]
    )
    job_rows, held, logs = [], [], []
    for i in range(FINISHED):
        owner = f"owner-{i % OWNERS}"
        created = NOW - 30 * 86400 + i * 400
        job = make_job(
            f"video_done_{i:05d}",
            owner=owner,
            created_at=created,
            status="completed",
            progress=100,
            completed_at=created + 60,
            cost_micros=1000,
            content_stored=True,
            next_poll_at=created + 60,
            deleted=i % 50 == 0,
        )
        job_rows.append(job_to_row(job))
        held.append(_reservation(job.id, owner, "settled", created))
        logs.append(entry_to_row(make_entry(job.id, 1000, key_id=owner, at=created + 60)))
    for i in range(PENDING):
        owner = f"owner-{i % OWNERS}"
        created = NOW - 600 + i
        job = make_job(
            f"video_live_{i:05d}", owner=owner, created_at=created, status="in_progress", next_poll_at=NOW + i
        )
        job_rows.append(job_to_row(job))
        held.append(_reservation(job.id, owner, "reserved", created))
    conn.execute(jobs.insert(), job_rows)
    conn.execute(reservations.insert(), held)
    conn.execute(spend_logs.insert(), logs)
    conn.execute(
        slots.insert(),
        [{"job_id": r["job_id"], "key_id": r["key_id"], "acquired_at": NOW} for r in held[FINISHED:]],
    )
    idem = [
        {
            "owner_key_id": f"owner-{i % OWNERS}",
            "key": f"idem-{i}",
            "fingerprint": "f",
            "claim": "c",
            "created_at": NOW - i * 20,
            "job_id": None,
        }
        for i in range(2000)
    ]
    conn.execute(idempotency_keys.insert(), idem)
    conn.execute(
        rate_hits.insert(),
        [{"id": f"hit{i}", "key_id": f"owner-{i % OWNERS}", "at": NOW - 59 + i / 100} for i in range(4000)],
    )
    conn.execute(rate_counts.insert(), [{"key_id": f"owner-{n}", "hits": 100} for n in range(OWNERS)])
    conn.execute(
        owed_cancels.insert(),
        [
            {
                "deployment_id": "d1",
                "native_id": f"late-{i}",
                "video_id": f"video_late_{i:05d}",
                "provider": "local",
                "tries": i % 18,
                "next_try_at": NOW - 10 + i * 30,  # a few due, the rest backing off
                "created_at": NOW - 3600,
                "lease_owner": None,
                "lease_expires_at": None,
            }
            for i in range(500)
        ],
    )


def _reservation(job_id: str, key_id: str, state: str, at: int) -> dict[str, Any]:
    cost = 1000 if state == "settled" else None
    return {
        "job_id": job_id,
        "key_id": key_id,
        "micros": 1000,
        "state": state,
        "cost_micros": cost,
        "created_at": at,
        "updated_at": at,
    }


@dataclass
class Step:
    name: str
    run: Callable[[SqlStores], Awaitable[Any]]
    # An index that must serve the step's statements (when more than one could).
    index: str | None = None
    # The statement reads ``index`` from one end in its order and stops at its LIMIT (the master key's
    # first page): SQLite calls that a SCAN, but it reads a page, not the table.
    walk: bool = False
    # PostgreSQL may sort what is left after the filter instead of walking the index in order: the
    # reaper's stranded reservations (held, and no job row: a handful after a crash), not the store.
    sorts_filtered: bool = False
    # The name SQLite gives ``index`` when it differs (a primary key's ``sqlite_autoindex_*``).
    sqlite_index: str | None = None
    # The step also counts every matching row (``/key/list``'s total): that ``count(*)`` reads them all
    # (a whole covering index, or the table when a filter needs a column), so it is only checked for sorts.
    counts: bool = False


def _steps() -> list[Step]:
    key = make_key(KEY, max_budget_micros=10**12, rpm_limit=10**6, max_parallel_requests=10**6)
    new = make_job("video_new", owner=KEY, created_at=NOW, status="queued", next_poll_at=NOW + 5)
    idem = IdempotencyRecord(KEY, "idem-new", "fp", "claim-1", NOW)
    return [
        Step("key by hash (auth)", lambda s: s.keys.get_by_hash("h-" + KEY)),
        Step("key by id (budget read)", lambda s: s.keys.get(KEY)),
        Step(
            "idempotency claim",
            lambda s: s.idempotency.claim(idem, replace_before=NOW - 86400, unlinked_before=NOW - 60),
        ),
        Step(
            "create: rate, reservation, slot, insert (one transaction)",
            lambda s: _starts(s).admit_and_insert(
                key, new, 1000, rpm_limit=10**6, slot_limit=10**6, now=float(NOW)
            ),
        ),
        Step("idempotency link", lambda s: s.idempotency.link(KEY, "idem-new", "claim-1", new.id)),
        Step("rate check alone", lambda s: s.admission.check_rate(KEY, 10**6, now=float(NOW))),
        Step("status poll by id (and content lookup)", lambda s: s.jobs.get("video_done_00007")),
        Step("pass-through poll by native id", lambda s: s.jobs.find_by_native("d1", "n-video_done_00007")),
        Step(
            "refresh lease",
            lambda s: s.jobs.try_lease("video_live_00007", "w", now=float(NOW), lease_seconds=30),
        ),
        Step("lease release", lambda s: s.jobs.release_lease("video_live_00007", "w")),
        Step(
            "listing of an owner, newest first",
            lambda s: s.jobs.list_for_owner(KEY, after=None, limit=20, order="desc"),
            "ix_jobs_owner_listing",
        ),
        Step(
            "listing of an owner after a cursor",
            lambda s: s.jobs.list_for_owner(KEY, after="video_done_03007", limit=20, order="desc"),
            "ix_jobs_owner_listing",
        ),
        Step(
            "listing of an owner, oldest first, after a cursor",
            lambda s: s.jobs.list_for_owner(KEY, after="video_done_03007", limit=20, order="asc"),
            "ix_jobs_owner_listing",
        ),
        Step(
            "master key's listing",
            lambda s: s.jobs.list_for_owner(None, after=None, limit=20, order="desc"),
            "ix_jobs_listing",
            walk=True,
        ),
        Step(
            "master key's listing after a cursor",
            lambda s: s.jobs.list_for_owner(None, after="video_done_03007", limit=20, order="asc"),
            "ix_jobs_listing",
        ),
        Step(
            "poller claim",
            lambda s: s.jobs.claim_due("poller", now=float(NOW + 100), lease_seconds=30, limit=32),
            "ix_jobs_claim",
        ),
        Step(
            "poller claim of owed cancels",
            lambda s: s.cancels.claim_due("poller", now=float(NOW + 100), lease_seconds=30, limit=8),
            "ix_owed_cancels_due",
        ),
        Step(
            "key list (/key/list), newest first",
            lambda s: s.keys.page(KeyQuery()),
            "ix_keys_listing",
            walk=True,
            counts=True,
        ),
        Step(
            "key list, oldest first, a later page",
            lambda s: s.keys.page(KeyQuery(offset=20, descending=False)),
            "ix_keys_listing",
            walk=True,
            counts=True,
        ),
        Step(
            "key list of live keys",
            lambda s: s.keys.page(KeyQuery(revoked=False)),
            "ix_keys_listing",
            walk=True,
            counts=True,
        ),
        Step(
            "key list by token",
            lambda s: s.keys.page(KeyQuery(sort="token")),
            "pk_keys",
            walk=True,
            counts=True,
            sqlite_index="sqlite_autoindex_keys_1",
        ),
        Step("poller save", _save_live),
        Step(
            "settle", lambda s: s.ledger.settle(make_entry("video_live_00001", 900, key_id="owner-1", at=NOW))
        ),
        Step("release", lambda s: s.ledger.release("owner-2", "video_live_00002")),
        Step("slot release", lambda s: s.admission.release_slot("owner-3", "video_live_00003")),
        Step(
            "stranded reservations (reaper)",
            lambda s: s.ledger.stranded(before=NOW - 60, limit=100),
            "ix_reservations_state_created",
            sorts_filtered=True,
        ),
        Step("idempotency prune (reaper)", lambda s: s.idempotency.prune(before=NOW - 86400, limit=100)),
        Step(
            "spend logs of a key",
            lambda s: s.ledger.spend_logs(key_id=KEY, start=None, end=None, limit=50),
            "ix_spend_logs_key_time",
        ),
        Step(
            "spend logs of a period",
            lambda s: s.ledger.spend_logs(key_id=None, start=NOW - 86400, end=NOW, limit=50),
            "ix_spend_logs_time",
        ),
    ]


def _starts(stores: SqlStores) -> JobStarts:
    assert stores.starts is not None  # SQL without Redis: admission and write-ahead in one transaction
    return stores.starts


async def _save_live(stores: SqlStores) -> bool:
    job = await stores.jobs.get("video_live_00010")
    assert job is not None
    job.progress = 60
    return await stores.jobs.save(job)


@contextmanager
def _captured(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if not statement.lstrip().upper().startswith(_SKIP):
            sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _explain(conn: sa.Connection, statement: str, params: Any) -> list[str]:
    if conn.dialect.name == "sqlite":
        return [str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return [str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + statement, params)]


def _problems(dialect: str, statement: str, plan: list[str], step: Step) -> list[str]:
    counted = step.counts and statement.lstrip().upper().startswith("SELECT COUNT(")
    if dialect == "sqlite":
        walk = f"USING INDEX {step.sqlite_index or step.index}" if step.walk else None
        return [
            line
            for line in plan
            if (line.startswith("SCAN ") and not (walk and line.endswith(walk)) and not counted)
            or "TEMP B-TREE" in line
        ]
    sorts = [line for line in plan if _SORT_NODE.search(line)]
    if step.sorts_filtered and all("rows=1 " in line for line in sorts):
        sorts = []  # the planner expects the filter to leave a row or so: see ``Step.sorts_filtered``
    return [line for line in plan if "Seq Scan" in line and not counted] + sorts


async def _check_plans(url: str, content: Path, *, analyzed: bool) -> None:
    stores = await open_stores(url, None, content)
    assert isinstance(stores, SqlStores)
    try:
        await stores.db.write(_fill)
        if analyzed:
            await stores.db.write(_analyze)
        for step in _steps():
            with _captured(stores.db.sync_engine) as sent:
                await step.run(stores)
            assert sent, step.name
            plans: list[tuple[str, list[str]]] = []
            for statement, params in sent:
                plan = await stores.db.write(_explain, statement, params)
                plans.append((statement, plan))
            shown = "\n".join(" ".join(s.split())[:200] + "\n    " + "\n    ".join(p) for s, p in plans)
            dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
            bad = [line for statement, plan in plans for line in _problems(dialect, statement, plan, step)]
            assert not bad, f"{step.name}: a scan or sort that grows with the store\n{shown}"
            index = step.sqlite_index if dialect == "sqlite" and step.sqlite_index else step.index
            if index is not None:
                assert any(index in line for _, plan in plans for line in plan), f"{step.name}\n{shown}"
    finally:
        await stores.close()


@pytest.mark.parametrize("analyzed", [False, True], ids=["as-the-gateway-leaves-it", "analyzed"])
async def test_sqlite_hot_statements_use_indexes(tmp_path: Path, analyzed: bool) -> None:
    # The gateway never runs ANALYZE on SQLite, so the planner usually has no statistics: the plans
    # must be right without them (and stay right with them).
    await _check_plans(f"sqlite:///{tmp_path / 'plans.db'}", tmp_path / "content", analyzed=analyzed)


@pytest.mark.postgres
async def test_postgres_hot_statements_use_indexes(fresh_pg_url: str, tmp_path: Path) -> None:
    # Autovacuum analyzes PostgreSQL tables as they grow: plans are checked with statistics.
    await _check_plans(fresh_pg_url, tmp_path / "content", analyzed=True)
