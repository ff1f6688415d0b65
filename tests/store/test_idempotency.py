"""IdempotencyStore conformance: the first claim of an (owner, key) wins, also between replicas;
expired and never-linked stale records are replaced; link/forget act only for the claim holder."""

from __future__ import annotations

import asyncio

from tests.store.conftest import Backend

from vidgate.gateway.records import IdempotencyRecord


def rec(
    claim: str, *, owner: str = "k1", key: str = "idem-1", fp: str = "f1", at: int = 1000
) -> IdempotencyRecord:
    return IdempotencyRecord(owner_key_id=owner, key=key, fingerprint=fp, claim=claim, created_at=at)


async def test_first_claim_wins_and_keys_are_scoped_per_owner(backend: Backend) -> None:
    store = backend.stores.idempotency
    assert (await store.claim(rec("a"), replace_before=0, unlinked_before=0)).claim == "a"
    second = await store.claim(rec("b", fp="f2", at=1001), replace_before=0, unlinked_before=0)
    assert (second.claim, second.fingerprint, second.created_at, second.job_id) == ("a", "f1", 1000, None)
    assert (await store.claim(rec("c", owner="k2"), replace_before=0, unlinked_before=0)).claim == "c"
    await store.link("k1", "idem-1", "b", "video_not_b")  # not the holder: nothing happens
    await store.link("k1", "idem-1", "a", "video_a")
    again = await store.claim(rec("d"), replace_before=0, unlinked_before=2000)  # linked: kept
    assert (again.claim, again.job_id) == ("a", "video_a")


async def test_expired_and_stale_unlinked_records_are_replaced(backend: Backend) -> None:
    store = backend.stores.idempotency
    await store.claim(rec("a", at=1000), replace_before=0, unlinked_before=0)
    assert (await store.claim(rec("b", at=1050), replace_before=0, unlinked_before=1000)).claim == "a"
    assert (await store.claim(rec("b", at=1070), replace_before=0, unlinked_before=1001)).claim == "b"
    await store.link("k1", "idem-1", "b", "video_b")
    assert (await store.claim(rec("c", at=1080), replace_before=1070, unlinked_before=5000)).claim == "b"
    replaced = await store.claim(rec("c", fp="f9", at=90000), replace_before=1071, unlinked_before=0)
    assert (replaced.claim, replaced.fingerprint, replaced.job_id) == ("c", "f9", None)


async def test_forget_frees_the_key_only_for_its_holder(backend: Backend) -> None:
    store = backend.stores.idempotency
    await store.claim(rec("a"), replace_before=0, unlinked_before=0)
    await store.forget("k1", "idem-1", "someone-else")
    assert (await store.claim(rec("b"), replace_before=0, unlinked_before=0)).claim == "a"
    await store.forget("k1", "idem-1", "a")
    assert (await store.claim(rec("b"), replace_before=0, unlinked_before=0)).claim == "b"


async def test_prune_drops_the_oldest_records(backend: Backend) -> None:
    store = backend.stores.idempotency
    for i, at in enumerate((100, 200, 300)):
        await store.claim(rec(f"c{i}", key=f"key-{i}", at=at), replace_before=0, unlinked_before=0)
    assert await store.prune(before=250, limit=1) == 1
    assert await store.prune(before=250, limit=10) == 1
    assert await store.prune(before=250, limit=10) == 0
    assert (await store.claim(rec("new", key="key-0"), replace_before=0, unlinked_before=0)).claim == "new"
    assert (await store.claim(rec("new", key="key-2"), replace_before=0, unlinked_before=0)).claim == "c2"


async def test_concurrent_claims_across_replicas_have_one_winner(backend: Backend) -> None:
    stores = [backend.stores]
    if backend.is_sql:
        stores.append(await backend.another())
    claims = await asyncio.gather(
        *(
            stores[i % len(stores)].idempotency.claim(rec(f"c{i}"), replace_before=0, unlinked_before=0)
            for i in range(12)
        )
    )
    assert len({c.claim for c in claims}) == 1
