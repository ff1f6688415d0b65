"""Admission conformance: the sliding rate window (global across instances sharing a database or
Redis) and concurrent-job slots."""

from __future__ import annotations

import asyncio

import pytest
from tests.store.conftest import Backend
from tests.store.factories import make_key

from vidgate.errors import RateLimitError
from vidgate.gateway.ports import Admission


async def _allowed(admissions: list[Admission], key_id: str, limit: int, count: int, now: float) -> int:
    async def one(i: int) -> bool:
        try:
            await admissions[i % len(admissions)].check_rate(key_id, limit, now=now)
        except RateLimitError:
            return False
        return True

    return sum(await asyncio.gather(*(one(i) for i in range(count))))


async def test_rate_window_slides_and_refusals_are_not_counted(backend: Backend) -> None:
    admission = backend.stores.admission
    for t in (0.0, 10.0, 20.0):
        await admission.check_rate("k", 3, now=t)
    with pytest.raises(RateLimitError) as caught:
        await admission.check_rate("k", 3, now=30.0)
    assert caught.value.status_code == 429
    assert caught.value.retry_after == pytest.approx(30.0)
    assert "3 requests per minute" in caught.value.message
    with pytest.raises(RateLimitError):
        await admission.check_rate("k", 3, now=59.9)
    await admission.check_rate("k", 3, now=60.0)  # the request at 0 left the window
    with pytest.raises(RateLimitError) as again:
        await admission.check_rate("k", 3, now=60.5)
    assert again.value.retry_after == pytest.approx(9.5)  # the one at 10 leaves at 70
    await admission.check_rate("other", 3, now=30.0)  # limits are per key


async def test_hits_that_left_the_window_within_the_last_second_still_make_room(backend: Backend) -> None:
    """The SQL stores drop a key's old hits at most once a second while checks pass: a check whose
    count is full looks again without them, so the window stays exact to the request."""
    admission = backend.stores.admission
    await admission.check_rate("k", 2, now=0.0)
    await admission.check_rate("k", 2, now=0.9)
    with pytest.raises(RateLimitError):
        await admission.check_rate("k", 2, now=59.5)
    await admission.check_rate("k", 2, now=60.1)  # 0.6 s after the last drop: the hit at 0 has left
    with pytest.raises(RateLimitError) as caught:
        await admission.check_rate("k", 2, now=60.2)
    assert caught.value.retry_after == pytest.approx(0.7)  # the hit at 0.9 leaves at 60.9
    await admission.check_rate("k", 2, now=60.95)


async def test_a_refusal_waits_for_the_oldest_hit_still_in_the_window(backend: Backend) -> None:
    """Also when the limit fell to 0 and the key's last drop of old hits was under a second ago."""
    admission = backend.stores.admission
    for t in (0.0, 0.9, 59.95):
        await admission.check_rate("k", 5, now=t)
    with pytest.raises(RateLimitError) as caught:
        await admission.check_rate("k", 0, now=60.5)
    assert caught.value.retry_after == pytest.approx(0.4)  # the hit at 0.9 leaves at 60.9, not the one at 0


async def test_zero_limit_refuses_everything(backend: Backend) -> None:
    with pytest.raises(RateLimitError) as caught:
        await backend.stores.admission.check_rate("k", 0, now=5.0)
    assert caught.value.retry_after == pytest.approx(60.0)


async def test_concurrent_requests_get_exactly_the_limit(backend: Backend) -> None:
    assert await _allowed([backend.stores.admission], "k", 10, 50, now=100.0) == 10


async def test_rate_limit_is_global_across_instances(backend: Backend) -> None:
    other = await backend.another()  # a second replica on the same database / Redis
    admissions = [backend.stores.admission, other.admission]
    assert await _allowed(admissions, "k", 10, 40, now=100.0) == 10
    with pytest.raises(RateLimitError):
        await other.admission.check_rate("k", 10, now=159.0)
    await other.admission.check_rate("k", 10, now=160.0)


async def test_slots_are_idempotent_and_counted_on_the_key(backend: Backend) -> None:
    s = backend.stores
    await s.keys.create(make_key("k1"))
    await s.admission.acquire_slot("k1", "a", 2)
    await s.admission.acquire_slot("k1", "a", 2)
    await s.admission.acquire_slot("k1", "b", 2)
    with pytest.raises(RateLimitError) as caught:
        await s.admission.acquire_slot("k1", "c", 2)
    assert "max_parallel_requests" in caught.value.message
    assert (await s.keys.get("k1")).active_jobs == 2  # type: ignore[union-attr]
    await s.admission.release_slot("k1", "a")
    await s.admission.release_slot("k1", "a")
    assert (await s.keys.get("k1")).active_jobs == 1  # type: ignore[union-attr]
    await s.admission.acquire_slot("k1", "c", 2)
    assert (await s.keys.get("k1")).active_jobs == 2  # type: ignore[union-attr]
    await s.admission.release_slot("k1", "never-held")
    assert (await s.keys.get("k1")).active_jobs == 2  # type: ignore[union-attr]


async def test_slots_without_a_key_row(backend: Backend) -> None:
    admission = backend.stores.admission
    await admission.acquire_slot("master", "a", 1)
    with pytest.raises(RateLimitError):
        await admission.acquire_slot("master", "b", 1)
    await admission.release_slot("master", "a")
    await admission.acquire_slot("master", "b", 1)


async def test_concurrent_slots_across_instances(backend: Backend) -> None:
    await backend.stores.keys.create(make_key("k1"))
    instances = [backend.stores, await backend.another()] if backend.is_sql else [backend.stores]

    async def one(i: int) -> bool:
        try:
            await instances[i % len(instances)].admission.acquire_slot("k1", f"j{i}", 5)
        except RateLimitError:
            return False
        return True

    assert sum(await asyncio.gather(*(one(i) for i in range(30)))) == 5
    assert (await backend.stores.keys.get("k1")).active_jobs == 5  # type: ignore[union-attr]
