"""Keys: secrets and hashes, the lookup cache, admin fields, and budget periods."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.gateway.harness import Clock

from vidgate.errors import AuthenticationError, BadRequestError, NotFoundError, PermissionDeniedError
from vidgate.gateway.auth import Authenticator, Principal
from vidgate.gateway.budget import BudgetPeriod, next_reset_at, parse_budget_duration, roll_period
from vidgate.gateway.keys import apply_fields, hash_secret, new_secret
from vidgate.gateway.records import KeyRecord
from vidgate.store.memory import MemoryStores


def test_secrets_are_long_random_and_stored_as_sha256() -> None:
    secret = new_secret()
    assert secret.startswith("sk-")
    assert len(secret) >= 3 + 32
    assert new_secret() != secret
    assert len(hash_secret(secret)) == 64
    assert hash_secret(secret) == hash_secret(secret)


async def _one_key() -> tuple[MemoryStores, str, Clock, Authenticator]:
    """A store with key ``k1`` (its secret returned) and an authenticator over it (master key
    ``sk-master-key-1``, 5 s cache on a test clock)."""
    stores = MemoryStores()
    secret = new_secret()
    await stores.keys.create(KeyRecord(id="k1", key_hash=hash_secret(secret), key_prefix=secret[:8]))
    clock = Clock(now=0.0)
    return stores, secret, clock, Authenticator(stores.keys, "sk-master-key-1", ttl=5, clock=clock)


async def test_lookup_is_by_hash_and_cached_until_invalidated() -> None:
    stores, secret, clock, auth = await _one_key()
    assert (await auth.authenticate("sk-master-key-1")).is_master
    principal = await auth.authenticate(secret)
    assert principal.owner_id == "k1"
    assert not principal.is_master
    record = await stores.keys.get("k1")
    assert record is not None
    record.revoked = True
    await stores.keys.save(record)
    assert not (await auth.authenticate(secret)).is_master  # still cached
    clock.advance(6)
    with pytest.raises(AuthenticationError, match="revoked"):
        await auth.authenticate(secret)
    record.revoked = False
    await stores.keys.save(record)
    auth.invalidate()  # what every key change made through this process does
    await auth.authenticate(secret)
    await stores.keys.delete("k1")
    auth.invalidate()
    with pytest.raises(AuthenticationError) as caught:
        await auth.authenticate(secret)
    assert caught.value.code == "invalid_api_key"
    assert secret not in caught.value.message


def test_principal_model_access_and_master_checks() -> None:
    key = KeyRecord(id="k", key_hash="h", key_prefix="sk-", models=("a",))
    p = Principal(key=key, is_master=False)
    assert p.may_use("a")
    assert not p.may_use("b")
    p.require_model("a", True)
    with pytest.raises(NotFoundError):
        p.require_model("b", True)
    with pytest.raises(PermissionDeniedError):
        p.require_master("generate keys")
    master = Principal(key=None, is_master=True)
    assert master.owner_id == "master"
    assert master.may_use("anything")


def _nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep (``{}`` is one)."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"models": "local-1"}, "models"),
        ({"models": ["ghost"]}, "models"),
        ({"max_budget": -1}, "max_budget"),
        ({"max_budget": "lots"}, "max_budget"),
        ({"max_budget": True}, "max_budget"),
        ({"budget_duration": "30x"}, "budget_duration"),
        ({"rpm_limit": 0}, "rpm_limit"),
        ({"max_parallel_requests": 1.5}, "max_parallel_requests"),
        ({"metadata": [1]}, "metadata"),
        ({"key_alias": ""}, "key_alias"),
        ({"blocked": "yes"}, "blocked"),
        ({"tpm_limit": 5}, "tpm_limit"),
        # what the store could not hold or a response could not render: refused, never a 500 later
        ({"key_alias": "a" * 256}, "key_alias"),
        ({"metadata": _nested(33)}, "metadata"),
        ({"metadata": {"l": [_nested(32)]}}, "metadata"),
        ({"metadata": {"x": "y" * (64 * 1024)}}, "metadata"),
    ],
)
def test_bad_admin_fields_name_the_field(fields: dict[str, Any], param: str) -> None:
    record = KeyRecord(id="k", key_hash="h", key_prefix="sk-")
    with pytest.raises(BadRequestError) as caught:
        apply_fields(record, fields, model_names=["local-1"])
    assert caught.value.param == param


def test_the_longest_alias_the_deepest_metadata_and_a_padded_duration_are_kept() -> None:
    record = KeyRecord(id="k", key_hash="h", key_prefix="sk-")
    fields = {"key_alias": "a" * 255, "metadata": _nested(32), "budget_duration": " " * 31 + "1d"}
    apply_fields(record, fields, model_names=["local-1"])
    assert (record.alias, record.metadata) == ("a" * 255, _nested(32))
    assert record.budget_duration == "1d"  # stored as read: the padded text overflowed a 32-char column


def test_admin_fields_are_applied() -> None:
    record = KeyRecord(id="k", key_hash="h", key_prefix="sk-")
    fields = {
        "models": ["local-1", "local-1"],
        "max_budget": 12.345678,
        "budget_duration": "1mo",
        "rpm_limit": 60,
        "max_parallel_requests": 4,
        "key_alias": "team",
        "metadata": {"owner": "x"},
        "blocked": False,
    }
    apply_fields(record, fields, model_names=["local-1"])
    assert record.models == ("local-1",)
    assert record.max_budget_micros == 12_345_678
    assert (record.budget_duration, record.rpm_limit, record.max_parallel_requests) == ("1mo", 60, 4)
    assert (record.alias, record.metadata, record.revoked) == ("team", {"owner": "x"}, False)


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("30s", BudgetPeriod(30, "s")),
        ("10m", BudgetPeriod(10, "m")),
        ("12h", BudgetPeriod(12, "h")),
        ("30d", BudgetPeriod(30, "d")),
        ("2w", BudgetPeriod(2, "w")),
        ("1mo", BudgetPeriod(1, "mo")),
    ],
)
def test_budget_durations_parse(text: str, period: BudgetPeriod) -> None:
    assert parse_budget_duration(text) == period


@pytest.mark.parametrize("text", ["", "0d", "-1d", "1y", "d", "1.5h", "30 days"])
def test_bad_budget_durations(text: str) -> None:
    with pytest.raises(BadRequestError, match="budget_duration"):
        parse_budget_duration(text)


def test_period_ends() -> None:
    assert next_reset_at("10m", 1000) == 1600
    assert next_reset_at(None, 1000) is None
    jan31 = int(dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC).timestamp())
    assert next_reset_at("1mo", jan31) == int(dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC).timestamp())
    assert next_reset_at("13mo", jan31) == int(dt.datetime(2027, 2, 28, 12, tzinfo=dt.UTC).timestamp())


def test_roll_period() -> None:
    assert roll_period(None, None, 50) == (False, None)
    assert roll_period("10s", None, 50) == (False, 60)  # first period starts now
    assert roll_period("10s", 60, 59) == (False, 60)
    assert roll_period("10s", 60, 60) == (True, 70)


def test_model_not_found_lists_only_the_models_this_key_may_use() -> None:
    key = KeyRecord(id="k", key_hash="h", key_prefix="sk-", models=("a", "c"))
    p = Principal(key=key, is_master=False)
    with pytest.raises(NotFoundError) as caught:
        p.require_model("b", True, served=["c", "b", "a", "secret-model"])
    assert caught.value.code == "model_not_found"
    assert caught.value.message == (
        "The model 'b' does not exist or you do not have access to it. Models available to this key: a, c."
    )
    master = Principal(key=None, is_master=True)
    with pytest.raises(NotFoundError) as unknown:
        master.require_model("zz", False, served=["y", "x"])
    assert unknown.value.message.endswith("Models available to this key: x, y.")


def test_model_not_found_shows_at_most_200_characters_of_the_name() -> None:
    master = Principal(key=None, is_master=True)
    with pytest.raises(NotFoundError) as caught:
        master.require_model("m" * 20_000, False, served=["x"])
    assert caught.value.message == (
        f"The model '{'m' * 200}...' does not exist or you do not have access to it. "
        "Models available to this key: x."
    )


async def test_cached_answers_only_from_the_master_key_and_live_cached_keys() -> None:
    stores, secret, clock, auth = await _one_key()
    master = auth.cached("sk-master-key-1")
    assert master is not None
    assert master.is_master
    assert auth.cached(secret) is None  # never looked up: the store decides, not the cache
    await auth.authenticate(secret)
    cached = auth.cached(secret)
    assert cached is not None
    assert cached.owner_id == "k1"
    clock.advance(6)
    assert auth.cached(secret) is None  # expired
    record = await stores.keys.get("k1")
    assert record is not None
    record.revoked = True
    await stores.keys.save(record)
    with pytest.raises(AuthenticationError):
        await auth.authenticate(secret)
    assert auth.cached(secret) is None  # revoked in the cache too
    assert auth.cached("sk-unknown") is None
