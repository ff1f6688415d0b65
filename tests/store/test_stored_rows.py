"""Saves send only the columns that changed since the version the job was read at (``StoredRows``),
and what is stored is the same as when every column was sent."""

from __future__ import annotations

import asyncio
import functools
import os
import re
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from tests.store.conftest import Backend
from tests.store.factories import make_job, make_key

from vidgate.gateway.records import JobRecord
from vidgate.store.factory import open_stores
from vidgate.store.sql.stored_rows import ALWAYS_SENT, StoredRows


def test_json_columns_are_always_sent() -> None:
    assert {"native_payload", "outputs"} == ALWAYS_SENT


def test_changes_are_the_columns_that_differ_at_the_remembered_version() -> None:
    rows = StoredRows()
    rows.remember({"id": "v1", "version": 3, "status": "queued", "progress": 0, "native_payload": {}})
    values = {"status": "queued", "progress": 40, "native_payload": {"a": 1}, "version": 4}
    assert rows.changes("v1", 3, values) == {"progress": 40, "native_payload": {"a": 1}, "version": 4}
    assert rows.changes("v1", 2, values) is values  # another version: everything
    assert rows.changes("v2", 3, values) is values  # never seen: everything
    rows.forget("v1")
    assert rows.changes("v1", 3, values) is values


def test_a_column_the_remembered_row_lacks_is_sent() -> None:
    rows = StoredRows()
    rows.remember({"id": "v1", "version": 0, "status": "queued"})
    assert rows.changes("v1", 0, {"status": "queued", "task": "edit"}) == {"task": "edit"}


def test_the_oldest_row_is_forgotten_past_the_limit() -> None:
    rows = StoredRows(limit=2)
    for name in ("a", "b", "c"):
        rows.remember({"id": name, "version": 0, "status": "queued"})
    assert len(rows) == 2
    assert rows.changes("a", 0, {"status": "queued"}) == {"status": "queued"}
    assert rows.changes("c", 0, {"status": "queued"}) == {}


async def _assert_stored(backend: Backend, job: JobRecord) -> None:
    assert await backend.stores.jobs.get(job.id) == job


async def test_every_change_is_stored_across_saves_leases_and_another_writer(backend: Backend) -> None:
    """Each save sends only what changed; the stored row is the record every time, also when another
    store (another process) wrote the job in between and when a payload is changed in place."""
    jobs = backend.stores.jobs
    job = make_job("video_diff", submitting=True, native_id="", native_payload={"n": 0})
    await jobs.insert(job)
    job.native_id, job.submitting, job.next_poll_at = "native-1", False, 50.0
    assert await jobs.save(job)
    await _assert_stored(backend, job)
    job.native_payload["n"] = 1  # changed in place: still sent
    job.progress, job.status = 30, "in_progress"
    assert await jobs.save(job)
    await _assert_stored(backend, job)

    if backend.database_url is not None:  # a second process's store, on the same database
        other = await open_stores(backend.database_url, None, backend.content_dir, migrate=False)
        try:
            theirs = await other.jobs.get(job.id)
            assert theirs is not None
            theirs.progress, theirs.error_message = 60, "slow"
            assert await other.jobs.save(theirs)
        finally:
            await other.close()
        assert not await jobs.save(job)  # stale: refused, as a full save would be
        fresh = await jobs.get(job.id)
        assert fresh is not None
        assert (fresh.progress, fresh.error_message) == (60, "slow")
        job = fresh

    leased = await jobs.try_lease(job.id, "worker-1", now=100.0, lease_seconds=30.0)
    assert leased is not None
    leased.status, leased.progress, leased.completed_at = "completed", 100, 120
    leased.lease_owner = leased.lease_expires_at = None
    leased.outputs = ("video_output_2",)
    assert await jobs.save(leased)
    await _assert_stored(backend, leased)
    (claimed,) = await jobs.claim_due("worker-2", now=10_000.0, lease_seconds=30.0, limit=10)  # to copy
    claimed.content_stored, claimed.deleted = True, True
    claimed.lease_owner = claimed.lease_expires_at = None
    assert await jobs.save(claimed)
    await _assert_stored(backend, claimed)


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'vidgate.db'}"


async def test_a_save_after_the_write_ahead_insert_sets_only_what_changed(tmp_path: Path) -> None:
    stores = await open_stores(_sqlite_url(tmp_path), None, tmp_path / "content")
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    try:
        job = make_job("video_sets", submitting=True, native_id="", lease_owner="me", lease_expires_at=9.0)
        await stores.jobs.insert(job)
        job.native_id, job.submitting, job.lease_owner, job.lease_expires_at = "native-1", False, None, None
        sa.event.listen(stores.db.sync_engine, "before_cursor_execute", seen)
        assert await stores.jobs.save(job)
        sa.event.remove(stores.db.sync_engine, "before_cursor_execute", seen)
    finally:
        await stores.close()
    (update,) = [s for s in statements if s.startswith("UPDATE jobs")]
    assigned = re.findall(r"(\w+)=\?", update.split(" WHERE ")[0])
    changed = ["native_id", "submitting", "lease_owner", "lease_expires_at", "version"]
    assert sorted(assigned) == sorted([*changed, "native_payload", "outputs"])  # JSON: always sent


async def test_the_save_after_a_start_sets_only_what_changed(tmp_path: Path) -> None:
    """The gateway inserts the write-ahead row through ``starts`` (admission and insert in one
    transaction) and saves it through ``jobs``: the two stores share what they remember. They did not
    (an empty ``StoredRows`` is falsy, and ``rows or StoredRows()`` made a second one), so the save after
    every create sent every column."""
    stores = await open_stores(_sqlite_url(tmp_path), None, tmp_path / "content")
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    try:
        assert stores.starts is not None
        key = make_key(max_budget_micros=1_000_000, max_parallel_requests=2)
        await stores.keys.create(key)
        job = make_job("video_start", submitting=True, native_id="", lease_owner="me", lease_expires_at=9.0)
        await stores.starts.admit_and_insert(key, job, 400_000, rpm_limit=10, slot_limit=2, now=1000)
        job.native_id, job.submitting, job.lease_owner, job.lease_expires_at = "native-1", False, None, None
        sa.event.listen(stores.db.sync_engine, "before_cursor_execute", seen)
        assert await stores.jobs.save(job)
        sa.event.remove(stores.db.sync_engine, "before_cursor_execute", seen)
        assert await stores.jobs.get(job.id) == job
    finally:
        await stores.close()
    (update,) = [s for s in statements if s.startswith("UPDATE jobs")]
    assigned = re.findall(r"(\w+)=\?", update.split(" WHERE ")[0])
    changed = ["native_id", "submitting", "lease_owner", "lease_expires_at", "version"]
    assert sorted(assigned) == sorted([*changed, "native_payload", "outputs"])


def _wal_frames_after(path: Path, save: Callable[[], Awaitable[bool]]) -> Awaitable[int]:
    """The pages ``save`` wrote: the WAL is emptied first (a TRUNCATE checkpoint), and each page a
    transaction writes is one frame (its 24-byte header and the page) after the WAL's 32-byte header."""

    async def run() -> int:
        other = sqlite3.connect(path)
        try:
            for _ in range(500):  # busy while the writer thread's own checkpoint runs: SQLite has one
                busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if busy == 0:
                    break
                await asyncio.sleep(0.01)
            page = int(other.execute("PRAGMA page_size").fetchone()[0])
        finally:
            other.close()
        assert busy == 0
        assert await save()
        size = os.stat(f"{path}-wal").st_size
        assert (size - 32) % (24 + page) == 0
        return (size - 32) // (24 + page)

    return run()


async def test_a_save_that_sends_what_changed_writes_fewer_pages(tmp_path: Path) -> None:
    """SQLite rewrites the entry of every index holding a column in SET: sent whole, the row's save
    after a create dirtied every index of ``jobs``."""
    path = tmp_path / "vidgate.db"
    remembering = await open_stores(f"sqlite:///{path}", None, tmp_path / "content")
    forgetful = await open_stores(f"sqlite:///{path}", None, tmp_path / "content", migrate=False)
    try:
        for n in range(300):  # enough rows for each index to span several pages
            await remembering.jobs.insert(make_job(f"video_{n:03d}", created_at=n, native_id=f"n-{n}"))
        frames = {}
        for name, stores in (("whole", forgetful), ("changes", remembering)):
            job = make_job(f"video_{name}", submitting=True, native_id="", next_poll_at=1.0)
            await remembering.jobs.insert(job)
            if stores is forgetful:  # read by a store that did not write it: every column is sent
                read = await forgetful.jobs.get(job.id)
                assert read is not None
                job = read
            job.native_id, job.submitting, job.next_poll_at = f"native-{name}", False, 60.0
            frames[name] = await _wal_frames_after(path, functools.partial(stores.jobs.save, job))
    finally:
        await forgetful.close()
        await remembering.close()
    assert frames["changes"] + 2 <= frames["whole"], frames
