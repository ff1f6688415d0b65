"""Write-ahead creates against the OpenAI emulator over loopback: a replica killed while the provider's
create runs leaves a ``submitting`` job that another replica's poller resolves once the dead one's
lease lapses: found at the provider by list (recorded, then charged), or failed
``upstream_outcome_unknown`` with the money and the slot given back."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tests.gateway.harness import MASTER
from tests.support.live import live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.errors import APIError, ServiceUnavailableError
from vidgate.gateway import submitting
from vidgate.gateway.auth import Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.config import GatewayConfig, parse_config
from vidgate.gateway.records import JobRecord, KeyRecord, OwedCancel
from vidgate.gateway.routing import Deployment
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.gateway.submitting import SUBMIT_LEASE_SECONDS, is_placeholder
from vidgate.providers.base import ProviderJob, ProviderPage
from vidgate.providers.openai.emulator import create_app
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner, RetryPolicy
from vidgate.types import VideoRequest
from vidgate.worker.poller import Poller

UPSTREAM_KEY = "sk-upstream-wal"
FOUR_SECONDS_OF_SORA_2 = 400_000  # 4 s x $0.10/s


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = EmulatorSettings(
        api_key=UPSTREAM_KEY,
        processing_seconds=0.2,
        poll_after_ms=50,
        cache_dir=tmp_path_factory.mktemp("emu-cache"),
    )
    with live_server(create_app(settings)) as url:
        yield url


@dataclass
class Clock:
    """Wall time (the emulator stamps its jobs with it) that a test can move forward."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class KilledDuringCreate(ProviderCalls):
    """A replica killed while the provider's create ran: the create is sent (``send``) or not, and
    then never returns, so nothing after it ever runs in this replica."""

    def __init__(self, runner: AsyncRunner, *, send: bool) -> None:
        super().__init__(runner)
        self.send = send
        self.reached = asyncio.Event()
        self._never = asyncio.Event()

    async def create(self, dep: Deployment, req: VideoRequest) -> ProviderJob:
        if self.send:
            await super().create(dep, req)
        self.reached.set()
        await self._never.wait()
        raise AssertionError("a killed replica never gets here")


def _config(url: str) -> GatewayConfig:
    params = {
        "model": "openai/sora-2",
        "api_key": UPSTREAM_KEY,
        "api_base": f"{url}/v1",
        "allow_retired": True,  # the Sora shape lives on as a test fixture
    }
    return parse_config(
        {
            "model_list": [{"model_name": "sora-2", "litellm_params": params}],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )


@dataclass
class Replicas:
    stores: MemoryStores
    clock: Clock
    dead: GatewayService
    dead_calls: KilledDuringCreate
    live: GatewayService
    unknown: list[str]

    async def key(self, p: Principal) -> KeyRecord:
        assert p.key is not None
        found = await self.stores.keys.get(p.key.id)
        assert found is not None
        return found

    async def jobs(self, p: Principal) -> list[JobRecord]:
        found, _ = await self.stores.jobs.list_for_owner(p.owner_id, after=None, limit=10, order="asc")
        records = [await self.stores.jobs.get(summary.id) for summary in found]
        return [job for job in records if job is not None]


async def _open(url: str, *, send: bool) -> Replicas:
    stores, clock = MemoryStores(), Clock()
    runner = AsyncRunner(retry=RetryPolicy(max_retries=0))
    config = _config(url)
    dead_calls = KilledDuringCreate(runner, send=send)
    dead = GatewayService(config, stores, runner, calls=dead_calls, clock=clock, auth_ttl=0)
    live = GatewayService(config, stores, runner, clock=clock, auth_ttl=0)
    unknown: list[str] = []
    live.keeper.on_outcome_unknown = unknown.append
    return Replicas(stores, clock, dead, dead_calls, live, unknown)


async def _alice(r: Replicas) -> Principal:
    master = await r.live.authenticate(MASTER)
    secret, _ = await r.live.generate_key(master, key_alias="alice", max_budget=1.0, max_parallel_requests=1)
    return await r.live.authenticate(secret)


def _request(prompt: str) -> CreateVideo:
    return CreateVideo(model="sora-2", prompt=prompt, seconds="4", size="720x1280")


async def _kill_during_create(r: Replicas, alice: Principal, prompt: str) -> asyncio.Task[object]:
    """Start a create on the replica that dies, and wait until its provider call is under way."""
    killed: asyncio.Task[object] = asyncio.create_task(r.dead.create_video(alice, _request(prompt)))
    await asyncio.wait_for(r.dead_calls.reached.wait(), timeout=30)
    return killed


async def _resolve(r: Replicas, alice: Principal, poller: Poller) -> JobRecord:
    """Run the live replica's poller until alice's one job has its money final (bounded)."""
    [job] = await r.jobs(alice)
    return await _resolve_one(r, job.id, poller)


async def _finish(killed: asyncio.Task[object]) -> None:
    """Test teardown only: the dead replica's task is dropped."""
    killed.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await killed


async def test_a_create_killed_after_the_provider_accepted_it_is_found_recorded_and_charged(
    emulator: str,
) -> None:
    r = await _open(emulator, send=True)
    alice = await _alice(r)
    prompt = f"a lighthouse in a storm {secrets.token_hex(4)}"
    killed = await _kill_during_create(r, alice, prompt)
    try:
        [job] = await r.jobs(alice)
        assert job.submitting
        assert is_placeholder(job.native_id)
        listed = await r.live.list_videos(alice, after=None, limit=10, order="asc")
        assert [(v.id, v.status) for v in listed.data] == [(job.id, "queued")]  # shown as queued
        key = await r.key(alice)
        assert (key.reserved_micros, key.active_jobs) == (FOUR_SECONDS_OF_SORA_2, 1)

        poller = Poller(r.live, worker_id="w-live")
        assert await poller.run_once() == 0  # the creator's lease still holds: it may be alive
        r.clock.offset += SUBMIT_LEASE_SECONDS + 1  # the dead replica never renews it
        resolved = await _resolve(r, alice, poller)

        assert (resolved.id, resolved.status, resolved.submitting) == (job.id, "completed", False)
        assert resolved.native_id.startswith("video_")
        assert not is_placeholder(resolved.native_id)
        assert resolved.cost_micros == FOUR_SECONDS_OF_SORA_2
        key = await r.key(alice)
        assert (key.spend_micros, key.reserved_micros, key.active_jobs) == (FOUR_SECONDS_OF_SORA_2, 0, 0)
        logs = await r.stores.ledger.spend_logs(key_id=key.id, start=None, end=None, limit=10)
        assert [(e.job_id, e.cost_micros) for e in logs] == [(job.id, FOUR_SECONDS_OF_SORA_2)]
        assert r.unknown == []
        video = await r.live.get_video(alice, job.id)
        assert (video.status, video.prompt) == ("completed", prompt)
    finally:
        await _finish(killed)


async def test_a_search_never_takes_an_upstream_job_whose_cancel_is_owed(emulator: str) -> None:
    """The only upstream job matching a dead create's request is being cancelled (another create of the
    same request was answered late and owes its cancel): the record is failed with its money back, not
    followed and charged for a job the poller is about to cancel."""
    r = await _open(emulator, send=True)
    alice = await _alice(r)
    killed = await _kill_during_create(r, alice, f"a cancelled lighthouse {secrets.token_hex(4)}")
    try:
        [job] = await r.jobs(alice)
        dep = r.live.router.get(job.deployment_id)
        assert dep is not None
        page = await r.live.calls.list_page(dep, after=None, limit=10)
        assert page is not None
        [upstream] = [found for found in page.jobs if found.prompt == job.prompt]
        owed = OwedCancel(
            deployment_id=dep.id,
            native_id=upstream.native_id,
            video_id="video_" + "e" * 32,
            provider="openai",
            created_at=int(r.clock()),
            next_try_at=r.clock() + 10_000,  # not due during this test
        )
        assert await r.stores.cancels.owe(owed)
        r.clock.offset += SUBMIT_LEASE_SECONDS + 1
        resolved = await _resolve(r, alice, Poller(r.live, worker_id="w-live"))
        assert (resolved.status, resolved.error_code, resolved.cost_micros) == (
            "failed",
            "upstream_outcome_unknown",
            0,
        )
        key = await r.key(alice)
        assert (key.spend_micros, key.reserved_micros, key.active_jobs) == (0, 0, 0)
    finally:
        await _finish(killed)


async def test_a_create_killed_before_the_provider_got_it_is_failed_and_releases_money_and_slot(
    emulator: str,
) -> None:
    r = await _open(emulator, send=False)
    alice = await _alice(r)
    killed = await _kill_during_create(r, alice, f"a harbour at dawn {secrets.token_hex(4)}")
    try:
        key = await r.key(alice)
        assert (key.reserved_micros, key.active_jobs) == (FOUR_SECONDS_OF_SORA_2, 1)
        r.clock.offset += SUBMIT_LEASE_SECONDS + 1
        resolved = await _resolve(r, alice, Poller(r.live, worker_id="w-live"))

        assert (resolved.status, resolved.error_code, resolved.cost_micros) == (
            "failed",
            "upstream_outcome_unknown",
            0,
        )
        key = await r.key(alice)
        assert (key.spend_micros, key.reserved_micros, key.active_jobs) == (0, 0, 0)
        assert r.unknown == ["openai"]
        assert r.stores.memory_ledger.reservation_state(resolved.id) == "released"
        # The slot is free again: max_parallel_requests=1 lets the next create through.
        video = await r.live.create_video(alice, _request("the same harbour, again"))
        assert video.status == "queued"
        await r.live.delete_video(alice, resolved.id)  # never reached the provider: nothing to delete there
    finally:
        await _finish(killed)


class SlowCreate(ProviderCalls):
    """A provider create that takes a while (long enough for the write-ahead lease to be renewed)."""

    async def create(self, dep: Deployment, req: VideoRequest) -> ProviderJob:
        await asyncio.sleep(0.2)
        return await super().create(dep, req)


async def test_a_create_whose_lease_was_renewed_meanwhile_is_recorded_over_the_renewals(
    emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``record`` first saves over the write-ahead record as inserted (no read); renewals during a slow
    create have moved its version on, so that save misses and the record is read and saved again."""
    monkeypatch.setattr(submitting, "SUBMIT_LEASE_SECONDS", 0.03)  # renewed every 10 ms
    stores = MemoryStores()
    runner = AsyncRunner(retry=RetryPolicy(max_retries=0))
    svc = GatewayService(_config(emulator), stores, runner, calls=SlowCreate(runner), auth_ttl=0)
    try:
        master = await svc.authenticate(MASTER)
        secret, _ = await svc.generate_key(master, key_alias="slow")
        alice = await svc.authenticate(secret)
        video = await svc.create_video(alice, _request("a slow heron"))
        job = await stores.jobs.get(video.id)
        assert job is not None
        assert (job.submitting, job.lease_owner, job.status) == (False, None, "queued")
        assert not is_placeholder(job.native_id)
        assert job.version > 2  # renewed while the create ran, then recorded over the renewals
    finally:
        await runner.aclose()


async def test_two_records_matching_one_upstream_job_are_charged_once(emulator: str) -> None:
    """Two replicas die in creates of one prompt; only the first create reached the provider. Both
    records match its one upstream job in the same poller round: one claims it and is charged, the
    other finds nothing left and is failed with its money back (never charged for the other's job)."""
    r = await _open(emulator, send=True)
    master = await r.live.authenticate(MASTER)
    secret, _ = await r.live.generate_key(master, key_alias="bo", max_budget=1.0, max_parallel_requests=2)
    bo = await r.live.authenticate(secret)
    prompt = f"a shared harbour {secrets.token_hex(4)}"
    sent = await _kill_during_create(r, bo, prompt)
    unsent_calls = KilledDuringCreate(AsyncRunner(retry=RetryPolicy(max_retries=0)), send=False)
    unsent_replica = GatewayService(r.live.config, r.stores, r.live.runner, calls=unsent_calls, clock=r.clock)
    unsent = asyncio.create_task(unsent_replica.create_video(bo, _request(prompt)))
    await asyncio.wait_for(unsent_calls.reached.wait(), timeout=30)
    # Both searches ask whether the upstream job is recorded before either record is saved (as two
    # replicas' pollers, or one round's concurrent steps on a store that answers over the network).
    asked: list[str] = []
    both_asked = asyncio.Event()
    lookup = r.stores.jobs.find_by_native

    async def racing_lookup(deployment_id: str, native_id: str) -> JobRecord | None:
        found = await lookup(deployment_id, native_id)
        asked.append(native_id)
        if len(asked) == 2:
            both_asked.set()
        if len(asked) <= 2:  # the first two lookups answer together
            await asyncio.wait_for(both_asked.wait(), timeout=10)
        return found

    r.stores.jobs.find_by_native = racing_lookup  # type: ignore[method-assign]
    try:
        await asyncio.sleep(0.5)  # the upstream job is done (0.2 s): whoever records it settles at once
        r.clock.offset += SUBMIT_LEASE_SECONDS + 1
        poller = Poller(r.live, worker_id="w-live")
        for _ in range(200):
            await poller.run_once()
            records = await r.jobs(bo)
            if all(j.cost_micros is not None for j in records):
                break
            r.clock.offset += 5  # past the back-off of a record whose match was claimed meanwhile
            await asyncio.sleep(0.05)
        assert len(asked) >= 3  # the two raced, and the loser looked again
        outcomes = sorted((j.status, j.cost_micros, is_placeholder(j.native_id)) for j in records)
        assert outcomes == [("completed", FOUR_SECONDS_OF_SORA_2, False), ("failed", 0, True)]
        key = await r.key(bo)
        assert (key.spend_micros, key.reserved_micros, key.active_jobs) == (FOUR_SECONDS_OF_SORA_2, 0, 0)
        logs = await r.stores.ledger.spend_logs(key_id=key.id, start=None, end=None, limit=10)
        assert [e.cost_micros for e in logs] == [FOUR_SECONDS_OF_SORA_2]
    finally:
        await _finish(sent)
        await _finish(unsent)


async def test_an_unknown_outcome_never_takes_the_job_of_a_create_still_running(emulator: str) -> None:
    """A create of a prompt gets a 500 with nothing made; a second create of the same prompt is made
    upstream and has not recorded its answer yet when the poller looks for the first: the first waits
    for it (the upstream job is the second's, answered 200), then finds nothing left and is failed."""
    r = await _open(emulator, send=True)
    master = await r.live.authenticate(MASTER)
    secret, _ = await r.live.generate_key(master, key_alias="cy", max_budget=1.0, max_parallel_requests=2)
    cy = await r.live.authenticate(secret)
    prompt = f"a twin harbour {secrets.token_hex(4)} [fault:500]"  # the emulator's first create of it: 500
    with pytest.raises(APIError) as unknown:
        await r.live.create_video(cy, _request(prompt))
    assert unknown.value.code == "upstream_outcome_unknown"
    [first] = await r.jobs(cy)
    answered, go_on = asyncio.Event(), asyncio.Event()
    create = r.live.calls.create

    async def recorded_late(dep: Deployment, req: VideoRequest) -> ProviderJob:
        made = await create(dep, req)
        answered.set()
        await go_on.wait()
        return made

    r.live.calls.create = recorded_late  # type: ignore[method-assign]
    second = asyncio.create_task(r.live.create_video(cy, _request(prompt)))
    await asyncio.wait_for(answered.wait(), timeout=30)
    poller = Poller(r.live, worker_id="w-live")
    await poller.run_once()  # the first is due at once (handed over): it must not take the second's job
    waiting = await r.stores.jobs.get(first.id)
    assert waiting is not None
    assert (waiting.submitting, is_placeholder(waiting.native_id)) == (True, True)
    go_on.set()
    video = await second  # recorded: its create's own answer
    assert video.status in ("queued", "in_progress", "completed")
    r.clock.offset += submitting.LOOK_AGAIN_SECONDS + 1
    resolved = await _resolve_one(r, first.id, poller)
    assert (resolved.status, resolved.error_code, resolved.cost_micros) == (
        "failed",
        "upstream_outcome_unknown",
        0,
    )
    recorded = await r.stores.jobs.get(video.id)
    assert recorded is not None
    assert not is_placeholder(recorded.native_id)


async def _resolve_one(r: Replicas, job_id: str, poller: Poller) -> JobRecord:
    """Run the live replica's poller until ``job_id`` has its money final (bounded); a record not
    listed upstream yet is looked for again, so the clock moves on between rounds."""
    for _ in range(200):
        await poller.run_once()
        job = await r.stores.jobs.get(job_id)
        assert job is not None
        if job.cost_micros is not None:
            return job
        r.clock.offset += submitting.LOOK_AGAIN_SECONDS
        await asyncio.sleep(0.05)
    raise AssertionError(f"{job_id} was never resolved")


async def test_a_create_whose_upstream_job_another_video_holds_is_an_unknown_outcome(emulator: str) -> None:
    """However a record came to hold an upstream job, a create answered with it is not a 500: it is an
    unknown outcome, its record left to the poller, which looks for it upstream (here the provider did
    make this create's own job, under another id than the one answered: found, recorded, charged)."""
    r = await _open(emulator, send=True)
    master = await r.live.authenticate(MASTER)
    secret, _ = await r.live.generate_key(master, key_alias="di", max_budget=1.0, max_parallel_requests=2)
    di = await r.live.authenticate(secret)
    held = await r.live.create_video(di, _request(f"a held harbour {secrets.token_hex(4)}"))
    holder = await r.stores.jobs.get(held.id)
    assert holder is not None
    create = r.live.calls.create

    async def same_upstream_job(dep: Deployment, req: VideoRequest) -> ProviderJob:
        made = await create(dep, req)
        return dataclasses.replace(made, native_id=holder.native_id)

    r.live.calls.create = same_upstream_job  # type: ignore[method-assign]
    with pytest.raises(APIError) as caught:
        await r.live.create_video(di, _request(f"another harbour {secrets.token_hex(4)}"))
    assert (caught.value.status_code, caught.value.code) == (502, "upstream_outcome_unknown")
    assert holder.deployment_id not in caught.value.message
    [orphan] = [j for j in await r.jobs(di) if j.id != held.id]
    assert orphan.submitting
    r.clock.offset += SUBMIT_LEASE_SECONDS + 1
    resolved = await _resolve_one(r, orphan.id, Poller(r.live, worker_id="w-live"))
    assert (resolved.status, resolved.cost_micros) == ("completed", FOUR_SECONDS_OF_SORA_2)
    assert resolved.native_id not in (holder.native_id, orphan.native_id)


async def test_a_search_failing_for_a_while_does_not_lose_a_paid_job(emulator: str) -> None:
    """The provider's list fails (5 searches, backing off over a minute) while the replica that made
    the job is dead; the job is still found, recorded and charged once the list answers again."""
    r = await _open(emulator, send=True)
    alice = await _alice(r)
    killed = await _kill_during_create(r, alice, f"a stormy coast {secrets.token_hex(4)}")
    listing = r.live.calls.list_page
    failures: list[int] = []

    async def failing_list(dep: Deployment, *, after: str | None, limit: int) -> ProviderPage | None:
        if len(failures) < 5:
            failures.append(1)
            raise ServiceUnavailableError("the list is down", provider="openai")
        return await listing(dep, after=after, limit=limit)

    r.live.calls.list_page = failing_list  # type: ignore[method-assign]
    try:
        r.clock.offset += SUBMIT_LEASE_SECONDS + 1
        resolved = await _resolve(r, alice, Poller(r.live, worker_id="w-live"))
        assert len(failures) == 5
        assert (resolved.status, resolved.cost_micros) == ("completed", FOUR_SECONDS_OF_SORA_2)
        assert r.unknown == []
    finally:
        await _finish(killed)
