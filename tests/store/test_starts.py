"""JobStarts conformance (the stores that offer it: SQL without Redis): the reservation, the slot and
the write-ahead job row in one step, all of them or, after a refusal or an error, none."""

from __future__ import annotations

import asyncio

import pytest
from tests.store.conftest import Backend
from tests.store.factories import make_job, make_key

from vidgate.errors import BudgetExceededError, ConflictError, RateLimitError
from vidgate.gateway.ports import JobStarts


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
        assert not await backend.stores.ledger.release("k1", job_id) or True  # nothing held to give back
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
