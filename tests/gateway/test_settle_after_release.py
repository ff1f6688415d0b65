"""Two steps that race on one job never both move money, and the one that moves it is the one whose
decision is stored: the job's status, its cost and the ledger agree.

Each race is driven through the real code on SQLite. A create outlives its write-ahead lease (its
renewals stalled) while another replica's resolver fails the record (a provider that cannot list): the
create's answer is recorded before the resolver's save lands, so the resolver must move nothing (it
used to release the reservation, and the job ran on and completed uncharged). The same race within one
process does not happen: the resolver looks again while the record's create is still out. A poll that
outlives its lease (a slow provider or output check) keeps it, renewed, so no other replica takes the
job; and a step whose lease was lost anyway moves no money on its stale view (the first of two
disagreeing output checks used to release or settle the job the second one decided).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vidgate.gateway.auth import Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.config import parse_config
from vidgate.gateway.records import JobRecord
from vidgate.gateway.routing import Deployment
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.gateway.submitting import SUBMIT_LEASE_SECONDS
from vidgate.providers.base import ProviderJob, ProviderPage
from vidgate.store.factory import SqlStores, open_stores
from vidgate.transport import AsyncRunner
from vidgate.types import VideoRequest, VideoStatus
from vidgate.worker.poller import Poller

from .harness import MASTER, T0, Clock
from .scripted import REPLICATE


class HeldCalls(ProviderCalls):
    """A create that answers once ``answer`` is set; polls answering ``status``, each held until
    ``polled`` is set when ``hold_polls``; a provider that cannot list its jobs (as Google's), so an
    unresolved create is failed at once."""

    def __init__(self, runner: AsyncRunner) -> None:
        super().__init__(runner)
        self.reached = asyncio.Event()
        self.answer = asyncio.Event()
        self.status: VideoStatus = "queued"
        self.hold_polls = False
        self.polling = asyncio.Event()
        self.polled = asyncio.Event()

    async def create(self, dep: Deployment, req: VideoRequest) -> ProviderJob:
        self.reached.set()
        await self.answer.wait()
        return ProviderJob(native_id="task-1", status="queued", model=req.model)

    async def retrieve(self, dep: Deployment, native_id: str) -> ProviderJob:
        if self.hold_polls:
            self.polling.set()
            await self.polled.wait()
        return ProviderJob(native_id=native_id, status=self.status, model="m")

    async def list_page(self, dep: Deployment, *, after: str | None, limit: int) -> ProviderPage | None:
        return None


@dataclass
class Replica:
    stores: SqlStores
    service: GatewayService
    runner: AsyncRunner

    async def close(self) -> None:
        await self.runner.aclose()
        await self.stores.close()


@dataclass
class Gateway:
    """Two replicas of one gateway on one SQLite database, with one provider and one clock."""

    a: Replica
    b: Replica
    calls: HeldCalls
    clock: Clock

    async def charged(self, p: Principal, video_id: str) -> tuple[str, int | None, int, int, int]:
        """The job's status and cost, and what the ledger holds: the key's spend and reservations, and
        the spend log's entries."""
        assert p.key is not None
        stores = self.a.stores
        job = await stores.jobs.get(video_id)
        key = await stores.keys.get(p.key.id)
        assert job is not None
        assert key is not None
        logs = await stores.ledger.spend_logs(key_id=None, start=None, end=None, limit=10)
        return job.status, job.cost_micros, key.total_spend_micros, key.reserved_micros, len(logs)


async def _replica(path: Path, calls: HeldCalls, clock: Clock) -> Replica:
    stores = await open_stores(f"sqlite:///{path / 'v.db'}", None, path / "content")
    assert isinstance(stores, SqlStores)
    runner = AsyncRunner()
    config = parse_config(
        {
            "model_list": [{"model_name": "m", "litellm_params": REPLICATE}],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    service = GatewayService(config, stores, runner, calls=calls, clock=clock, auth_ttl=0)
    return Replica(stores, service, runner)


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Gateway]:
    clock = Clock()
    calls = HeldCalls(AsyncRunner())
    a = await _replica(tmp_path, calls, clock)
    b = await _replica(tmp_path, calls, clock)
    yield Gateway(a, b, calls, clock)
    await b.close()
    await a.close()
    await calls.runner.aclose()


async def _key(service: GatewayService) -> Principal:
    master = await service.authenticate(MASTER)
    secret, _ = await service.generate_key(master, key_alias="k", max_budget=100.0)
    return await service.authenticate(secret)


async def _create(gw: Gateway, p: Principal) -> str:
    gw.calls.answer.set()
    video = await gw.a.service.create_video(p, CreateVideo(model="m", prompt="a fox", seconds="4"))
    return video.id


async def _complete(gw: Gateway, p: Principal, video_id: str) -> None:
    gw.calls.status = "completed"
    gw.clock.now += 60
    assert (await gw.a.service.get_video(p, video_id)).status == "completed"


async def test_a_create_recorded_before_another_replicas_resolution_lands_is_charged(gw: Gateway) -> None:
    stores, calls, clock = gw.a.stores, gw.calls, gw.clock
    p = await _key(gw.a.service)
    create = asyncio.create_task(
        gw.a.service.create_video(p, CreateVideo(model="m", prompt="a fox", seconds="4"))
    )
    await calls.reached.wait()
    clock.now = T0 + SUBMIT_LEASE_SECONDS + 1  # the creator's lease lapsed (its renewals stalled)
    [record] = await gw.b.stores.jobs.claim_due("resolver", now=clock(), lease_seconds=30, limit=10)
    assert record.submitting
    unknown: list[str] = []
    gw.b.service.keeper.on_outcome_unknown = unknown.append

    async def late_save(resolved: JobRecord) -> bool:
        """The resolver's save lands after the creator recorded the job (it loses on the version)."""
        calls.answer.set()
        await create
        return await gw.b.stores.jobs.save(resolved)

    _, transition = await gw.b.service.keeper.step(record, "resolver", keep_lease=False, save=late_save)
    assert transition.release  # what the resolver decided; its decision was never stored
    assert unknown == []  # so no unknown outcome is counted
    video = create.result()
    recorded = await stores.jobs.get(video.id)
    assert recorded is not None
    assert (recorded.status, recorded.submitting, recorded.cost_micros) == ("queued", False, None)
    assert await gw.charged(p, video.id) == ("queued", None, 0, 400_000, 0)  # still reserved

    await _complete(gw, p, video.id)
    assert await gw.charged(p, video.id) == ("completed", 400_000, 400_000, 0, 1)


async def test_a_resolution_stored_before_the_create_answers_stands(gw: Gateway) -> None:
    calls, clock = gw.calls, gw.clock
    p = await _key(gw.a.service)
    create = asyncio.create_task(
        gw.a.service.create_video(p, CreateVideo(model="m", prompt="a fox", seconds="4"))
    )
    await calls.reached.wait()
    clock.now = T0 + SUBMIT_LEASE_SECONDS + 1
    [record] = await gw.b.stores.jobs.claim_due("resolver", now=clock(), lease_seconds=30, limit=10)
    unknown: list[str] = []
    gw.b.service.keeper.on_outcome_unknown = unknown.append
    await gw.b.service.keeper.step(record, "resolver", keep_lease=False)
    assert unknown == ["replicate"]  # counted once its decision is stored
    calls.answer.set()
    video = await create  # the resolver's decision is the job's
    assert (video.status, video.error.code if video.error else None) == ("failed", "upstream_outcome_unknown")
    clock.now += 60
    assert (await gw.a.service.get_video(p, video.id)).status == "failed"
    assert await gw.charged(p, video.id) == ("failed", 0, 0, 0, 0)


async def test_the_resolver_looks_again_while_the_records_create_runs_in_its_process(gw: Gateway) -> None:
    stores, service, calls, clock = gw.a.stores, gw.a.service, gw.calls, gw.clock
    p = await _key(service)
    create = asyncio.create_task(service.create_video(p, CreateVideo(model="m", prompt="a fox", seconds="4")))
    await calls.reached.wait()
    clock.now = T0 + SUBMIT_LEASE_SECONDS + 1
    [record] = await stores.jobs.claim_due("resolver", now=clock(), lease_seconds=30, limit=10)
    saved, transition = await service.keeper.step(record, "resolver", keep_lease=False)
    assert (saved.status, saved.submitting, saved.cost_micros) == ("queued", True, None)
    assert not transition.release
    assert saved.next_poll_at == clock() + 5

    calls.answer.set()
    video = await create
    assert video.status == "queued"
    await _complete(gw, p, video.id)
    assert await gw.charged(p, video.id) == ("completed", 400_000, 400_000, 0, 1)


REFUSED = ("content_policy_violation", "refused")


@pytest.mark.parametrize(
    ("verdicts", "charged"),
    [
        # the stale step's check refused, the step holding the lease let it through: charged
        ([REFUSED, None], ("completed", 400_000, 400_000, 0, 1)),
        # the stale step's check let it through, the step holding the lease refused: released
        ([None, REFUSED], ("failed", 0, 0, 0, 0)),
    ],
    ids=["stale-refused", "stale-completed"],
)
async def test_a_step_that_lost_its_lease_moves_no_money(
    gw: Gateway, verdicts: list[tuple[str, str] | None], charged: tuple[str, int, int, int, int]
) -> None:
    stores, service, calls, clock = gw.a.stores, gw.a.service, gw.calls, gw.clock
    p = await _key(service)
    video_id = await _create(gw, p)
    calls.status = "completed"
    clock.now += 60
    [first] = await stores.jobs.claim_due("first", now=clock(), lease_seconds=30, limit=10)
    clock.now += 31  # the first step's lease lapsed before it ran: another replica takes the job
    second = await gw.b.stores.jobs.try_lease(video_id, "second", now=clock(), lease_seconds=30)
    assert second is not None

    async def output_check(job: JobRecord) -> tuple[str, str] | None:
        return verdicts.pop(0)  # the two checks disagree (a flaky moderation model, a config change)

    service.keeper.output_check = output_check
    gw.b.service.keeper.output_check = output_check
    stale, _ = await service.keeper.step(first, "first", keep_lease=False)
    assert (stale.status, stale.cost_micros, stale.lease_owner) == ("queued", None, "second")
    await gw.b.service.keeper.step(second, "second", keep_lease=False)
    assert await gw.charged(p, video_id) == charged


async def test_a_poll_longer_than_its_lease_keeps_the_job(gw: Gateway) -> None:
    service, calls, clock = gw.a.service, gw.calls, gw.clock
    p = await _key(service)
    video_id = await _create(gw, p)
    calls.status, calls.hold_polls = "completed", True
    clock.now += 60
    poller = Poller(service, worker_id="first", lease_seconds=0.6)  # renewed every 0.2 s
    round_ = asyncio.create_task(poller.run_once())
    await calls.polling.wait()
    for _ in range(3):  # 1.5 s of the clock while the poll is out: the lease would have lapsed at 0.6
        clock.now += 0.5
        await asyncio.sleep(0.5)
    assert await gw.b.stores.jobs.try_lease(video_id, "second", now=clock(), lease_seconds=30) is None
    calls.polled.set()
    assert await round_ == 1
    assert await gw.charged(p, video_id) == ("completed", 400_000, 400_000, 0, 1)
