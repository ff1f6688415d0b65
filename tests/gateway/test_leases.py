"""``leases.held``: a lease renewed while work runs, followed by the holder's copy, and given up once
someone else wrote the job, so the holder's save loses instead of overwriting that write."""

from __future__ import annotations

import asyncio

from tests.store.factories import make_job

from vidgate.gateway import leases
from vidgate.gateway.records import JobRecord
from vidgate.store.memory import MemoryStores

from .harness import Clock

SECONDS = 0.3  # renewed every 0.1 s


async def _leased(stores: MemoryStores, clock: Clock) -> JobRecord:
    await stores.jobs.insert(make_job("j"))
    job = await stores.jobs.try_lease("j", "me", now=clock(), lease_seconds=SECONDS)
    assert job is not None
    return job


async def test_the_lease_is_renewed_while_the_work_runs_and_the_holder_saves() -> None:
    stores, clock = MemoryStores(), Clock()
    job = await _leased(stores, clock)

    async def work() -> str:
        for _ in range(6):  # 0.6 s of the clock, twice the lease
            clock.now += 0.1
            await asyncio.sleep(0.1)
            assert await stores.jobs.try_lease("j", "other", now=clock(), lease_seconds=30) is None
        return "done"

    assert await leases.held(stores.jobs, job, work(), seconds=SECONDS, clock=clock) == "done"
    assert job.version >= 4  # inserted 0, leased 1, then renewed
    job.status = "in_progress"
    assert await stores.jobs.save(job)


async def test_a_lease_someone_else_wrote_through_is_given_up_and_the_holders_save_loses() -> None:
    stores, clock = MemoryStores(), Clock()
    job = await _leased(stores, clock)

    async def work() -> None:
        clock.now += 1  # the holder stalled: its lease lapsed, another took the job and finished
        other = await stores.jobs.try_lease("j", "other", now=clock(), lease_seconds=30)
        assert other is not None
        other.status = "failed"
        other.lease_owner = other.lease_expires_at = None
        assert await stores.jobs.save(other)
        await asyncio.sleep(0.25)  # the holder's renewals find the job written by another

    await leases.held(stores.jobs, job, work(), seconds=SECONDS, clock=clock)
    stored = await stores.jobs.get("j")
    assert stored is not None
    assert (stored.status, stored.lease_owner, job.version) == ("failed", None, 1)
    job.status = "completed"
    assert not await stores.jobs.save(job)


async def test_a_renewal_the_store_refused_is_tried_again() -> None:
    stores, clock = MemoryStores(), Clock()
    job = await _leased(stores, clock)
    try_lease, failures = stores.jobs.try_lease, [RuntimeError("store down")]

    async def flaky(job_id: str, worker_id: str, *, now: float, lease_seconds: float) -> JobRecord | None:
        if failures:
            raise failures.pop()
        return await try_lease(job_id, worker_id, now=now, lease_seconds=lease_seconds)

    stores.jobs.try_lease = flaky  # type: ignore[method-assign]
    await leases.held(stores.jobs, job, asyncio.sleep(0.25), seconds=SECONDS, clock=clock)
    assert (failures, job.version) == ([], 2)  # the first renewal failed, the second counted
