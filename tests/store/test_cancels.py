"""OwedCancelStore conformance: one owed cancel per (deployment, native id), claimed under a lease by one
worker at a time (also between replicas), a failed try recorded only by the lease's holder, settled by
anyone."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.store.conftest import Backend

from vidgate.gateway.records import OwedCancel


def owed(native_id: str = "task-1", *, deployment_id: str = "d1", **fields: Any) -> OwedCancel:
    base: dict[str, Any] = {
        "deployment_id": deployment_id,
        "native_id": native_id,
        "video_id": "video_" + "a" * 32,
        "provider": "replicate",
        "created_at": 1000,
        "next_try_at": 1030.5,
    }
    base.update(fields)
    return OwedCancel(**base)


async def test_owe_get_round_trip_every_field_and_owing_twice_keeps_the_first(backend: Backend) -> None:
    store = backend.stores.cancels
    first = owed(
        "models/veo-3/operations/" + "z" * 900,
        deployment_id="dep-" + "d" * 200,
        video_id="video_" + "f" * 32,
        tries=3,
        lease_owner="late-create:abc",
        lease_expires_at=1030.25,
    )
    assert await store.owe(first) is True
    assert await store.get(first.deployment_id, first.native_id) == first
    again = owed(first.native_id, deployment_id=first.deployment_id, tries=0)
    assert await store.owe(again) is False  # idempotent on the key: the first stays as it was
    assert await store.get(first.deployment_id, first.native_id) == first
    assert await store.owe(owed(first.native_id, deployment_id="d2")) is True  # another deployment's
    assert await store.get("d1", first.native_id) is None


async def test_claim_due_takes_due_rows_with_a_free_lease_soonest_first(backend: Backend) -> None:
    store = backend.stores.cancels
    await store.owe(owed("later", next_try_at=50))
    await store.owe(owed("sooner", next_try_at=10))
    await store.owe(owed("not-yet", next_try_at=200))
    await store.owe(owed("leased", next_try_at=5, lease_owner="creator", lease_expires_at=130))
    assert await store.claim_due("w1", now=100, lease_seconds=30, limit=0) == []
    claimed = await store.claim_due("w1", now=100, lease_seconds=30, limit=10)
    assert [(c.native_id, c.lease_owner, c.lease_expires_at) for c in claimed] == [
        ("sooner", "w1", 130),
        ("later", "w1", 130),
    ]
    stored = await store.get("d1", "sooner")
    assert stored is not None
    assert (stored.lease_owner, stored.lease_expires_at) == ("w1", 130)
    assert await store.claim_due("w2", now=129, lease_seconds=30, limit=10) == []  # leased
    taken = await store.claim_due("w2", now=131, lease_seconds=30, limit=2)  # every lease lapsed
    assert [(c.native_id, c.lease_owner) for c in taken] == [("leased", "w2"), ("sooner", "w2")]


async def test_a_failed_try_is_recorded_only_by_the_leases_holder(backend: Backend) -> None:
    store = backend.stores.cancels
    await store.owe(owed(tries=2, next_try_at=10))
    [claimed] = await store.claim_due("w1", now=100, lease_seconds=30, limit=5)
    assert await store.failed("d1", "task-1", "w2", next_try_at=500) is False
    assert await store.get("d1", "task-1") == claimed
    assert await store.failed("d1", "task-1", "w1", next_try_at=104) is True
    assert await store.get("d1", "task-1") == owed(tries=3, next_try_at=104)  # lease released
    assert await store.failed("d1", "task-1", "w1", next_try_at=200) is False  # no longer its lease
    assert await store.failed("d1", "missing", "w1", next_try_at=200) is False
    assert await store.claim_due("w1", now=103, lease_seconds=30, limit=5) == []  # backing off
    assert len(await store.claim_due("w1", now=104, lease_seconds=30, limit=5)) == 1


async def test_settle_deletes_whoever_holds_it(backend: Backend) -> None:
    store = backend.stores.cancels
    await store.owe(owed("a", lease_owner="creator", lease_expires_at=2000))
    await store.owe(owed("b"))
    assert await store.settle("d1", "a") is True
    assert await store.settle("d1", "a") is False  # settled already
    assert await store.get("d1", "a") is None
    assert await store.get("d1", "b") is not None
    assert [c.native_id for c in await store.claim_due("w", now=5000, lease_seconds=30, limit=5)] == ["b"]
    assert await store.failed("d1", "a", "creator", next_try_at=9000) is False  # nothing comes back
    assert await store.get("d1", "a") is None


async def test_concurrent_claimers_never_share_an_owed_cancel(backend: Backend) -> None:
    total = 40
    for i in range(total):
        await backend.stores.cancels.owe(owed(f"task-{i:02d}", next_try_at=float(i % 5)))
    stores = [backend.stores, await backend.another()] if backend.is_sql else [backend.stores]

    async def worker(n: int) -> list[str]:
        mine: list[str] = []
        store = stores[n % len(stores)].cancels
        for _ in range(total + 1):  # each claim takes at least one, or ends the loop
            batch = await store.claim_due(f"w{n}", now=100, lease_seconds=300, limit=3)
            if not batch:
                return mine
            assert all(c.lease_owner == f"w{n}" for c in batch)
            mine += [c.native_id for c in batch]
        raise AssertionError(f"worker {n} kept claiming: {mine}")

    claimed = await asyncio.gather(*(worker(n) for n in range(8)))
    everything = [native_id for batch in claimed for native_id in batch]
    assert len(everything) == len(set(everything)) == total
