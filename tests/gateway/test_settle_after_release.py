"""A job whose reservation was released before it completed shows the ledger's figure, 0, as its cost.

Two sequences on SQLite reach a settle after a release. A create outlives its write-ahead lease (its
renewals stalled): the poller resolves the record (a provider that cannot list: failed, reservation
released), but the creator's answer records the job over the poller's claim before the poller's save
lands (that save loses on the version). Or a poll outlives its lease (a slow provider or output check;
the poller does not renew it): the replica that takes the job over settles it after the first
released it (its output check refused). Either way the settle was refused and the job used to show
the cost it would have been charged, while the key, the spend log and budgets had nothing.
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

from .harness import MASTER, T0, Clock
from .scripted import REPLICATE


class HeldCreate(ProviderCalls):
    """A create that answers once ``answer`` is set, polls answering ``status``; a provider that cannot
    list its jobs (as Google's), so an unresolved create is failed at once."""

    def __init__(self, runner: AsyncRunner) -> None:
        super().__init__(runner)
        self.reached = asyncio.Event()
        self.answer = asyncio.Event()
        self.status: VideoStatus = "queued"

    async def create(self, dep: Deployment, req: VideoRequest) -> ProviderJob:
        self.reached.set()
        await self.answer.wait()
        return ProviderJob(native_id="task-1", status="queued", model=req.model)

    async def retrieve(self, dep: Deployment, native_id: str) -> ProviderJob:
        return ProviderJob(native_id=native_id, status=self.status, model="m")

    async def list_page(self, dep: Deployment, *, after: str | None, limit: int) -> ProviderPage | None:
        return None


@dataclass
class Gateway:
    stores: SqlStores
    service: GatewayService
    calls: HeldCreate
    clock: Clock
    runner: AsyncRunner

    async def close(self) -> None:
        await self.runner.aclose()
        await self.stores.close()

    async def charged(self, p: Principal, video_id: str) -> tuple[str, int | None, int, int, int]:
        """The job's status and cost, and what the ledger holds: the key's spend and reservations, and
        the spend log's entries."""
        assert p.key is not None
        job = await self.stores.jobs.get(video_id)
        key = await self.stores.keys.get(p.key.id)
        assert job is not None
        assert key is not None
        logs = await self.stores.ledger.spend_logs(key_id=None, start=None, end=None, limit=10)
        return job.status, job.cost_micros, key.total_spend_micros, key.reserved_micros, len(logs)


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Gateway]:
    stores = await open_stores(f"sqlite:///{tmp_path / 'v.db'}", None, tmp_path / "content")
    assert isinstance(stores, SqlStores)
    runner = AsyncRunner()
    clock = Clock()
    calls = HeldCreate(runner)
    config = parse_config(
        {
            "model_list": [{"model_name": "m", "litellm_params": REPLICATE}],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    service = GatewayService(config, stores, runner, calls=calls, clock=clock, auth_ttl=0)
    gateway = Gateway(stores, service, calls, clock, runner)
    yield gateway
    await gateway.close()


async def _key(service: GatewayService) -> Principal:
    master = await service.authenticate(MASTER)
    secret, _ = await service.generate_key(master, key_alias="k", max_budget=100.0)
    return await service.authenticate(secret)


async def test_a_job_recorded_after_its_reservation_was_released_is_not_shown_as_charged(gw: Gateway) -> None:
    stores, service, calls, clock = gw.stores, gw.service, gw.calls, gw.clock
    p = await _key(service)
    create = asyncio.create_task(service.create_video(p, CreateVideo(model="m", prompt="a fox", seconds="4")))
    await calls.reached.wait()
    clock.now = T0 + SUBMIT_LEASE_SECONDS + 1  # the creator's lease lapsed
    [record] = await stores.jobs.claim_due("resolver", now=clock(), lease_seconds=30, limit=10)
    assert record.submitting

    async def late_save(resolved: JobRecord) -> bool:
        """The resolver's save lands after the creator recorded the job (it loses on the version)."""
        calls.answer.set()
        await create
        return await stores.jobs.save(resolved)

    _, transition = await service.keeper.step(record, "resolver", keep_lease=False, save=late_save)
    assert transition.release
    video = create.result()
    recorded = await stores.jobs.get(video.id)
    assert recorded is not None
    assert (recorded.status, recorded.submitting, recorded.cost_micros) == ("queued", False, None)

    calls.status = "completed"
    clock.now += 60
    assert (await service.get_video(p, video.id)).status == "completed"
    assert await gw.charged(p, video.id) == ("completed", 0, 0, 0, 0)


REFUSED = ("content_policy_violation", "refused")


@pytest.mark.parametrize(
    ("verdicts", "charged"),
    [
        # the first output check refused (released), the second let it through: its settle is refused
        ([REFUSED, None], ("completed", 0, 0, 0, 0)),
        # the first settled, the second refused: its release is refused, the job shows the charge
        ([None, REFUSED], ("failed", 400_000, 400_000, 0, 1)),
    ],
    ids=["released-then-settled", "settled-then-released"],
)
async def test_a_job_two_polls_disagree_on_shows_what_the_ledger_holds(
    gw: Gateway, verdicts: list[tuple[str, str] | None], charged: tuple[str, int, int, int, int]
) -> None:
    stores, service, calls, clock = gw.stores, gw.service, gw.calls, gw.clock
    p = await _key(service)
    calls.answer.set()
    video = await service.create_video(p, CreateVideo(model="m", prompt="a fox", seconds="4"))
    calls.status = "completed"
    clock.now += 60
    [first] = await stores.jobs.claim_due("first", now=clock(), lease_seconds=30, limit=10)
    clock.now += 31  # the first poll is still out: its lease lapsed and another replica takes the job
    second = await stores.jobs.try_lease(video.id, "second", now=clock(), lease_seconds=30)
    assert second is not None

    async def output_check(job: JobRecord) -> tuple[str, str] | None:
        return verdicts.pop(0)  # the two checks disagree (a flaky moderation model, a config change)

    service.keeper.output_check = output_check
    await service.keeper.step(first, "first", keep_lease=False)  # its save loses: the second holds the lease
    await service.keeper.step(second, "second", keep_lease=False)
    assert await gw.charged(p, video.id) == charged
