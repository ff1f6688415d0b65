"""SaveGroup: concurrent saves go to the store together, each with its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from tests.gateway.harness import Gateway
from tests.store.factories import make_job

from vidgate.gateway.records import JobRecord
from vidgate.store.memory import MemoryStores
from vidgate.worker.poller import Poller
from vidgate.worker.saves import SaveGroup


class Counting:
    """A JobStore's ``save``/``save_many`` that records each call; ``refuse`` names a job whose save
    raises (as a row the database refuses would)."""

    def __init__(self, stores: MemoryStores) -> None:
        self.jobs = stores.jobs
        self.groups: list[list[str]] = []
        self.alone: list[str] = []
        self.refuse: str | None = None

    async def save_many(self, jobs: Sequence[JobRecord]) -> list[bool]:
        self.groups.append([job.id for job in jobs])
        if any(job.id == self.refuse for job in jobs):
            raise ValueError(f"row of {self.refuse} refused")
        await asyncio.sleep(0)  # a write takes time: later saves queue meanwhile
        return await self.jobs.save_many(jobs)

    async def save(self, job: JobRecord) -> bool:
        self.alone.append(job.id)
        if job.id == self.refuse:
            raise ValueError(f"row of {self.refuse} refused")
        return await self.jobs.save(job)


async def _stored(stores: MemoryStores, names: list[str]) -> list[JobRecord]:
    found = [await stores.jobs.get(name) for name in names]
    assert all(job is not None for job in found)
    return [job for job in found if job is not None]


async def test_saves_waiting_while_one_is_written_go_together() -> None:
    stores = MemoryStores()
    names = [f"j{i}" for i in range(10)]
    for name in names:
        await stores.jobs.insert(make_job(name))
    jobs = await _stored(stores, names)
    stale = (await _stored(stores, ["j3"]))[0]
    counting = Counting(stores)
    group = SaveGroup(counting)  # type: ignore[arg-type]
    for job in jobs:
        job.progress = 50
    stale.progress = 99
    first = asyncio.ensure_future(group.save(jobs[0]))
    await asyncio.sleep(0)  # queued, and the writer started: it is writing j0 alone
    await asyncio.sleep(0)
    outcomes = await asyncio.gather(*(group.save(job) for job in [*jobs[1:], stale]))
    assert await first is True
    assert outcomes == [True] * 9 + [False]  # each save's own outcome: the stale copy of j3 lost
    # The first save was written at once, alone; the ten queued meanwhile went as one.
    assert counting.groups == [["j0"], [*names[1:], "j3"]]
    assert [(j.progress, j.version) for j in await _stored(stores, names)] == [(50, 1)] * 10


async def test_a_group_that_fails_is_saved_one_by_one_and_only_the_bad_save_fails() -> None:
    stores = MemoryStores()
    names = ["a", "b", "c", "d"]
    for name in names:
        await stores.jobs.insert(make_job(name))
    jobs = await _stored(stores, names)
    counting = Counting(stores)
    counting.refuse = "c"
    group = SaveGroup(counting)  # type: ignore[arg-type]
    outcomes = await asyncio.gather(*(group.save(job) for job in jobs), return_exceptions=True)
    assert outcomes[:2] == [True, True]
    assert outcomes[3] is True
    assert isinstance(outcomes[2], ValueError)
    assert counting.groups == [["a", "b", "c", "d"]]
    assert counting.alone == ["a", "b", "c", "d"]
    assert [j.version for j in await _stored(stores, names)] == [1, 1, 0, 1]


async def test_a_save_cancelled_before_its_group_is_written_is_not_written() -> None:
    stores = MemoryStores()
    for name in ("a", "b"):
        await stores.jobs.insert(make_job(name))
    a, b = await _stored(stores, ["a", "b"])
    counting = Counting(stores)
    group = SaveGroup(counting)  # type: ignore[arg-type]
    first = asyncio.ensure_future(group.save(a))
    second = asyncio.ensure_future(group.save(b))
    await asyncio.sleep(0)  # both queued; the writer has not started
    second.cancel()
    assert await first is True
    with pytest.raises(asyncio.CancelledError):
        await second
    await asyncio.sleep(0)
    assert counting.groups == [["a"]]
    assert [j.version for j in await _stored(stores, ["a", "b"])] == [1, 0]


async def test_a_round_of_the_poller_writes_its_saves_in_fewer_writes_than_polls(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    ids = [(await gw.create(alice)).id for _ in range(8)]
    gw.clock.advance(2)
    before = {job.id: job.version for job in [await gw.service.stores.jobs.get(i) for i in ids] if job}
    poller = Poller(gw.service, worker_id="w1", concurrency=8)
    assert isinstance(gw.service.stores, MemoryStores)
    counting = Counting(gw.service.stores)
    poller.saves = SaveGroup(counting)  # type: ignore[arg-type]
    assert await poller.run_once() == 8
    assert sorted(i for g in counting.groups for i in g) == sorted(ids)  # every poll saved, once
    assert len(counting.groups) < 8, counting.groups
    for vid in ids:
        job = await gw.service.stores.jobs.get(vid)
        assert job is not None
        assert (job.status, job.lease_owner) == ("in_progress", None)  # released in the poll's save
        assert job.version == before[vid] + 2  # the claim and the save
