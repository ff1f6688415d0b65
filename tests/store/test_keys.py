"""KeyStore conformance: CRUD, lookup by hash, and ``save`` never touching the counters."""

from __future__ import annotations

from typing import Any

import pytest
from tests.store.conftest import Backend
from tests.store.factories import make_entry, make_key

from vidgate.errors import ConflictError, NotFoundError
from vidgate.gateway.records import KeyQuery


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


# ---- page: /key/list ----------------------------------------------------------------------------


async def _ids(backend: Backend, query: KeyQuery) -> tuple[list[str], int]:
    records, total = await backend.stores.keys.page(query)
    return [k.id for k in records], total


async def test_page_is_newest_first_ties_by_id_and_counts_every_match(backend: Backend) -> None:
    for key_id, created in (("k1", 100), ("k2", 200), ("k3", 200), ("k4", 300), ("k5", 50)):
        await backend.stores.keys.create(make_key(key_id, created_at=created))
    assert await _ids(backend, KeyQuery(limit=2)) == (["k4", "k3"], 5)
    assert await _ids(backend, KeyQuery(offset=2, limit=2)) == (["k2", "k1"], 5)
    assert await _ids(backend, KeyQuery(offset=4, limit=2)) == (["k5"], 5)
    assert await _ids(backend, KeyQuery(offset=10, limit=2)) == ([], 5)  # past the end: empty, still counted
    oldest = KeyQuery(limit=10, descending=False)
    assert await _ids(backend, oldest) == (["k5", "k1", "k2", "k3", "k4"], 5)


async def test_page_sorts_absent_values_last_either_way(backend: Backend) -> None:
    budgets = {"k1": 500, "k2": None, "k3": 100, "k4": 500, "k5": None}
    for key_id, budget in budgets.items():
        await backend.stores.keys.create(make_key(key_id, max_budget_micros=budget, spend_micros=7))
    up = KeyQuery(limit=10, sort="max_budget", descending=False)
    assert await _ids(backend, up) == (["k3", "k1", "k4", "k2", "k5"], 5)
    down = KeyQuery(limit=10, sort="max_budget", descending=True)
    assert await _ids(backend, down) == (["k4", "k1", "k3", "k5", "k2"], 5)  # ties: id, same direction
    assert await _ids(backend, KeyQuery(limit=3, sort="spend", descending=False)) == (["k1", "k2", "k3"], 5)
    aliased = {"k6": "charlie", "k7": "alpha", "k8": "bravo"}
    for key_id, alias in aliased.items():
        await backend.stores.keys.create(make_key(key_id, alias=alias))
    by_alias = KeyQuery(limit=4, sort="key_alias", descending=False)
    assert await _ids(backend, by_alias) == (["k7", "k8", "k6", "k1"], 8)
    assert await _ids(backend, KeyQuery(limit=2, sort="token")) == (["k8", "k7"], 8)


async def test_page_filters(backend: Backend) -> None:
    aliases = {
        "k1": "Team-Ads",
        "k2": "team-video",
        "k3": "ops",
        "k4": None,
        "k5": "100%_off",
        "k6": "Équipe Ünïcode",
    }
    for key_id, alias in aliases.items():
        await backend.stores.keys.create(make_key(key_id, alias=alias, revoked=key_id == "k3"))

    async def matching(**filters: Any) -> list[str]:
        records, total = await backend.stores.keys.page(KeyQuery(limit=10, sort="token", **filters))
        assert total == len(records)
        return sorted(k.id for k in records)

    assert await matching(token="k2") == ["k2"]
    assert await matching(token="h-k2") == ["k2"]  # the secret's hash, as LiteLLM's key_hash
    assert await matching(alias="team-video") == ["k2"]
    assert await matching(alias="Team-video") == []  # exact
    assert await matching(alias_contains="TEAM") == ["k1", "k2"]
    assert await matching(alias_contains="%") == ["k5"]  # LIKE's wildcards are literal text
    assert await matching(alias_contains="_") == ["k5"]
    assert await matching(alias_contains="éQUIPE üN") == ["k6"]  # letters beyond ASCII fold too
    assert await matching(search="ÜNÏ") == ["k6"]
    assert await matching(search="k4") == ["k4"]  # a token
    assert await matching(search="h-k4") == ["k4"]
    assert await matching(search="ADS") == ["k1"]  # or in an alias
    assert await matching(revoked=True) == ["k3"]
    assert await matching(revoked=False) == ["k1", "k2", "k4", "k5", "k6"]
    assert await matching(alias_contains="team", revoked=False, search="video") == ["k2"]
