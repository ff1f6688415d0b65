"""KeyStore conformance: CRUD, lookup by hash, and ``save`` never touching the counters."""

from __future__ import annotations

import pytest
from tests.store.conftest import Backend
from tests.store.factories import make_entry, make_key

from vidgate.errors import ConflictError, NotFoundError


async def test_create_get_lookup_and_list(backend: Backend) -> None:
    keys = backend.stores.keys
    full = make_key(
        "k1",
        alias="team-a",
        models=("sora-2", "veo-3"),
        max_budget_micros=5_000_000,
        budget_duration="30d",
        rpm_limit=60,
        max_parallel_requests=3,
        metadata={"team": "a", "tags": ["x", "y"]},
        created_at=200,
    )
    await keys.create(full)
    await keys.create(make_key("k0", created_at=100))
    await keys.create(make_key("k2", created_at=200))
    assert await keys.get("k1") == full
    assert await keys.get_by_hash("h-k1") == full
    assert await keys.get("missing") is None
    assert await keys.get_by_hash("h-missing") is None
    assert [k.id for k in await keys.list()] == ["k0", "k1", "k2"]  # by (created_at, id)


async def test_duplicates_conflict(backend: Backend) -> None:
    keys = backend.stores.keys
    await keys.create(make_key("k1"))
    with pytest.raises(ConflictError):
        await keys.create(make_key("k1"))
    clash = make_key("k2")
    clash.key_hash = "h-k1"
    with pytest.raises(ConflictError):
        await keys.create(clash)
    assert [k.id for k in await keys.list()] == ["k1"]


async def test_returned_records_are_copies(backend: Backend) -> None:
    await backend.stores.keys.create(make_key("k1", models=("a",)))
    got = await backend.stores.keys.get("k1")
    assert got is not None
    got.alias = "changed locally"
    got.metadata["x"] = 1
    again = await backend.stores.keys.get("k1")
    assert again is not None
    assert (again.alias, again.metadata) == (None, {})


async def test_save_writes_admin_fields_but_never_counters(backend: Backend) -> None:
    s = backend.stores
    await s.keys.create(make_key("k1", max_budget_micros=1_000))
    key = await s.keys.get("k1")
    assert key is not None
    await s.ledger.reserve(key, "j1", 400, now=10)
    await s.ledger.reserve(key, "j2", 100, now=10)
    assert await s.ledger.settle(make_entry("j2", 100)) is True
    await s.admission.acquire_slot("k1", "j1", 5)

    stale = key  # still shows zero counters
    stale.alias = "renamed"
    stale.models = ("sora-2",)
    stale.max_budget_micros = 2_000
    stale.budget_duration = "1h"
    stale.rpm_limit = 10
    stale.max_parallel_requests = 1
    stale.metadata = {"owner": "ops"}
    stale.revoked = True
    stale.spend_micros = stale.total_spend_micros = stale.reserved_micros = stale.active_jobs = 0
    stale.budget_reset_at = 99
    await s.keys.save(stale)

    stored = await s.keys.get("k1")
    assert stored is not None
    assert (stored.alias, stored.models, stored.max_budget_micros, stored.budget_duration) == (
        "renamed",
        ("sora-2",),
        2_000,
        "1h",
    )
    assert (stored.rpm_limit, stored.max_parallel_requests, stored.metadata, stored.revoked) == (
        10,
        1,
        {"owner": "ops"},
        True,
    )
    counters = (stored.spend_micros, stored.total_spend_micros, stored.reserved_micros, stored.active_jobs)
    assert counters == (100, 100, 400, 1)
    assert stored.budget_reset_at == 99  # budget_duration changed: the caller's date starts a new period


async def test_save_keeps_the_ledgers_period_while_budget_duration_is_unchanged(backend: Backend) -> None:
    s = backend.stores
    await s.keys.create(make_key("k1", max_budget_micros=1_000, budget_duration="1h", budget_reset_at=3_600))
    stale = await s.keys.get("k1")
    assert stale is not None
    key = await s.keys.get("k1")
    assert key is not None
    await s.ledger.reserve(key, "j1", 100, now=4_000)  # the period rolled: the ledger moved reset_at
    rolled = await s.keys.get("k1")
    assert rolled is not None
    assert rolled.budget_reset_at == 7_600
    stale.alias = "renamed"  # an admin edit made from a read taken before the roll
    await s.keys.save(stale)
    stored = await s.keys.get("k1")
    assert stored is not None
    assert (stored.alias, stored.budget_reset_at) == ("renamed", 7_600)


async def test_save_unknown_key_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFoundError):
        await backend.stores.keys.save(make_key("ghost"))


async def test_delete(backend: Backend) -> None:
    await backend.stores.keys.create(make_key("k1"))
    assert await backend.stores.keys.delete("k1") is True
    assert await backend.stores.keys.delete("k1") is False
    assert await backend.stores.keys.get("k1") is None
    assert await backend.stores.keys.get_by_hash("h-k1") is None
