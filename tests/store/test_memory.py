"""The in-memory stores: the reference semantics of every port (helper-6's conformance suite runs the
same checks on SQL and Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from tests.store.factories import chunks, make_entry, make_job, make_key

from vidgate.errors import BudgetExceededError, ConflictError, NotFoundError, RateLimitError
from vidgate.store.memory import MemoryStores


async def test_keys_are_copies_and_save_keeps_counters() -> None:
    s = MemoryStores()
    await s.keys.create(make_key(max_budget_micros=100))
    with pytest.raises(ConflictError):
        await s.keys.create(make_key())
    got = await s.keys.get("k1")
    assert got is not None
    got.alias = "changed-locally"
    assert (await s.keys.get("k1")).alias is None  # type: ignore[union-attr]
    await s.ledger.reserve(got, "j1", 40, now=0)
    got.alias = "team-a"
    got.reserved_micros = 0  # counters in the saved object are ignored
    await s.keys.save(got)
    again = await s.keys.get_by_hash("h-k1")
    assert again is not None
    assert (again.alias, again.reserved_micros) == ("team-a", 40)
    assert await s.keys.delete("k1") is True
    assert await s.keys.delete("k1") is False


async def test_job_save_is_optimistic() -> None:
    s = MemoryStores()
    await s.jobs.insert(make_job("a"))
    with pytest.raises(ConflictError):
        await s.jobs.insert(make_job("a"))
    with pytest.raises(ConflictError):
        await s.jobs.insert(make_job("b", native_id="n-a"))  # same upstream job on the same deployment
    await s.jobs.insert(make_job("c", native_id="n-a", deployment_id="d2"))
    first = await s.jobs.get("a")
    second = await s.jobs.get("a")
    assert first is not None
    assert second is not None
    first.progress = 10
    assert await s.jobs.save(first) is True
    assert first.version == 1
    first.progress = 20
    assert await s.jobs.save(first) is True  # the same object saves again
    second.progress = 99
    assert await s.jobs.save(second) is False  # lost the race
    stored = await s.jobs.get("a")
    assert stored is not None
    assert (stored.progress, stored.version) == (20, 2)


async def test_list_for_owner_pages_and_hides_others_and_deleted() -> None:
    s = MemoryStores()
    for i in range(5):
        await s.jobs.insert(make_job(f"j{i}", created_at=100 + i))
    await s.jobs.insert(make_job("other", owner="k2", created_at=50))
    await s.jobs.insert(make_job("gone", created_at=103, deleted=True))
    page, more = await s.jobs.list_for_owner("k1", after=None, limit=2, order="desc")
    assert [j.id for j in page] == ["j4", "j3"]
    assert more
    page, more = await s.jobs.list_for_owner("k1", after="j3", limit=2, order="desc")
    assert [j.id for j in page] == ["j2", "j1"]
    assert more
    page, more = await s.jobs.list_for_owner("k1", after="j1", limit=2, order="desc")
    assert [j.id for j in page] == ["j0"]
    assert not more
    page, more = await s.jobs.list_for_owner("k1", after=None, limit=10, order="asc")
    assert [j.id for j in page] == ["j0", "j1", "j2", "j3", "j4"]
    assert not more
    assert await s.jobs.list_for_owner("k1", after="other", limit=10, order="asc") == ([], False)


async def test_claim_due_leases_are_exclusive_and_expire() -> None:
    s = MemoryStores()
    await s.jobs.insert(make_job("a", next_poll_at=10))
    await s.jobs.insert(make_job("b", next_poll_at=50))
    await s.jobs.insert(make_job("done", status="completed", cost_micros=0, content_stored=True))
    first = await s.jobs.claim_due("w1", now=20, lease_seconds=30, limit=10)
    assert [j.id for j in first] == ["a"]
    assert first[0].lease_owner == "w1"
    assert await s.jobs.claim_due("w2", now=20, lease_seconds=30, limit=10) == []
    assert await s.jobs.try_lease("a", "w2", now=20, lease_seconds=30) is None
    renewed = await s.jobs.try_lease("a", "w1", now=25, lease_seconds=30)
    assert renewed is not None
    assert renewed.lease_expires_at == 55
    taken = await s.jobs.claim_due("w2", now=60, lease_seconds=30, limit=10)  # w1 "crashed"
    assert sorted(j.id for j in taken) == ["a", "b"]
    stale = first[0]
    assert await s.jobs.save(stale) is False  # the crashed worker's copy is outdated
    await s.jobs.release_lease("a", "w2")
    assert (await s.jobs.get("a")).lease_owner is None  # type: ignore[union-attr]


async def test_claim_due_takes_terminal_jobs_until_settled_and_stored() -> None:
    s = MemoryStores()
    await s.jobs.insert(make_job("unsettled", status="completed", content_stored=True))
    await s.jobs.insert(make_job("unstored", status="completed", cost_micros=5))
    await s.jobs.insert(make_job("failed-unreleased", status="failed"))
    await s.jobs.insert(make_job("failed-released", status="failed", cost_micros=0))
    await s.jobs.insert(make_job("deleted", status="completed", deleted=True))
    claimed = await s.jobs.claim_due("w", now=1, lease_seconds=5, limit=10)
    assert sorted(j.id for j in claimed) == ["failed-unreleased", "unsettled", "unstored"]


async def test_reservations_are_exact_under_concurrency() -> None:
    s = MemoryStores()
    key = make_key(max_budget_micros=1000)
    await s.keys.create(key)

    async def one(i: int) -> bool:
        try:
            await s.ledger.reserve(key, f"j{i}", 100, now=0)
        except BudgetExceededError:
            return False
        return True

    results = await asyncio.gather(*(one(i) for i in range(100)))
    assert sum(results) == 10
    stored = await s.keys.get("k1")
    assert stored is not None
    assert stored.reserved_micros == 1000


async def test_settle_and_release_happen_once() -> None:
    s = MemoryStores()
    key = make_key(max_budget_micros=1000)
    await s.keys.create(key)
    await s.ledger.reserve(key, "a", 300, now=0)
    await s.ledger.reserve(key, "a", 300, now=0)  # idempotent
    await s.ledger.reserve(key, "b", 300, now=0)
    assert await s.ledger.settle(make_entry("a", 300)) is True
    assert await s.ledger.settle(make_entry("a", 300)) is False
    assert await s.ledger.release("k1", "a") is False
    assert await s.ledger.release("k1", "b") is True
    assert await s.ledger.release("k1", "b") is False
    assert await s.ledger.settle(make_entry("b", 300)) is False
    stored = await s.keys.get("k1")
    assert stored is not None
    assert (stored.spend_micros, stored.total_spend_micros, stored.reserved_micros) == (300, 300, 0)
    logs = await s.ledger.spend_logs(key_id="k1", start=None, end=None, limit=10)
    assert [e.job_id for e in logs] == ["a"]
    assert s.memory_ledger.reservation_state("b") == "released"


async def test_budget_over_limit_message_and_period_reset() -> None:
    s = MemoryStores()
    key = make_key(max_budget_micros=500_000, budget_duration="30s")
    await s.keys.create(key)
    await s.ledger.reserve(key, "a", 400_000, now=1000)
    assert await s.ledger.settle(make_entry("a", 400_000, at=1001)) is True
    with pytest.raises(BudgetExceededError) as caught:
        await s.ledger.reserve(key, "b", 200_000, now=1010)
    assert caught.value.status_code == 429
    assert "Budget exceeded" in caught.value.message
    await s.ledger.reserve(key, "c", 200_000, now=1030)  # the 30 s period ended at 1030
    stored = await s.keys.get("k1")
    assert stored is not None
    assert (stored.spend_micros, stored.total_spend_micros, stored.budget_reset_at) == (0, 400_000, 1060)


async def test_settle_without_reservation_logs_once() -> None:
    s = MemoryStores()
    assert await s.ledger.settle(make_entry("m", 7, key_id="master")) is True
    assert await s.ledger.settle(make_entry("m", 7, key_id="master")) is False
    logs = await s.ledger.spend_logs(key_id="master", start=999, end=1000, limit=5)
    assert len(logs) == 1
    assert await s.ledger.spend_logs(key_id=None, start=1001, end=None, limit=5) == []


async def test_rate_window_slides() -> None:
    s = MemoryStores()
    for t in (0.0, 10.0, 20.0):
        await s.admission.check_rate("k", 3, now=t)
    with pytest.raises(RateLimitError) as caught:
        await s.admission.check_rate("k", 3, now=30.0)
    assert caught.value.retry_after == pytest.approx(30.0)
    await s.admission.check_rate("k", 3, now=60.5)  # the request at 0 left the window
    await s.admission.check_rate("other", 3, now=30.0)


async def test_slots_are_idempotent_and_counted_on_themake_key() -> None:
    s = MemoryStores()
    await s.keys.create(make_key())
    await s.admission.acquire_slot("k1", "a", 2)
    await s.admission.acquire_slot("k1", "a", 2)
    await s.admission.acquire_slot("k1", "b", 2)
    with pytest.raises(RateLimitError):
        await s.admission.acquire_slot("k1", "c", 2)
    assert (await s.keys.get("k1")).active_jobs == 2  # type: ignore[union-attr]
    await s.admission.release_slot("k1", "a")
    await s.admission.release_slot("k1", "a")
    await s.admission.acquire_slot("k1", "c", 2)
    assert (await s.keys.get("k1")).active_jobs == 2  # type: ignore[union-attr]


async def _failing() -> AsyncIterator[bytes]:
    yield b"half"
    raise OSError("upstream broke")


async def test_content_put_read_ranges_and_delete() -> None:
    s = MemoryStores()
    data = bytes(range(256)) * 1000
    assert await s.content.put("j", "video", chunks([data[:1000], data[1000:]]), "video/mp4") == len(data)
    info = await s.content.stat("j", "video")
    assert info is not None
    assert (info.size, info.media_type) == (len(data), "video/mp4")
    assert b"".join([c async for c in s.content.read("j", "video")]) == data
    assert b"".join([c async for c in s.content.read("j", "video", start=10, end=19)]) == data[10:20]
    assert b"".join([c async for c in s.content.read("j", "video", start=len(data) - 5)]) == data[-5:]
    with pytest.raises(OSError, match="upstream broke"):
        await s.content.put("j", "thumbnail", _failing(), "image/webp")
    assert await s.content.stat("j", "thumbnail") is None
    await s.content.delete("j")
    assert await s.content.stat("j", "video") is None
    with pytest.raises(NotFoundError):
        _ = [c async for c in s.content.read("j", "video")]
