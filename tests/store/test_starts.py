"""JobStarts conformance (the stores that offer it: SQL without Redis): the reservation, the slot and
the write-ahead job row in one step, all of them or, after a refusal or an error, none."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from tests.store.conftest import Backend
from tests.store.factories import make_entry, make_job, make_key

from vidgate.errors import AuthenticationError, BudgetExceededError, ConflictError, RateLimitError
from vidgate.gateway.ports import JobStarts
from vidgate.store.factory import SqlStores


def _starts(backend: Backend) -> JobStarts:
    if backend.stores.starts is None:
        pytest.skip(f"{backend.name} takes the steps one by one (no JobStarts)")
    return backend.stores.starts


async def _state(backend: Backend) -> tuple[int, int]:
    key = await backend.stores.keys.get("k1")
    assert key is not None
    return key.reserved_micros, key.active_jobs


async def test_reservation_slot_and_job_are_written_together(backend: Backend) -> None:
    starts = _starts(backend)
    key = make_key(max_budget_micros=1_000_000, max_parallel_requests=2)
    await backend.stores.keys.create(key)
    await starts.admit_and_insert(key, make_job("j1"), 400_000, rpm_limit=None, slot_limit=2, now=1000)
    assert await _state(backend) == (400_000, 1)
    assert await backend.stores.jobs.get("j1") is not None
    await backend.stores.ledger.release("k1", "j1")  # the reservation was held under the job's id
    assert await _state(backend) == (0, 1)


async def test_a_refusal_leaves_nothing_written(backend: Backend) -> None:
    starts = _starts(backend)
    key = make_key(max_budget_micros=1_000_000, max_parallel_requests=1)
    await backend.stores.keys.create(key)
    await starts.admit_and_insert(key, make_job("j1"), 400_000, rpm_limit=None, slot_limit=1, now=1000)
    with pytest.raises(RateLimitError):  # the one slot is taken: the reservation is not kept either
        await starts.admit_and_insert(key, make_job("j2"), 100_000, rpm_limit=None, slot_limit=1, now=1000)
    with pytest.raises(BudgetExceededError):
        await starts.admit_and_insert(key, make_job("j3"), 700_000, rpm_limit=None, slot_limit=None, now=1000)
    with pytest.raises(ConflictError):  # the same native id on the same deployment
        await starts.admit_and_insert(
            key, make_job("j4", native_id="n-j1"), 100_000, rpm_limit=None, slot_limit=None, now=1000
        )
    assert await _state(backend) == (400_000, 1)
    for job_id in ("j2", "j3", "j4"):
        assert await backend.stores.jobs.get(job_id) is None
        await backend.stores.ledger.release("k1", job_id)  # nothing held: the counters stay as they are
    assert await _state(backend) == (400_000, 1)


async def test_concurrent_starts_never_exceed_the_budget_or_the_slots(backend: Backend) -> None:
    starts = _starts(backend)
    key = make_key(max_budget_micros=1_000_000, max_parallel_requests=4)
    await backend.stores.keys.create(key)

    async def one(i: int) -> bool:
        try:
            await starts.admit_and_insert(
                key, make_job(f"j{i:02d}"), 200_000, rpm_limit=None, slot_limit=4, now=1000
            )
        except (BudgetExceededError, RateLimitError):
            return False
        return True

    started = await asyncio.gather(*(one(i) for i in range(20)))
    assert sum(started) == 4  # four slots (the budget would allow five)
    assert await _state(backend) == (800_000, 4)


async def test_the_rate_check_comes_first_and_a_counted_request_stays_counted(backend: Backend) -> None:
    starts = _starts(backend)
    key = make_key(max_budget_micros=500_000, rpm_limit=2)
    await backend.stores.keys.create(key)
    await starts.admit_and_insert(key, make_job("j1"), 400_000, rpm_limit=2, slot_limit=None, now=1000.0)
    with pytest.raises(BudgetExceededError):  # counted against the rate limit, nothing else kept
        await starts.admit_and_insert(key, make_job("j2"), 400_000, rpm_limit=2, slot_limit=None, now=1001.0)
    with pytest.raises(RateLimitError):  # two counted in the window: refused before the budget
        await starts.admit_and_insert(key, make_job("j3"), 1, rpm_limit=2, slot_limit=None, now=1002.0)
    assert await _state(backend) == (400_000, 0)
    assert await backend.stores.jobs.get("j2") is None
    assert await backend.stores.jobs.get("j3") is None
    with pytest.raises(RateLimitError):  # the same window, seen by the admission port
        await backend.stores.admission.check_rate("k1", 2, now=1003.0)
    await starts.admit_and_insert(key, make_job("j4"), 1, rpm_limit=2, slot_limit=None, now=1061.0)


@contextmanager
def _statements(backend: Backend) -> Iterator[list[str]]:
    """The statements the store sends (their first words) while the block runs."""
    assert isinstance(backend.stores, SqlStores)
    engine = backend.stores.db.sync_engine
    seen: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(" ".join(statement.split()[:3]))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


async def test_the_common_admission_updates_the_key_row_once_and_takes_no_savepoint(backend: Backend) -> None:
    """Budget period running, budget fitting, a slot free: the reservation and the slot count are one
    UPDATE of the key's row, then the three rows are inserted (no savepoint: nothing after can refuse).
    On PostgreSQL all of it is one statement (``start_statement``)."""
    starts = _starts(backend)
    on_postgres = backend.name.startswith("postgres")
    key = make_key(max_budget_micros=1_000_000, max_parallel_requests=2, budget_duration="30d")
    await backend.stores.keys.create(key)
    await starts.admit_and_insert(key, make_job("j0"), 100_000, rpm_limit=None, slot_limit=2, now=1000)
    with _statements(backend) as seen:
        await starts.admit_and_insert(key, make_job("j1"), 400_000, rpm_limit=None, slot_limit=2, now=1000)
    assert [s for s in seen if not s.startswith(("BEGIN", "COMMIT"))] == (
        ["WITH taken AS"]
        if on_postgres
        else ["UPDATE keys SET", "INSERT INTO reservations", "INSERT INTO slots", "INSERT INTO jobs"]
    )
    assert await _state(backend) == (500_000, 2)
    with _statements(backend) as seen:  # without a slot limit: the reserve alone, then two inserts
        await starts.admit_and_insert(key, make_job("j2"), 100_000, rpm_limit=None, slot_limit=None, now=1000)
    assert [s for s in seen if not s.startswith(("BEGIN", "COMMIT"))] == (
        ["WITH taken AS"]
        if on_postgres
        else ["UPDATE keys SET", "INSERT INTO reservations", "INSERT INTO jobs"]
    )
    assert await _state(backend) == (600_000, 2)


async def test_old_rate_hits_are_dropped_at_most_once_a_second_while_checks_pass(backend: Backend) -> None:
    starts = _starts(backend)
    key = make_key(max_budget_micros=1_000_000, rpm_limit=100)
    await backend.stores.keys.create(key)

    async def start(job_id: str, now: float) -> list[str]:
        with _statements(backend) as seen:
            await starts.admit_and_insert(key, make_job(job_id), 1, rpm_limit=100, slot_limit=None, now=now)
        return [s for s in seen if "rate_hits" in s or s.startswith("WITH")]

    # PostgreSQL counts a hit without a sweep in the one statement (``start_statement``).
    counted = ["WITH counted AS"] if backend.name.startswith("postgres") else ["INSERT INTO rate_hits"]
    assert await start("j1", 1000.0) == ["DELETE FROM rate_hits", "INSERT INTO rate_hits"]
    assert await start("j2", 1000.5) == counted
    assert await start("j3", 1000.99) == counted
    assert await start("j4", 1001.0) == ["DELETE FROM rate_hits", "INSERT INTO rate_hits"]
    assert await start("j5", 1001.5) == counted


async def test_a_full_budget_with_slots_free_refuses_and_counts_no_slot(backend: Backend) -> None:
    starts = _starts(backend)
    key = make_key(max_budget_micros=500_000, max_parallel_requests=3)
    await backend.stores.keys.create(key)
    await starts.admit_and_insert(key, make_job("j1"), 400_000, rpm_limit=None, slot_limit=3, now=1000)
    with pytest.raises(BudgetExceededError):
        await starts.admit_and_insert(key, make_job("j2"), 200_000, rpm_limit=None, slot_limit=3, now=1000)
    assert await _state(backend) == (400_000, 1)
    assert await backend.stores.jobs.get("j2") is None
    await starts.admit_and_insert(key, make_job("j3"), 100_000, rpm_limit=None, slot_limit=3, now=1000)
    assert await _state(backend) == (500_000, 2)  # exactly the budget: fits


async def test_an_ended_budget_period_is_rolled_over_and_the_start_admitted(backend: Backend) -> None:
    """The one-statement admission needs the period running; when it ended, the step-by-step path rolls
    it over (spend back to 0) and admits."""
    starts = _starts(backend)
    key = make_key(max_budget_micros=500_000, max_parallel_requests=2, budget_duration="30s")
    await backend.stores.keys.create(key)
    await starts.admit_and_insert(key, make_job("j1"), 400_000, rpm_limit=None, slot_limit=2, now=1000)
    await backend.stores.ledger.settle(make_entry("j1", 400_000, at=1001))
    with pytest.raises(BudgetExceededError):  # 400,000 spent in this period
        await starts.admit_and_insert(key, make_job("j2"), 400_000, rpm_limit=None, slot_limit=2, now=1010)
    await starts.admit_and_insert(key, make_job("j3"), 400_000, rpm_limit=None, slot_limit=2, now=1040)
    rolled = await backend.stores.keys.get("k1")
    assert rolled is not None
    assert (rolled.spend_micros, rolled.reserved_micros, rolled.active_jobs) == (0, 400_000, 2)
    assert rolled.budget_reset_at == 1070  # the first period ran 1000-1030; the new one from 1040


async def test_a_key_revoked_after_it_authenticated_starts_nothing(backend: Backend) -> None:
    starts = _starts(backend)
    key = make_key(max_budget_micros=1_000_000, max_parallel_requests=2)
    await backend.stores.keys.create(key)
    blocked = await backend.stores.keys.get(key.id)
    assert blocked is not None
    blocked.revoked = True
    await backend.stores.keys.save(blocked)
    for slot_limit in (2, None):  # ``key`` is the request's stale copy, not blocked
        with pytest.raises(AuthenticationError):
            await starts.admit_and_insert(
                key, make_job("j1"), 100_000, rpm_limit=None, slot_limit=slot_limit, now=1000
            )
    assert await _state(backend) == (0, 0)
    assert await backend.stores.jobs.get("j1") is None


async def test_within_a_second_the_rate_count_is_exact_and_a_counted_request_stays_counted(
    backend: Backend,
) -> None:
    """Checks less than a second apart sweep no old hits (``RateSweeps``): on PostgreSQL they take the
    one-statement path, which must count exactly as the transaction does."""
    starts = _starts(backend)
    key = make_key(max_budget_micros=500_000, rpm_limit=3)
    await backend.stores.keys.create(key)
    await starts.admit_and_insert(key, make_job("j1"), 400_000, rpm_limit=3, slot_limit=None, now=1000.0)
    with pytest.raises(BudgetExceededError):  # counted, and nothing else kept
        await starts.admit_and_insert(key, make_job("j2"), 400_000, rpm_limit=3, slot_limit=None, now=1000.2)
    with pytest.raises(ConflictError):  # j1's id again: nothing kept, not even the count
        await starts.admit_and_insert(key, make_job("j1"), 1, rpm_limit=3, slot_limit=None, now=1000.4)
    await starts.admit_and_insert(key, make_job("j3"), 1, rpm_limit=3, slot_limit=None, now=1000.6)
    with pytest.raises(RateLimitError):  # j1, j2 and j3 counted
        await starts.admit_and_insert(key, make_job("j4"), 1, rpm_limit=3, slot_limit=None, now=1000.8)
    assert await _state(backend) == (400_001, 0)
    assert await backend.stores.jobs.get("j2") is None
    assert await backend.stores.jobs.get("j4") is None
    assert (await backend.stores.jobs.get("j3")) is not None


async def test_concurrent_starts_within_a_second_count_exactly_against_every_limit(backend: Backend) -> None:
    starts = _starts(backend)
    key = make_key(max_budget_micros=10_000_000, rpm_limit=6, max_parallel_requests=4)
    await backend.stores.keys.create(key)
    await starts.admit_and_insert(key, make_job("first"), 100_000, rpm_limit=6, slot_limit=4, now=1000.0)

    async def one(i: int) -> str:
        try:
            await starts.admit_and_insert(
                key, make_job(f"j{i:02d}"), 100_000, rpm_limit=6, slot_limit=4, now=1000.5
            )
        except RateLimitError as exc:
            return "slots" if exc.code == "max_parallel_requests_exceeded" else "rate"
        return "started"

    outcomes = await asyncio.gather(*(one(i) for i in range(12)))
    assert outcomes.count("started") == 3  # four slots, one held by "first"
    assert outcomes.count("slots") == 2  # counted (6 in all with "first"), then refused for the slots
    assert outcomes.count("rate") == 7
    assert await _state(backend) == (400_000, 4)
