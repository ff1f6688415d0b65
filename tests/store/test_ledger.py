"""Ledger conformance: reservations exact under concurrency (also across two instances sharing the
database and Redis), settle/release exactly once, budget periods, spend logs."""

from __future__ import annotations

import asyncio

import pytest
from tests.store.conftest import Backend
from tests.store.factories import make_entry, make_job, make_key

from vidgate.errors import AuthenticationError, BudgetExceededError, NotFoundError
from vidgate.gateway.ports import Ledger
from vidgate.gateway.records import KeyRecord


async def _reserve_all(ledgers: list[Ledger], key: KeyRecord, count: int, micros: int) -> list[bool]:
    async def one(i: int) -> bool:
        try:
            await ledgers[i % len(ledgers)].reserve(key, f"j{i:03d}", micros, now=1000)
        except BudgetExceededError:
            return False
        return True

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _counters(backend: Backend, key_id: str = "k1") -> tuple[int, int, int]:
    key = await backend.stores.keys.get(key_id)
    assert key is not None
    return key.spend_micros, key.total_spend_micros, key.reserved_micros


async def test_hundred_concurrent_reserves_against_a_budget_for_ten(backend: Backend) -> None:
    key = make_key(max_budget_micros=1_000_000)
    await backend.stores.keys.create(key)
    results = await _reserve_all([backend.stores.ledger], key, 100, 100_000)
    assert sum(results) == 10
    assert await _counters(backend) == (0, 0, 1_000_000)


async def test_exact_across_two_instances(backend: Backend) -> None:
    other = await backend.another()  # its own engine and pool (and Redis client): a second replica
    key = make_key(max_budget_micros=1_000_000)
    await backend.stores.keys.create(key)
    await backend.stores.ledger.reserve(key, "warm", 100_000, now=1000)  # one instance has a warm cache
    results = await _reserve_all([backend.stores.ledger, other.ledger], key, 100, 100_000)
    assert sum(results) == 9
    assert await _counters(backend) == (0, 0, 1_000_000)
    # Settling on one instance frees budget that the other sees at once.
    assert await other.ledger.release("k1", "warm") is True
    await backend.stores.ledger.reserve(key, "after", 100_000, now=1001)
    with pytest.raises(BudgetExceededError):
        await other.ledger.reserve(key, "too-much", 1, now=1001)


async def test_budget_refusal_says_so(backend: Backend) -> None:
    key = make_key(max_budget_micros=500_000)
    await backend.stores.keys.create(key)
    await backend.stores.ledger.reserve(key, "a", 400_000, now=1000)
    with pytest.raises(BudgetExceededError) as caught:
        await backend.stores.ledger.reserve(key, "b", 200_000, now=1000)
    assert caught.value.status_code == 429
    assert caught.value.code == "budget_exceeded"
    assert "Budget exceeded" in caught.value.message
    assert "$0.2" in caught.value.message  # what this request costs
    assert "$0.1" in caught.value.message  # what is left
    assert await _counters(backend) == (0, 0, 400_000)


async def test_reserve_is_idempotent_per_job_and_needs_a_key(backend: Backend) -> None:
    key = make_key(max_budget_micros=1_000)
    await backend.stores.keys.create(key)
    for _ in range(3):
        await backend.stores.ledger.reserve(key, "a", 600, now=0)
    assert await _counters(backend) == (0, 0, 600)
    with pytest.raises(NotFoundError):
        await backend.stores.ledger.reserve(make_key("ghost"), "g", 1, now=0)


async def test_key_without_budget_is_unlimited_but_counted(backend: Backend) -> None:
    key = make_key()
    await backend.stores.keys.create(key)
    results = await _reserve_all([backend.stores.ledger], key, 20, 10**12)
    assert all(results)
    assert await _counters(backend) == (0, 0, 20 * 10**12)
    assert await backend.stores.ledger.settle(make_entry("j000", 3)) is True
    assert await _counters(backend) == (3, 3, 19 * 10**12)


async def test_settle_and_release_happen_once(backend: Backend) -> None:
    ledger = backend.stores.ledger
    key = make_key(max_budget_micros=1000)
    await backend.stores.keys.create(key)
    await ledger.reserve(key, "a", 300, now=0)
    await ledger.reserve(key, "b", 300, now=0)
    assert await ledger.settle(make_entry("a", 250)) is True
    assert await ledger.settle(make_entry("a", 250)) is False
    assert await ledger.release("k1", "a") is False
    assert await ledger.release("k1", "b") is True
    assert await ledger.release("k1", "b") is False
    assert await ledger.settle(make_entry("b", 300)) is False
    await ledger.reserve(key, "a", 300, now=0)  # a finished job cannot reserve again
    assert await _counters(backend) == (250, 250, 0)
    logs = await ledger.spend_logs(key_id="k1", start=None, end=None, limit=10)
    assert logs == [make_entry("a", 250)]


async def test_charged_is_what_the_first_settle_or_release_made_final(backend: Backend) -> None:
    ledger = backend.stores.ledger
    key = make_key(max_budget_micros=1000)
    await backend.stores.keys.create(key)
    for job in ("a", "b", "held"):
        await ledger.reserve(key, job, 300, now=0)
    assert await ledger.settle(make_entry("a", 250)) is True
    assert await ledger.release("k1", "a") is False
    assert await ledger.release("k1", "b") is True
    assert await ledger.settle(make_entry("b", 300)) is False
    assert await ledger.settle(make_entry("m", 7, key_id="master")) is True  # no reservation
    charged = {job: await ledger.charged(job) for job in ("a", "b", "held", "m", "unknown")}
    assert charged == {"a": 250, "b": 0, "held": 0, "m": 7, "unknown": 0}


async def test_concurrent_settles_charge_once(backend: Backend) -> None:
    key = make_key(max_budget_micros=1000)
    await backend.stores.keys.create(key)
    await backend.stores.ledger.reserve(key, "a", 300, now=0)
    ledgers = (
        [backend.stores.ledger, (await backend.another()).ledger]
        if backend.is_sql
        else [backend.stores.ledger]
    )
    results = await asyncio.gather(
        *(ledgers[i % len(ledgers)].settle(make_entry("a", 280)) for i in range(20))
    )
    assert sum(results) == 1
    assert await _counters(backend) == (280, 280, 0)
    assert len(await backend.stores.ledger.spend_logs(key_id="k1", start=None, end=None, limit=10)) == 1


async def test_settle_and_release_without_reservation_record_once(backend: Backend) -> None:
    ledger = backend.stores.ledger
    assert await ledger.settle(make_entry("m", 7, key_id="master")) is True
    assert await ledger.settle(make_entry("m", 7, key_id="master")) is False
    assert await ledger.release("master", "m") is False
    assert len(await ledger.spend_logs(key_id="master", start=None, end=None, limit=5)) == 1
    assert await ledger.release("master", "r") is True
    assert await ledger.release("master", "r") is False
    assert await ledger.settle(make_entry("r", 7, key_id="master")) is False


async def test_budget_period_rolls_over(backend: Backend) -> None:
    ledger = backend.stores.ledger
    key = make_key(max_budget_micros=500_000, budget_duration="30s")
    await backend.stores.keys.create(key)
    await ledger.reserve(key, "a", 400_000, now=1000)  # the first period starts now: ends at 1030
    started = await backend.stores.keys.get("k1")
    assert started is not None
    assert started.budget_reset_at == 1030
    assert await ledger.settle(make_entry("a", 400_000, at=1001)) is True
    with pytest.raises(BudgetExceededError):
        await ledger.reserve(key, "b", 200_000, now=1029)
    await ledger.reserve(key, "c", 200_000, now=1030)  # the period ended: spend starts from zero
    rolled = await backend.stores.keys.get("k1")
    assert rolled is not None
    assert (rolled.spend_micros, rolled.total_spend_micros, rolled.reserved_micros) == (0, 400_000, 200_000)
    assert rolled.budget_reset_at == 1060
    await ledger.reserve(key, "d", 300_000, now=1031)
    with pytest.raises(BudgetExceededError):
        await ledger.reserve(key, "e", 1, now=1032)
    # A settle after the next period ended rolls it over too.
    assert await ledger.settle(make_entry("c", 100_000, at=1070)) is True
    after = await backend.stores.keys.get("k1")
    assert after is not None
    assert (after.spend_micros, after.total_spend_micros, after.reserved_micros) == (
        100_000,
        500_000,
        300_000,
    )
    assert after.budget_reset_at == 1100


async def test_concurrent_reserves_roll_the_period_once(backend: Backend) -> None:
    key = make_key(max_budget_micros=1_000, budget_duration="10s")
    await backend.stores.keys.create(key)
    await backend.stores.ledger.reserve(key, "first", 1_000, now=0)
    assert await backend.stores.ledger.settle(make_entry("first", 1_000, at=1)) is True

    async def one(i: int) -> bool:
        try:
            await backend.stores.ledger.reserve(key, f"j{i}", 100, now=10 + i % 3)
        except BudgetExceededError:
            return False
        return True

    results = await asyncio.gather(*(one(i) for i in range(30)))
    assert sum(results) == 10  # one roll-over, not one per caller
    rolled = await backend.stores.keys.get("k1")
    assert rolled is not None
    assert (rolled.spend_micros, rolled.reserved_micros) == (0, 1_000)
    assert rolled.budget_reset_at in (20, 21, 22)


async def test_spend_logs_filter_and_order(backend: Backend) -> None:
    ledger = backend.stores.ledger
    for key_id in ("k1", "k2"):
        await backend.stores.keys.create(make_key(key_id))
    for i, (key_id, at) in enumerate([("k1", 100), ("k2", 150), ("k1", 200), ("k1", 300), ("k1", 200)]):
        assert await ledger.settle(make_entry(f"j{i}", 10 * (i + 1), key_id=key_id, at=at)) is True
    everything = await ledger.spend_logs(key_id=None, start=None, end=None, limit=100)
    assert [e.job_id for e in everything] == ["j3", "j4", "j2", "j1", "j0"]  # newest first, then id desc
    assert everything[0] == make_entry("j3", 40, at=300)
    mine = await ledger.spend_logs(key_id="k1", start=150, end=200, limit=100)
    assert [e.job_id for e in mine] == ["j4", "j2"]
    assert [e.job_id for e in await ledger.spend_logs(key_id="k1", start=None, end=None, limit=2)] == [
        "j3",
        "j4",
    ]
    assert await ledger.spend_logs(key_id="k3", start=None, end=None, limit=10) == []


async def test_stranded_reservations_are_old_held_ones_whose_job_was_never_stored(backend: Backend) -> None:
    ledger = backend.stores.ledger
    key = make_key(max_budget_micros=1000)
    await backend.stores.keys.create(key)
    await ledger.reserve(key, "died", 300, now=100)  # the replica died during the provider's create
    await ledger.reserve(key, "young", 300, now=500)  # its create may still be running
    await ledger.reserve(key, "stored", 100, now=100)
    await backend.stores.jobs.insert(make_job("stored"))
    await ledger.reserve(key, "released", 100, now=100)
    assert await ledger.release("k1", "released") is True
    assert await ledger.stranded(before=400, limit=10) == [("k1", "died")]
    assert await ledger.stranded(before=400, limit=0) == []
    assert await ledger.release("k1", "died") is True
    assert await ledger.stranded(before=400, limit=10) == []
    assert await _counters(backend) == (0, 0, 400)


async def test_total_spend_counts_every_settlement_even_of_deleted_keys(backend: Backend) -> None:
    ledger = backend.stores.ledger
    assert await ledger.total_spend() == 0
    for key_id, job_id, cost in (("k1", "a", 250), ("k2", "b", 100)):
        key = make_key(key_id, max_budget_micros=1000)
        await backend.stores.keys.create(key)
        await ledger.reserve(key, job_id, 300, now=0)
        assert await ledger.settle(make_entry(job_id, cost, key_id=key_id)) is True
    assert await ledger.settle(make_entry("c", 40, key_id="master")) is True  # the master key has no row
    assert await backend.stores.keys.delete("k2") is True
    assert await ledger.total_spend() == 390


async def test_a_key_revoked_after_it_authenticated_reserves_nothing(backend: Backend) -> None:
    """The request holds the key as it was when it authenticated; the reservation reads the row, so a
    key blocked meanwhile starts nothing (a 401, as a new request gets)."""
    key = make_key(max_budget_micros=1_000_000)
    await backend.stores.keys.create(key)
    await backend.stores.ledger.reserve(key, "before", 100_000, now=1000)
    blocked = await backend.stores.keys.get(key.id)
    assert blocked is not None
    blocked.revoked = True
    await backend.stores.keys.save(blocked)
    with pytest.raises(AuthenticationError) as caught:
        await backend.stores.ledger.reserve(key, "after", 100_000, now=1000)  # ``key``: the stale copy
    assert caught.value.code == "revoked_api_key"
    assert await _counters(backend) == (0, 0, 100_000)
