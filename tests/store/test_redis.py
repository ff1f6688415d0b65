"""The Redis fast path: Redis answers first, SQL stays the final word, and drift heals."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from redis.asyncio import Redis
from tests.store.conftest import Backend
from tests.store.factories import make_entry, make_key

from vidgate.errors import BudgetExceededError
from vidgate.store.factory import SqlStores
from vidgate.store.redis import DEFAULT_CACHE_TTL, RedisLedger, _budget_snapshot

pytestmark = [pytest.mark.redis, pytest.mark.parametrize("backend", ["sqlite+redis"], indirect=True)]


def _parts(backend: Backend) -> tuple[RedisLedger, Redis]:
    stores = backend.stores
    assert isinstance(stores, SqlStores)
    assert isinstance(stores.ledger, RedisLedger)
    assert stores.redis is not None
    return stores.ledger, stores.redis


async def test_cache_mirrors_sql_through_reserve_settle_and_release(backend: Backend) -> None:
    ledger, redis = _parts(backend)
    key = make_key(max_budget_micros=1_000)
    await backend.stores.keys.create(key)
    await ledger.reserve(key, "a", 300, now=0)
    await ledger.reserve(key, "b", 200, now=0)
    cache = ledger.budget_key("k1")
    assert await redis.hgetall(cache) == {
        "max": "1000",
        "spend": "0",
        "reserved": "500",
        "reset_at": "-1",
        "j:a": "300",
        "j:b": "200",
    }
    assert 0 < await redis.pttl(cache) <= DEFAULT_CACHE_TTL * 1000
    assert await ledger.settle(make_entry("a", 250)) is True
    assert await ledger.settle(make_entry("a", 250)) is False
    assert await ledger.release("k1", "b") is True
    await ledger.reserve(key, "b", 200, now=0)  # finished already: not counted again, here either
    assert await redis.hgetall(cache) == {
        "max": "1000",
        "spend": "250",
        "reserved": "0",
        "reset_at": "-1",
    }


async def test_redis_refuses_first_and_admin_edits_drop_the_cache(backend: Backend) -> None:
    ledger, redis = _parts(backend)
    key = make_key(max_budget_micros=1_000)
    await backend.stores.keys.create(key)
    await ledger.reserve(key, "a", 100, now=0)
    await redis.hset(ledger.budget_key("k1"), "reserved", "1000")
    with pytest.raises(BudgetExceededError):
        await ledger.reserve(key, "b", 100, now=0)  # refused by the script; SQL still had room
    key.max_budget_micros = 2_000
    await backend.stores.keys.save(key)  # drops the cached counters
    await ledger.reserve(key, "b", 1_500, now=0)
    stored = await backend.stores.keys.get("k1")
    assert stored is not None
    assert stored.reserved_micros == 1_600
    assert await redis.hget(ledger.budget_key("k1"), "reserved") == "1600"


async def test_sql_refuses_what_a_drifted_cache_admits(backend: Backend) -> None:
    ledger, redis = _parts(backend)
    key = make_key(max_budget_micros=1_000)
    await backend.stores.keys.create(key)
    await ledger.reserve(key, "a", 900, now=0)
    await redis.hset(ledger.budget_key("k1"), mapping={"reserved": "0", "j:a": "0"})
    with pytest.raises(BudgetExceededError):
        await ledger.reserve(key, "b", 500, now=0)  # Redis said yes, the SQL condition said no
    assert await redis.exists(ledger.budget_key("k1")) == 0  # drift detected: the cache is dropped
    stored = await backend.stores.keys.get("k1")
    assert stored is not None
    assert stored.reserved_micros == 900
    await ledger.reserve(key, "c", 100, now=0)  # reloaded from SQL: exact again
    assert await redis.hget(ledger.budget_key("k1"), "reserved") == "1000"


async def test_a_settle_sql_already_did_drops_a_stale_cache_entry(backend: Backend) -> None:
    ledger, redis = _parts(backend)
    key = make_key(max_budget_micros=1_000)
    await backend.stores.keys.create(key)
    await ledger.reserve(key, "a", 400, now=0)
    await ledger.reserve(key, "b", 100, now=0)
    assert await ledger.settle(make_entry("a", 400)) is True
    await redis.hset(ledger.budget_key("k1"), "j:a", "400")  # as after a crash
    assert await ledger.settle(make_entry("a", 400)) is False
    assert await redis.exists(ledger.budget_key("k1")) == 0
    await ledger.reserve(key, "c", 500, now=0)  # 400 spent + 100 + 500 reserved: exactly the budget
    with pytest.raises(BudgetExceededError):
        await ledger.reserve(key, "d", 1, now=0)


async def test_rate_and_slot_keys_are_namespaced_and_rate_keys_expire(backend: Backend) -> None:
    _, redis = _parts(backend)
    await backend.stores.admission.check_rate("k1", 5, now=1.0)
    await backend.stores.admission.acquire_slot("k1", "j1", 5)
    names = sorted([k async for k in redis.scan_iter(match=backend.redis_prefix + "*")])
    assert names == [backend.redis_prefix + "rate:{k1}", backend.redis_prefix + "slots:{k1}"]
    assert 0 < await redis.pttl(backend.redis_prefix + "rate:{k1}") <= 60_000


async def test_active_jobs_shows_the_slots_redis_holds_after_redis_lost_its_data(backend: Backend) -> None:
    stores = backend.stores
    assert isinstance(stores, SqlStores)
    assert stores.redis is not None
    await stores.keys.create(make_key(max_parallel_requests=5))
    for job in ("a", "b"):
        await stores.admission.acquire_slot("k1", job, 5)
    doomed = [k async for k in stores.redis.scan_iter(match=backend.redis_prefix + "*")]
    await stores.redis.delete(*doomed)  # Redis restarted without persistence (or was flushed)
    await stores.admission.acquire_slot("k1", "c", 5)
    for job in ("a", "b", "c"):  # the jobs finish
        await stores.admission.release_slot("k1", job)
    key = await stores.keys.get("k1")
    assert key is not None
    assert key.active_jobs == 0  # not 2 for ever (no slot is held any more)


async def test_a_budget_raised_while_the_cache_loads_is_not_cached_stale(backend: Backend) -> None:
    """The load reads SQL, then an admin raises the budget (dropping the cache), then the load writes:
    it must not cache the old maximum for a whole TTL."""
    ledger, redis = _parts(backend)
    key = make_key(max_budget_micros=1_000)
    await backend.stores.keys.create(key)
    await ledger.reserve(key, "a", 900, now=0)
    await redis.delete(ledger.budget_key("k1"))  # expired
    read_snapshot = ledger._db.read_snapshot
    raised = make_key(max_budget_micros=2_000, reserved_micros=900)

    async def raise_meanwhile(fn: Any, *args: Any) -> Any:
        snapshot = await read_snapshot(fn, *args)
        if fn is _budget_snapshot and not raised.alias:
            raised.alias = "raised"
            await backend.stores.keys.save(raised)
        return snapshot

    with patch.object(ledger._db, "read_snapshot", raise_meanwhile):
        await ledger.reserve(key, "b", 500, now=0)  # 900 + 500 fits 2,000
    assert await redis.hget(ledger.budget_key("k1"), "max") == "2000"
    stored = await backend.stores.keys.get("k1")
    assert stored is not None
    assert stored.reserved_micros == 1_400


async def test_a_settle_while_the_cache_loads_is_not_counted_as_still_held(backend: Backend) -> None:
    ledger, redis = _parts(backend)
    key = make_key(max_budget_micros=1_000)
    await backend.stores.keys.create(key)
    await ledger.reserve(key, "a", 900, now=0)
    await redis.delete(ledger.budget_key("k1"))
    read_snapshot = ledger._db.read_snapshot
    settled: list[bool] = []

    async def settle_meanwhile(fn: Any, *args: Any) -> Any:
        snapshot = await read_snapshot(fn, *args)
        if fn is _budget_snapshot and not settled:
            settled.append(await ledger.settle(make_entry("a", 100)))
        return snapshot

    with patch.object(ledger._db, "read_snapshot", settle_meanwhile):
        await ledger.reserve(key, "b", 800, now=0)  # 100 spent + 800: fits 1,000
    assert settled == [True]
    assert await redis.hgetall(ledger.budget_key("k1")) == {
        "max": "1000",
        "spend": "100",
        "reserved": "800",
        "reset_at": "-1",
        "j:b": "800",
    }
