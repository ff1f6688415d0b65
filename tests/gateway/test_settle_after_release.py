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
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.store.factories import make_job

from vidgate.errors import APIError, NotFoundError, ServiceUnavailableError
from vidgate.gateway.auth import Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.cancels import FIRST_TRY_SECONDS, MAX_TRIES
from vidgate.gateway.config import parse_config
from vidgate.gateway.jobs import ERROR_BACKOFF_MAX
from vidgate.gateway.observer import Observer
from vidgate.gateway.records import JobRecord, OwedCancel
from vidgate.gateway.routing import Deployment
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.gateway.submitting import SUBMIT_LEASE_SECONDS
from vidgate.providers.base import ProviderJob, ProviderPage
from vidgate.store.factory import SqlStores, open_stores
from vidgate.transport import AsyncRunner
from vidgate.types import Video, VideoRequest, VideoStatus
from vidgate.worker.poller import Poller
from vidgate.worker.webhooks import Delivery, WebhookSender

from .harness import MASTER, T0, Clock
from .scripted import REPLICATE

XAI = {"model": "xai/grok-imagine-video-1.5", "api_key": "xai-k"}


class ProcessDied(BaseException):
    """The process running a create stopped (killed) where this is raised: nothing after it runs."""


class HeldCalls(ProviderCalls):
    """A create that answers once ``answer`` is set (``task-1``, ``task-2``, ...); polls answering
    ``status``, each held until ``polled`` is set when ``hold_polls``; a provider that cannot list its
    jobs (as Google's), so an unresolved create is failed at once, unless ``listed`` is set; deletes
    (cancels) recorded, failing with ``cancel_error`` when set; the next one kills the process
    (``ProcessDied``) before it is sent when ``die_on_cancel``."""

    def __init__(self, runner: AsyncRunner) -> None:
        super().__init__(runner)
        self.reached = asyncio.Event()
        self.answer = asyncio.Event()
        self.status: VideoStatus = "queued"
        self.hold_polls = False
        self.polling = asyncio.Event()
        self.polled = asyncio.Event()
        self.created = 0
        self.deleted: list[str] = []
        self.cancel_error: APIError | None = None
        self.die_on_cancel = False
        self.listed: list[ProviderJob] | None = None  # None: the provider cannot list

    async def create(self, dep: Deployment, req: VideoRequest) -> ProviderJob:
        self.reached.set()
        await self.answer.wait()
        self.created += 1
        return ProviderJob(native_id=f"task-{self.created}", status="queued", model=req.model)

    async def delete(self, dep: Deployment, native_id: str) -> bool:
        if self.die_on_cancel:
            self.die_on_cancel = False
            raise ProcessDied
        self.deleted.append(native_id)
        if self.cancel_error is not None:
            raise self.cancel_error
        return True

    async def retrieve(self, dep: Deployment, native_id: str) -> ProviderJob:
        if self.hold_polls:
            self.polling.set()
            await self.polled.wait()
        return ProviderJob(native_id=native_id, status=self.status, model="m")

    async def list_page(self, dep: Deployment, *, after: str | None, limit: int) -> ProviderPage | None:
        return None if self.listed is None else ProviderPage(jobs=tuple(self.listed), has_more=False)


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


async def _replica(path: Path, calls: HeldCalls, clock: Clock, settings: dict[str, str]) -> Replica:
    stores = await open_stores(f"sqlite:///{path / 'v.db'}", None, path / "content")
    assert isinstance(stores, SqlStores)
    runner = AsyncRunner()
    config = parse_config(
        {
            "model_list": [
                {"model_name": "m", "litellm_params": REPLICATE},
                {"model_name": "x", "litellm_params": XAI},  # no delete: the provider cannot cancel
            ],
            "general_settings": {"master_key": MASTER, **settings},
        },
        environ={},
    )
    service = GatewayService(config, stores, runner, calls=calls, clock=clock, auth_ttl=0)
    return Replica(stores, service, runner)


async def _gateway(path: Path, settings: dict[str, str]) -> AsyncIterator[Gateway]:
    clock = Clock()
    calls = HeldCalls(AsyncRunner())
    a = await _replica(path, calls, clock, settings)
    b = await _replica(path, calls, clock, settings)
    yield Gateway(a, b, calls, clock)
    await b.close()
    await a.close()
    await calls.runner.aclose()


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Gateway]:
    async for gateway in _gateway(tmp_path, {}):
        yield gateway


@pytest.fixture
async def hooked(tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway with a webhook configured: a terminal job owes its event (sent by ``FailingHooks``)."""
    settings = {"webhook_url": "https://hooks.example.com/v", "webhook_secret": "whsec_c2VjcmV0"}
    async for gateway in _gateway(tmp_path, settings):
        yield gateway


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


class LateCreates(Observer):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def answered_late(self, provider: str, outcome: str) -> None:
        self.seen.append((provider, outcome))


async def _resolved_before_the_answer(
    gw: Gateway, p: Principal, model: str, *, idempotency_key: str | None = None
) -> tuple[asyncio.Task[Video], JobRecord]:
    """A create whose lease lapsed (its renewals stalled) and whose record another replica's resolver
    failed and released before the provider's answer (held until ``answer`` is set) arrived."""
    create = asyncio.create_task(
        gw.a.service.create_video(
            p, CreateVideo(model=model, prompt="a fox", seconds="4"), idempotency_key=idempotency_key
        )
    )
    await gw.calls.reached.wait()
    gw.clock.now = T0 + SUBMIT_LEASE_SECONDS + 1
    [record] = await gw.b.stores.jobs.claim_due("resolver", now=gw.clock(), lease_seconds=30, limit=10)
    unknown: list[str] = []
    gw.b.service.keeper.on_outcome_unknown = unknown.append
    await gw.b.service.keeper.step(record, "resolver", keep_lease=False)
    assert unknown == [record.provider]  # counted once its decision is stored
    return create, record


async def _owed(gw: Gateway, record: JobRecord, native_id: str = "task-1") -> OwedCancel | None:
    """The cancel owed to the provider's job ``native_id`` on ``record``'s deployment, if any."""
    return await gw.a.stores.cancels.get(record.deployment_id, native_id)


@pytest.mark.parametrize(
    ("model", "cancel_error", "cancels", "outcome", "owed"),
    [
        ("m", None, ["task-1"], ("replicate", "cancelled"), False),
        ("m", NotFoundError("no such prediction"), ["task-1"], ("replicate", "cancelled"), False),
        ("m", ServiceUnavailableError("try later"), ["task-1"], ("replicate", "cancel_owed"), True),
        ("x", None, [], ("xai", "not_cancellable"), False),
    ],
    ids=["cancelled", "already-gone", "cancel-owed", "not-cancellable"],
)
async def test_a_resolution_stored_before_the_create_answers_stands_and_the_late_job_is_cancelled(
    gw: Gateway,
    model: str,
    cancel_error: APIError | None,
    cancels: list[str],
    outcome: tuple[str, str],
    owed: bool,
) -> None:
    calls, clock = gw.calls, gw.clock
    late = LateCreates()
    gw.a.service.observers.add(late)
    p = await _key(gw.a.service)
    create, record = await _resolved_before_the_answer(gw, p, model)
    calls.cancel_error = cancel_error
    calls.answer.set()
    with pytest.raises(APIError) as answered:  # the resolver's decision is the job's
        await create
    assert (answered.value.status_code, answered.value.code, answered.value.type) == (
        502,
        "upstream_answered_late",
        "upstream_error",
    )
    assert record.id in answered.value.message
    assert calls.deleted == cancels
    assert late.seen == [outcome]
    job = await gw.a.stores.jobs.get(record.id)
    assert job is not None
    assert (job.status, job.error_code, job.native_id) == ("failed", "upstream_outcome_unknown", "task-1")
    owing = await _owed(gw, record)  # a failed cancel stays owed: one failed try, due after the backoff
    expected = (record.id, 1, clock() + 2, None) if owed else None
    got = (owing.video_id, owing.tries, owing.next_try_at, owing.lease_owner) if owing else None
    assert got == expected
    clock.now += 60
    video = await gw.a.service.get_video(p, record.id)
    assert (video.status, video.error.code if video.error else None) == ("failed", "upstream_outcome_unknown")
    assert await gw.charged(p, record.id) == ("failed", 0, 0, 0, 0)


async def test_a_late_cancel_that_cannot_be_owed_is_tried_once(
    gw: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = LateCreates()
    gw.a.service.observers.add(late)
    p = await _key(gw.a.service)
    create, record = await _resolved_before_the_answer(gw, p, "m")

    async def unsaved(cancel: OwedCancel) -> bool:
        raise ServiceUnavailableError("the database is down")

    monkeypatch.setattr(gw.a.stores.cancels, "owe", unsaved)
    gw.calls.cancel_error = ServiceUnavailableError("try later")
    gw.calls.answer.set()
    with pytest.raises(APIError):
        await create
    assert (gw.calls.deleted, late.seen) == (["task-1"], [("replicate", "cancel_failed")])
    assert await _owed(gw, record) is None


async def _answered_late_owing_its_cancel(
    gw: Gateway, late: LateCreates
) -> tuple[Principal, JobRecord, OwedCancel]:
    """A create answered late whose first cancel failed: the cancel is owed to the poller."""
    gw.a.service.observers.add(late)
    gw.b.service.observers.add(late)
    p = await _key(gw.a.service)
    create, record = await _resolved_before_the_answer(gw, p, "m")
    gw.calls.cancel_error = ServiceUnavailableError("try later")
    gw.calls.answer.set()
    with pytest.raises(APIError):
        await create
    owing = await _owed(gw, record)
    assert owing is not None
    assert (owing.tries, owing.next_try_at, owing.lease_owner) == (1, gw.clock() + 2, None)
    assert late.seen == [("replicate", "cancel_owed")]
    return p, record, owing


async def test_a_failed_cancel_of_a_late_job_is_made_by_the_poller_after_a_backoff(gw: Gateway) -> None:
    late = LateCreates()
    p, job, _ = await _answered_late_owing_its_cancel(gw, late)
    poller = Poller(gw.b.service, worker_id="poller-b")
    assert await poller.run_once() == 0  # backing off
    gw.clock.now += 2
    assert await poller.run_once() == 1  # fails again: backs off longer
    assert gw.calls.deleted == ["task-1", "task-1"]
    again = await _owed(gw, job)
    assert again is not None
    assert (again.tries, again.next_try_at, again.lease_owner) == (2, gw.clock() + 4, None)
    gw.calls.cancel_error = None
    gw.clock.now += 4
    assert await poller.run_once() == 1
    assert gw.calls.deleted == ["task-1", "task-1", "task-1"]
    assert await _owed(gw, job) is None
    assert late.seen == [("replicate", "cancel_owed"), ("replicate", "cancelled_later")]
    gw.clock.now += 3600
    assert await poller.run_once() == 0  # nothing more is owed
    assert await gw.charged(p, job.id) == ("failed", 0, 0, 0, 0)


async def _resolved_with_another_job(gw: Gateway, p: Principal) -> tuple[asyncio.Task[Video], JobRecord]:
    """A create whose lease lapsed and whose record another replica's resolver recorded with a listed
    job of the same request (``task-9``: one it could not tell apart) before the create's answer."""
    create = asyncio.create_task(
        gw.a.service.create_video(p, CreateVideo(model="m", prompt="a fox", seconds="4"))
    )
    await gw.calls.reached.wait()
    gw.calls.listed = [ProviderJob(native_id="task-9", status="queued", model="m", prompt="a fox")]
    gw.clock.now = T0 + SUBMIT_LEASE_SECONDS + 1
    [record] = await gw.b.stores.jobs.claim_due("resolver", now=gw.clock(), lease_seconds=30, limit=10)
    await gw.b.service.keeper.step(record, "resolver", keep_lease=False)
    return create, record


async def _followed_another_job_owing_the_cancel(
    gw: Gateway, late: LateCreates
) -> tuple[Principal, JobRecord]:
    """A create answered late whose record its resolver recorded with another upstream job (``task-9``,
    answered as the video) and whose first cancel of the late job (``task-1``) failed: owed."""
    gw.a.service.observers.add(late)
    gw.b.service.observers.add(late)
    p = await _key(gw.a.service)
    create, record = await _resolved_with_another_job(gw, p)
    gw.calls.cancel_error = ServiceUnavailableError("try later")
    gw.calls.answer.set()
    assert (await create).id == record.id
    return p, record


@pytest.mark.parametrize("resolved", ["failed", "with-another-job"])
async def test_a_cancel_owed_by_a_create_that_died_before_trying_it_is_made_by_the_poller(
    gw: Gateway, resolved: str
) -> None:
    """The owed cancel is saved before the first try: a process killed right after leaves it owed, and
    the poller makes it once the creating process's own try would have been made; also for a late job
    whose record holds another upstream job (no jobs row holds the late one)."""
    late = LateCreates()
    gw.b.service.observers.add(late)
    p = await _key(gw.a.service)
    if resolved == "failed":
        create, record = await _resolved_before_the_answer(gw, p, "m")
    else:
        create, record = await _resolved_with_another_job(gw, p)
    gw.calls.die_on_cancel = True
    gw.calls.answer.set()
    with pytest.raises(ProcessDied):
        await create
    assert gw.calls.deleted == []  # never sent
    owing = await _owed(gw, record)
    assert owing is not None
    assert (owing.video_id, owing.tries, owing.next_try_at) == (record.id, 0, gw.clock() + FIRST_TRY_SECONDS)
    poller = Poller(gw.b.service, worker_id="poller-b")
    gw.clock.now += FIRST_TRY_SECONDS - 1
    await poller.run_once()
    assert gw.calls.deleted == []  # the creating process's own try comes first
    gw.clock.now += 1
    await poller.run_once()
    assert gw.calls.deleted == ["task-1"]
    assert await _owed(gw, record) is None
    assert late.seen == [("replicate", "cancelled_later")]
    job = await gw.a.stores.jobs.get(record.id)
    assert job is not None
    if resolved == "failed":
        assert (job.status, job.native_id) == ("failed", "task-1")
        assert await gw.charged(p, job.id) == ("failed", 0, 0, 0, 0)
    else:  # the video is the job its resolver found: followed and charged
        assert (job.status, job.native_id) == ("queued", "task-9")
        await _complete(gw, p, record.id)
        assert await gw.charged(p, record.id) == ("completed", 400_000, 400_000, 0, 1)


async def test_an_owed_cancel_that_keeps_failing_is_given_up_after_its_bound(gw: Gateway) -> None:
    late = LateCreates()
    _, job, _ = await _answered_late_owing_its_cancel(gw, late)
    poller = Poller(gw.b.service, worker_id="poller-b")
    for tries in range(2, MAX_TRIES):  # the create made the first
        gw.clock.now += ERROR_BACKOFF_MAX
        assert await poller.run_once() == 1
        owing = await _owed(gw, job)
        assert owing is not None
        assert (owing.tries, owing.lease_owner) == (tries, None)
    gw.clock.now += ERROR_BACKOFF_MAX
    assert await poller.run_once() == 1  # the last try
    assert gw.calls.deleted == ["task-1"] * MAX_TRIES
    assert await _owed(gw, job) is None
    assert late.seen == [("replicate", "cancel_owed"), ("replicate", "cancel_given_up")]
    gw.clock.now += ERROR_BACKOFF_MAX
    assert await poller.run_once() == 0


async def _owed_on(gw: Gateway, owing: OwedCancel, deployment_id: str) -> OwedCancel:
    """Move ``owing`` to ``deployment_id`` (as a config change between replicas would)."""
    moved = dataclasses.replace(owing, deployment_id=deployment_id)
    assert await gw.b.stores.cancels.settle(owing.deployment_id, owing.native_id)
    assert await gw.b.stores.cancels.owe(moved)
    return moved


async def test_an_owed_cancel_whose_deployment_left_the_config_counts_a_failed_try(gw: Gateway) -> None:
    """It may be configured again: backed off like any failed try, not given up."""
    late = LateCreates()
    _, _, owing = await _answered_late_owing_its_cancel(gw, late)
    moved = await _owed_on(gw, owing, "dep-removed")
    gw.clock.now += 2
    assert await Poller(gw.b.service, worker_id="poller-b").run_once() == 1
    assert gw.calls.deleted == ["task-1"]  # the create's try only: nothing to send it through
    again = await gw.b.stores.cancels.get(moved.deployment_id, moved.native_id)
    assert again is not None
    assert (again.tries, again.next_try_at, again.lease_owner) == (2, gw.clock() + 4, None)
    assert late.seen == [("replicate", "cancel_owed")]


async def test_an_owed_cancel_whose_deployment_can_no_longer_cancel_is_given_up(gw: Gateway) -> None:
    late = LateCreates()
    _, _, owing = await _answered_late_owing_its_cancel(gw, late)
    (xai,) = gw.b.service.router.deployments_for("x")  # its row declares no delete
    moved = await _owed_on(gw, owing, xai.id)
    gw.clock.now += 2
    assert await Poller(gw.b.service, worker_id="poller-b").run_once() == 1
    assert gw.calls.deleted == ["task-1"]
    assert await gw.b.stores.cancels.get(moved.deployment_id, moved.native_id) is None
    assert late.seen == [("replicate", "cancel_owed"), ("replicate", "cancel_given_up")]
    gw.clock.now += 3600
    assert await Poller(gw.b.service, worker_id="poller-b").run_once() == 0


async def test_an_owed_cancel_of_a_job_another_video_holds_now_is_not_made(gw: Gateway) -> None:
    """The late job's record holds another upstream job, so no record holds the late one: a search for
    another record of the same request (its create's process died) may take it meanwhile. That video
    pays for it, so the poller neither cancels it nor owes it any longer."""
    late = LateCreates()
    _, record = await _followed_another_job_owing_the_cancel(gw, late)
    holder = make_job(
        "video_holder", owner=record.owner_key_id, deployment_id=record.deployment_id, native_id="task-1"
    )
    await gw.a.stores.jobs.insert(holder)
    gw.clock.now += 2
    await Poller(gw.b.service, worker_id="poller-b").run_once()
    assert gw.calls.deleted == ["task-1"]  # the create's try only
    assert await _owed(gw, record) is None
    assert late.seen == [("replicate", "cancel_owed"), ("replicate", "recorded_elsewhere")]


async def test_deleting_the_video_makes_its_owed_cancel(gw: Gateway) -> None:
    late = LateCreates()
    p, job, _ = await _answered_late_owing_its_cancel(gw, late)
    gw.calls.cancel_error = None
    assert (await gw.a.service.delete_video(p, job.id)).id == job.id
    assert gw.calls.deleted == ["task-1", "task-1"]  # the create's try, then the delete's
    deleted = await gw.a.stores.jobs.get(job.id)
    assert deleted is not None
    assert deleted.deleted
    assert await _owed(gw, job) is None
    gw.clock.now += 3600
    assert await Poller(gw.b.service, worker_id="poller-b").run_once() == 0
    assert gw.calls.deleted == ["task-1", "task-1"]


async def test_deleting_a_video_keeps_the_cancel_of_another_upstream_job_owed(gw: Gateway) -> None:
    """The video is the job its resolver found (``task-9``); the late job's cancel (``task-1``) is owed
    apart from it: deleting the video cancels its own job upstream, not the late one."""
    late = LateCreates()
    p, record = await _followed_another_job_owing_the_cancel(gw, late)
    await _complete(gw, p, record.id)
    gw.calls.cancel_error = None
    await gw.a.service.delete_video(p, record.id)
    assert gw.calls.deleted == ["task-1", "task-9"]  # the create's try, then the delete of the video
    owing = await _owed(gw, record)
    assert owing is not None
    assert (owing.video_id, owing.tries) == (record.id, 1)
    gw.clock.now += ERROR_BACKOFF_MAX
    await Poller(gw.b.service, worker_id="poller-b").run_once()
    assert gw.calls.deleted == ["task-1", "task-9", "task-1"]
    assert await _owed(gw, record) is None
    assert late.seen == [("replicate", "cancel_owed"), ("replicate", "cancelled_later")]
    assert await gw.charged(p, record.id) == ("completed", 400_000, 400_000, 0, 1)


async def test_deleting_a_video_whose_delete_made_no_cancel_keeps_it_owed(gw: Gateway) -> None:
    """Its deployment left the config: the delete reaches nothing upstream, so the cancel stays owed (a
    failed try each time the poller has no deployment to send it through)."""
    late = LateCreates()
    p, job, owing = await _answered_late_owing_its_cancel(gw, late)
    stored = await gw.a.stores.jobs.get(job.id)
    assert stored is not None
    stored.deployment_id = "dep-removed"
    assert await gw.a.stores.jobs.save(stored)
    moved = await _owed_on(gw, owing, "dep-removed")
    assert (await gw.a.service.delete_video(p, job.id)).id == job.id
    assert gw.calls.deleted == ["task-1"]  # the create's try only
    assert await gw.a.stores.cancels.get(moved.deployment_id, moved.native_id) == moved
    gw.clock.now += 2
    assert await Poller(gw.b.service, worker_id="poller-b").run_once() == 1
    again = await gw.a.stores.cancels.get(moved.deployment_id, moved.native_id)
    assert again is not None
    assert again.tries == 2


async def test_a_late_job_another_record_holds_is_not_cancelled(gw: Gateway) -> None:
    late = LateCreates()
    gw.a.service.observers.add(late)
    p = await _key(gw.a.service)
    create, record = await _resolved_before_the_answer(gw, p, "m")
    # Another record of the same request was resolved by finding this create's upstream job.
    holder = make_job(
        "video_holder", owner=record.owner_key_id, deployment_id=record.deployment_id, native_id="task-1"
    )
    await gw.a.stores.jobs.insert(holder)
    gw.calls.answer.set()
    with pytest.raises(APIError) as answered:
        await create
    assert answered.value.code == "upstream_answered_late"
    assert (gw.calls.deleted, late.seen) == ([], [("replicate", "recorded_elsewhere")])
    job = await gw.a.stores.jobs.get(record.id)
    assert job is not None
    assert (job.status, job.native_id, job.cost_micros) == ("failed", f"submitting:{record.id}", 0)
    assert await _owed(gw, record) is None  # owed first, then settled: that video pays for it


async def test_a_late_job_whose_record_was_resolved_with_another_upstream_job_is_cancelled(
    gw: Gateway,
) -> None:
    """The resolver took a listed job of the same request for the record (a create of it it could not
    tell apart): that job is the video's, answered and followed; the late one is cancelled."""
    late = LateCreates()
    gw.a.service.observers.add(late)
    p = await _key(gw.a.service)
    create, record = await _resolved_with_another_job(gw, p)
    gw.calls.answer.set()
    video = await create
    assert (video.id, video.status) == (record.id, "queued")
    assert (gw.calls.deleted, late.seen) == (["task-1"], [("replicate", "cancelled")])
    assert await _owed(gw, record) is None
    job = await gw.a.stores.jobs.get(record.id)
    assert job is not None
    assert (job.status, job.native_id) == ("queued", "task-9")
    await _complete(gw, p, record.id)
    assert await gw.charged(p, record.id) == ("completed", 400_000, 400_000, 0, 1)


async def test_a_late_job_whose_record_holds_another_upstream_job_owes_its_failed_cancel(gw: Gateway) -> None:
    """No jobs row holds the late job, yet its cancel is owed durably: a failed first try is made again
    by the poller (it used to be tried once, then forgotten while the provider billed it)."""
    late = LateCreates()
    p, record = await _followed_another_job_owing_the_cancel(gw, late)
    assert late.seen == [("replicate", "cancel_owed")]
    owing = await _owed(gw, record)
    assert owing is not None
    assert (owing.video_id, owing.provider, owing.tries, owing.next_try_at) == (
        record.id,
        "replicate",
        1,
        gw.clock() + 2,
    )
    gw.calls.cancel_error = None
    gw.clock.now += 2
    await Poller(gw.b.service, worker_id="poller-b").run_once()  # also polls the video's own job
    assert gw.calls.deleted == ["task-1", "task-1"]
    assert await _owed(gw, record) is None
    assert late.seen == [("replicate", "cancel_owed"), ("replicate", "cancelled_later")]
    await _complete(gw, p, record.id)
    assert await gw.charged(p, record.id) == ("completed", 400_000, 400_000, 0, 1)


class FailingHooks(WebhookSender):
    """A webhook receiver that is down: every delivery asks to be retried; each attempt's time kept."""

    def __init__(self, clock: Clock) -> None:
        super().__init__("https://hooks.example.com/v", "whsec_c2VjcmV0", httpx.AsyncClient())
        self.clock = clock
        self.attempts: list[float] = []

    async def send_job(self, job: JobRecord, *, url: str | None = None) -> Delivery:
        self.attempts.append(self.clock())
        return "retry"


async def test_webhook_retries_and_cancel_tries_of_one_failed_job_keep_their_own_schedules(
    hooked: Gateway,
) -> None:
    """A failed record owing both its webhook event and its late job's cancel: each is retried on its own
    backoff (they used to share the job's next poll time and failure count, so one moved the other)."""
    gw = hooked
    late = LateCreates()
    _, job, _ = await _answered_late_owing_its_cancel(gw, late)  # the first cancel try failed at t0
    t0 = gw.clock()
    stored = await gw.a.stores.jobs.get(job.id)
    assert stored is not None
    assert stored.webhook_pending  # owed when the resolver failed the record
    hooks = FailingHooks(gw.clock)
    poller = Poller(gw.b.service, worker_id="poller-b")
    poller.webhooks = hooks
    tried: list[float] = [t0]
    for second in range(1, 16):
        gw.clock.now = t0 + second
        before = len(gw.calls.deleted)
        await poller.run_once()
        tried += [gw.clock()] * (len(gw.calls.deleted) - before)
    # Each doubles its own wait (2, 4, 8 s) from its own first try: the cancel's at t0, the event's at t0+1.
    assert [t - t0 for t in tried] == [0, 2, 6, 14]
    assert [t - t0 for t in hooks.attempts] == [1, 3, 7, 15]
    owing = await _owed(gw, job)
    assert owing is not None
    assert (owing.tries, owing.next_try_at) == (4, t0 + 14 + 16)
    hooked_job = await gw.a.stores.jobs.get(job.id)
    assert hooked_job is not None
    assert (hooked_job.webhook_failures, hooked_job.next_poll_at) == (4, t0 + 15 + 16)
    await hooks.client.aclose()


async def test_a_create_answered_late_frees_its_idempotency_key(gw: Gateway) -> None:
    """Nothing was charged for the failed video: a retry with the same key starts the video afresh."""
    p = await _key(gw.a.service)
    create, record = await _resolved_before_the_answer(gw, p, "m", idempotency_key="idem-1")
    gw.calls.answer.set()
    with pytest.raises(APIError):
        await create
    retried = await gw.a.service.create_video(
        p, CreateVideo(model="m", prompt="a fox", seconds="4"), idempotency_key="idem-1"
    )
    assert retried.id != record.id
    assert retried.status == "queued"
    assert await gw.charged(p, retried.id) == ("queued", None, 0, 400_000, 0)


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
