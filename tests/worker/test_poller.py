"""The background poller: jobs reach their terminal state with no client polling, money is made final
exactly once, content is copied into the store, and a crashed worker's jobs are taken over."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from tests.gateway.harness import Gateway
from tests.support.images import damage_first_frames, image_bytes

from vidgate.errors import (
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    UpstreamError,
)
from vidgate.gateway import jobs as machine
from vidgate.gateway.records import JobRecord
from vidgate.gateway.routing import Deployment
from vidgate.gateway.starter import STRANDED_AFTER_SECONDS
from vidgate.providers.base import ProviderJob
from vidgate.types import CONTENT_VARIANTS, ImageInput
from vidgate.worker.poller import Poller


async def _jobs(gw: Gateway, ids: list[str]) -> list[JobRecord]:
    found = [await gw.stores.jobs.get(i) for i in ids]
    assert all(j is not None for j in found)
    return [j for j in found if j is not None]


async def _charges(gw: Gateway) -> Counter[str]:
    logs = await gw.stores.ledger.spend_logs(key_id=None, start=None, end=None, limit=1000)
    return Counter(e.job_id for e in logs)


async def test_poller_finishes_jobs_settles_and_stores_content(gw: Gateway) -> None:
    alice = await gw.new_key("alice", max_parallel_requests=5)
    ok = [(await gw.create(alice)).id for _ in range(3)]
    bad = [(await gw.create(alice, prompt="a fox [fault:fail]")).id]
    poller = Poller(gw.service, worker_id="w1")
    assert await poller.run_once() == 0  # nothing due until the provider's poll hint has passed
    gw.clock.advance(2)
    assert await poller.run_once() == 4
    assert {j.status for j in await _jobs(gw, ok + bad)} == {"in_progress"}
    assert await poller.run_once() == 0
    gw.finish_local_jobs()
    assert await poller.run_once() == 4
    done = await _jobs(gw, ok)
    assert {(j.status, j.cost_micros, j.content_stored, j.lease_owner) for j in done} == {
        ("completed", 100_000, True, None)
    }
    failed = (await _jobs(gw, bad))[0]
    assert (failed.status, failed.cost_micros, failed.content_stored) == ("failed", 0, False)
    for job in done:
        for variant in CONTENT_VARIANTS:
            assert await gw.stores.content.stat(job.id, variant) is not None
    assert await poller.run_once() == 0  # fully done: never claimed again
    key = await gw.key(alice)
    assert (key.spend_micros, key.reserved_micros, key.active_jobs) == (300_000, 0, 0)
    assert await _charges(gw) == Counter(dict.fromkeys(ok, 1))

    downloads = gw.local.calls["download"]
    stream = await gw.service.open_content(alice, ok[0], "video", (0, 7))
    assert b"".join([c async for c in stream.chunks])[4:8] == b"ftyp"
    assert gw.local.calls["download"] == downloads  # served from the content store


async def test_crashed_worker_jobs_are_taken_over_and_charged_once(gw: Gateway) -> None:
    alice = await gw.new_key("alice", max_budget=10.0)
    ids = [(await gw.create(alice)).id for _ in range(6)]
    gw.finish_local_jobs()
    crashed = Poller(gw.service, worker_id="crashed", lease_seconds=30)
    claimed = await gw.stores.jobs.claim_due("crashed", now=gw.clock(), lease_seconds=30, limit=100)
    assert len(claimed) == 6
    # The crashed worker got half-way through two jobs: polled, settled and saved, but never copied
    # the content nor released the lease.
    for job in claimed[:2]:
        saved, transition = await gw.service.keeper.step(job, "crashed", keep_lease=True)
        assert transition.settle
        assert saved.lease_owner == "crashed"
    rescuer = Poller(gw.service, worker_id="rescuer", lease_seconds=30)
    assert await rescuer.run_once() == 0  # the leases still hold
    gw.clock.advance(31)
    assert await rescuer.run_once() == 6
    jobs = await _jobs(gw, ids)
    assert {(j.status, j.content_stored, j.cost_micros) for j in jobs} == {("completed", True, 100_000)}
    assert await _charges(gw) == Counter(dict.fromkeys(ids, 1))
    key = await gw.key(alice)
    assert (key.spend_micros, key.reserved_micros) == (600_000, 0)
    assert await crashed.run_once() == 0


async def test_poll_errors_back_off_instead_of_hot_looping(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.local.fail_polls = ServiceUnavailableError("upstream down")
    poller = Poller(gw.service, worker_id="w")
    gw.clock.advance(2)
    waits = []
    for _ in range(4):
        assert await poller.run_once() == 1
        job = (await _jobs(gw, [video.id]))[0]
        waits.append(job.next_poll_at - gw.clock())
        assert await poller.run_once() == 0  # not due again until the backoff has passed
        gw.clock.advance(waits[-1])
    assert waits == [2.0, 4.0, 8.0, 16.0]
    gw.local.fail_polls = None
    gw.finish_local_jobs()
    assert await poller.run_once() == 1
    assert (await _jobs(gw, [video.id]))[0].status == "completed"


async def test_a_job_the_provider_lost_is_failed_and_released(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.local.fail_polls = NotFoundError("no such video")
    poller = Poller(gw.service, worker_id="w")
    for _ in range(3):
        gw.clock.advance(60)
        assert await poller.run_once() == 1
    job = (await _jobs(gw, [video.id]))[0]
    assert (job.status, job.error_code, job.cost_micros) == ("failed", "not_found", 0)
    assert (await gw.key(alice)).reserved_micros == 0


async def test_content_fetch_retries_then_succeeds(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    gw.local.fail_downloads = ServiceUnavailableError("storage hiccup")
    poller = Poller(gw.service, worker_id="w")
    assert await poller.run_once() == 1
    job = (await _jobs(gw, [video.id]))[0]
    assert (job.status, job.cost_micros, job.content_stored) == ("completed", 100_000, False)
    assert job.next_poll_at > gw.clock()
    gw.local.fail_downloads = None
    gw.clock.advance(job.next_poll_at - gw.clock())
    assert await poller.run_once() == 1
    job = (await _jobs(gw, [video.id]))[0]
    assert job.content_stored
    assert await _charges(gw) == Counter({video.id: 1})


async def test_content_gone_upstream_parks_the_job(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    gw.local.fail_downloads = NotFoundError("expired")
    poller = Poller(gw.service, worker_id="w")
    assert await poller.run_once() == 1
    gw.clock.advance(365 * 86400)
    assert await poller.run_once() == 0
    job = (await _jobs(gw, [video.id]))[0]
    assert (job.status, job.cost_micros, job.content_stored) == ("completed", 100_000, False)


async def test_content_that_can_never_be_made_parks_the_job_at_once(gw: Gateway) -> None:
    """The local renderer cannot decode the job's stored first frame (saved before the create decoded
    it): the same on every try, so the copy is given up at the first failure (it was retried with
    backoff up to ``MAX_FETCH_ATTEMPTS`` times); a request for the content gets the renderer's 502."""
    alice = await gw.new_key("alice")
    image = ImageInput(data=image_bytes(32, 18, "png"), mime_type="image/png")
    video = await gw.create(alice, input_reference=image)
    assert damage_first_frames(gw.root) == 1
    gw.finish_local_jobs()
    poller = Poller(gw.service, worker_id="w")
    assert await poller.run_once() == 1
    job = (await _jobs(gw, [video.id]))[0]
    assert (job.status, job.content_stored, job.next_poll_at) == ("completed", False, machine.PARKED)
    with pytest.raises(UpstreamError) as info:
        await gw.service.open_content(alice, video.id, "video", None)
    assert (info.value.status_code, info.value.code) == (502, "render_failed")


async def test_a_transient_upstream_error_while_copying_is_retried(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    gw.local.fail_downloads = UpstreamError("busy", provider="local")
    poller = Poller(gw.service, worker_id="w")
    assert await poller.run_once() == 1
    job = (await _jobs(gw, [video.id]))[0]
    assert gw.clock() < job.next_poll_at < machine.PARKED


async def test_started_poller_runs_in_the_background(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    poller = Poller(gw.service, worker_id="bg", interval=0.01)
    poller.start()
    assert poller.running
    for _ in range(500):
        job = (await _jobs(gw, [video.id]))[0]
        if job.content_stored:
            break
        await asyncio.sleep(0.01)
    await poller.stop()
    assert not poller.running
    job = (await _jobs(gw, [video.id]))[0]
    assert (job.status, job.content_stored, job.cost_micros) == ("completed", True, 100_000)


async def test_lease_is_renewed_during_a_long_copy(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    renewals = 0
    original = gw.stores.jobs.try_lease

    async def counting(job_id: str, worker_id: str, *, now: float, lease_seconds: float) -> JobRecord | None:
        nonlocal renewals
        renewals += 1
        return await original(job_id, worker_id, now=now, lease_seconds=lease_seconds)

    slow_put = gw.stores.content.put

    async def put(job_id: str, variant: str, chunks: object, media_type: str) -> int:
        await asyncio.sleep(0.1)
        return await slow_put(job_id, variant, chunks, media_type)  # type: ignore[arg-type]

    gw.stores.jobs.try_lease = counting  # type: ignore[method-assign]
    gw.stores.content.put = put  # type: ignore[method-assign]
    poller = Poller(gw.service, worker_id="w", lease_seconds=0.06)
    assert await poller.run_once() == 1
    assert renewals >= 3
    job = (await _jobs(gw, [video.id]))[0]
    assert (job.content_stored, job.lease_owner) == (True, None)  # the final save saw every renewal


async def test_background_poll_and_copy_errors_are_reported_as_upstream_errors(gw: Gateway) -> None:
    seen: list[tuple[str, int]] = []
    gw.service.on_upstream_error = lambda provider, status: seen.append((provider, status))
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    poller = Poller(gw.service, worker_id="w")
    gw.local.fail_polls = ServiceUnavailableError("upstream down")  # no provider on it: the job's is used
    gw.clock.advance(2)
    assert await poller.run_once() == 1
    gw.local.fail_polls = InternalServerError("boom", provider="local")
    gw.clock.advance(2)
    assert await poller.run_once() == 1
    assert seen == [("local", 503), ("local", 500)]
    gw.local.fail_polls = None
    gw.local.fail_downloads = ServiceUnavailableError("storage hiccup", provider="local")
    gw.finish_local_jobs()
    assert await poller.run_once() == 1
    assert seen[2:] == [("local", 503)]  # the content copy failed
    assert (await _jobs(gw, [video.id]))[0].status == "completed"
    gw.service.on_upstream_error = None  # no hook: nothing breaks
    gw.clock.advance(60)
    assert await poller.run_once() == 1


async def test_reservation_and_slot_of_a_create_that_died_midway_are_given_back(gw: Gateway) -> None:
    alice = await gw.new_key("alice", max_budget=0.25, max_parallel_requests=1)
    # A replica took the slot and reserved, then was killed while the provider's create ran: no job
    # row was ever stored, and nothing else would ever give the slot and the money back.
    await gw.service.starter.admit(alice, "video_" + "d" * 32, 200_000)
    poller = Poller(gw.service, worker_id="w1")
    assert await poller.reap_once() == 0  # the create may still be running
    with pytest.raises(RateLimitError):
        await gw.create(alice)
    gw.clock.advance(STRANDED_AFTER_SECONDS + 1)
    assert await poller.reap_once() == 1
    key = await gw.key(alice)
    assert (key.reserved_micros, key.active_jobs) == (0, 0)
    created = await gw.create(alice)
    gw.clock.advance(STRANDED_AFTER_SECONDS + 1)
    assert await poller.reap_once() == 0  # a stored job's reservation is the poller's, not stranded
    key = await gw.key(alice)
    assert (key.reserved_micros, key.active_jobs) == (100_000, 1)
    assert (await gw.stores.jobs.get(created.id)) is not None


async def test_health_reports_a_stopped_poller_and_one_whose_last_good_round_is_too_old(gw: Gateway) -> None:
    poller = Poller(gw.service, worker_id="w1", interval=3600, stale_after=10)
    assert poller.health() == "the poller is not running"
    poller.start()
    try:
        gw.clock.advance(1)
        started = gw.clock()
        for _ in range(200):  # the first round runs at once, then the loop sleeps for the interval
            if poller.last_good_round == started:
                break
            await asyncio.sleep(0.01)
        assert poller.last_good_round == started
        assert poller.health() is None
        gw.clock.advance(10)
        assert poller.health() is None  # exactly at the bound: still alive
        gw.clock.advance(1)
        assert poller.health() == "the poller's last good round was 11 s ago (bound 10 s)"
    finally:
        await poller.stop()
    assert poller.health() == "the poller is not running"


async def test_a_poll_with_nothing_more_to_do_releases_the_lease_in_its_own_save(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    vid = (await gw.create(alice)).id
    gw.clock.advance(2)
    [before] = await _jobs(gw, [vid])
    poller = Poller(gw.service, worker_id="w1")
    assert await poller.run_once() == 1
    [after] = await _jobs(gw, [vid])
    assert (after.status, after.lease_owner, after.lease_expires_at) == ("in_progress", None, None)
    assert after.version == before.version + 2  # the claim and the poll's save: no third write


async def test_a_job_that_waited_its_turn_is_leased_again_or_left_to_the_replica_that_took_it(
    gw: Gateway,
) -> None:
    """A round claims its jobs at once and works ``concurrency`` at a time; a claimed lease is renewed
    only once its job's step runs. Behind a poll slower than a third of the lease, the next job is
    leased again before its poll; one whose lease ran out and another replica took is not polled."""
    alice = await gw.new_key("alice")
    ids = [(await gw.create(alice)).id for _ in range(3)]
    gw.clock.advance(2)
    calls = gw.service.keeper.calls
    retrieve, polled, first_out, go_on = calls.retrieve, [], asyncio.Event(), asyncio.Event()

    async def slow_first(dep: Deployment, native_id: str) -> ProviderJob:
        polled.append(native_id)
        if len(polled) == 1:
            first_out.set()
            await go_on.wait()
        return await retrieve(dep, native_id)

    calls.retrieve = slow_first  # type: ignore[method-assign]
    poller = Poller(gw.service, worker_id="w", concurrency=1, lease_seconds=30)
    round_ = asyncio.create_task(poller.run_once())
    await first_out.wait()
    waiting = [j for j in await _jobs(gw, ids) if j.native_id != polled[0]]
    assert [j.lease_owner for j in waiting] == ["w", "w"]  # claimed with the first
    gw.clock.advance(31)  # the first poll outlasts the waiting jobs' leases
    taken = await gw.stores.jobs.try_lease(waiting[1].id, "other", now=gw.clock(), lease_seconds=30)
    assert taken is not None  # another replica's claim of the second waiting job
    go_on.set()
    assert await round_ == 3
    assert len(polled) == 2  # the first, and the waiting job leased again; not the one "other" holds
    again, held = await _jobs(gw, [waiting[0].id, waiting[1].id])
    assert (again.upstream_polls, again.lease_owner) == (1, None)  # polled, then let go
    assert (held.upstream_polls, held.lease_owner) == (0, "other")


async def test_a_cancelled_round_cancels_the_work_out(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    await gw.create(alice)
    gw.clock.advance(2)
    calls = gw.service.keeper.calls
    out, cancelled = asyncio.Event(), asyncio.Event()

    async def held(dep: Deployment, native_id: str) -> ProviderJob:
        out.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        raise AssertionError("never answered")

    calls.retrieve = held  # type: ignore[method-assign]
    round_ = asyncio.create_task(Poller(gw.service, worker_id="w").run_once())
    await out.wait()
    round_.cancel()
    with pytest.raises(asyncio.CancelledError):
        await round_
    assert cancelled.is_set()
