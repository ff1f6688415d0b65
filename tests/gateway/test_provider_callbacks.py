"""The generic intake of provider callbacks (``gateway/provider_callbacks.py``), with provider calls
stubbed: what a delivery may change, and what it never changes. Provider-specific signatures are
tested in each provider's ``test_callbacks.py`` against its emulator.

Price by hand: the open Replicate model is priced by its deployment at $0.40 per video.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from vidgate.errors import APIConnectionError, APIError, ConflictError, NotFoundError
from vidgate.gateway import jobs as machine
from vidgate.gateway import provider_callbacks
from vidgate.gateway.auth import Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.config import ConfigError, parse_config
from vidgate.gateway.routing import Deployment
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.providers.base import CallbackAnswer, CallbackDelivery, InvalidCallback, ProviderJob
from vidgate.server.metrics import Metrics
from vidgate.server.redaction import redact_url
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner
from vidgate.types import VideoRequest

MASTER = "sk-callbacks-unit-master"
PUBLIC = "https://gateway.example"
T0 = 1_800_000_000.0


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


class StubCalls(ProviderCalls):
    """The provider, stubbed: creates answer a queued job; callbacks are read as ``reported`` (or
    raise what ``refuse`` says); every call is counted."""

    def __init__(self, runner: AsyncRunner) -> None:
        super().__init__(runner)
        self.calls: Counter[str] = Counter()
        self.callbacks: list[Any] = []  # the callback each create was given
        self.reported: ProviderJob | CallbackAnswer | None = None
        self.refuse: Exception | None = None

    async def create(self, dep: Deployment, req: VideoRequest) -> ProviderJob:
        self.calls["create"] += 1
        self.callbacks.append(dep.credentials.provider_callback)
        native = f"pred{self.calls['create']}"
        return ProviderJob(native_id=native, status="queued", model=req.model, prompt=req.prompt)

    async def retrieve(self, dep: Deployment, native_id: str) -> ProviderJob:
        self.calls["retrieve"] += 1
        return ProviderJob(native_id=native_id, status="in_progress", model="m")

    async def parse_callback(
        self, dep: Deployment, delivery: CallbackDelivery
    ) -> ProviderJob | CallbackAnswer:
        self.calls["parse_callback"] += 1
        if self.refuse is not None:
            raise self.refuse
        assert self.reported is not None
        return self.reported


@dataclass
class Setup:
    service: GatewayService
    stores: MemoryStores
    calls: StubCalls
    clock: Clock

    async def caller(self) -> Principal:
        master = await self.service.authenticate(MASTER)
        secret, _ = await self.service.generate_key(master, key_alias="k")
        return await self.service.authenticate(secret)

    async def spend(self, p: Principal) -> int:
        assert p.key is not None
        key = await self.stores.keys.get(p.key.id)
        assert key is not None
        return key.total_spend_micros


def config(**params: Any) -> Any:
    entry = {
        "model": "replicate/someone/video-model",
        "api_key": "r8_x",
        "output_cost_per_video": "0.40",
        "provider_callbacks": True,
        **params,
    }
    return parse_config(
        {
            "model_list": [{"model_name": "m", "litellm_params": entry}],
            "general_settings": {"master_key": MASTER, "public_base_url": PUBLIC},
        },
        environ={},
    )


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    runner = AsyncRunner()
    clock = Clock()
    calls = StubCalls(runner)
    stores = MemoryStores()
    service = GatewayService(config(), stores, runner, calls=calls, clock=clock)
    yield Setup(service, stores, calls, clock)
    await runner.aclose()


async def created(s: Setup, p: Principal) -> tuple[str, str]:
    """A video created on the callback deployment: (its id, the secret its callback URL carries)."""
    video = await s.service.create_video(p, CreateVideo(model="m", prompt="a fox", seconds="4"))
    callback = s.calls.callbacks[-1]
    assert callback is not None
    return video.id, callback.secret


def done(native_id: str) -> ProviderJob:
    return ProviderJob(native_id=native_id, status="completed", model="m", outputs=("https://x/v.mp4",))


def test_issued_callbacks_carry_a_fresh_256_bit_secret_and_store_only_its_hash() -> None:
    first, first_hash = provider_callbacks.issue(PUBLIC, "video_" + "a" * 32)
    second, _ = provider_callbacks.issue(PUBLIC, "video_" + "a" * 32)
    assert first.url == f"{PUBLIC}/provider_callbacks/video_{'a' * 32}?token={first.secret}"
    assert len(first.secret) >= 43  # 32 random bytes, base64url
    assert first.secret != second.secret
    assert first_hash == hashlib.sha256(first.secret.encode()).hexdigest()
    assert first.secret not in redact_url(f"https://queue.example/app?fal_webhook={first.url}")


async def test_a_create_registers_the_callback_and_polls_only_as_a_slow_fallback(setup: Setup) -> None:
    p = await setup.caller()
    video_id, secret = await created(setup, p)
    job = await setup.stores.jobs.get(video_id)
    assert job is not None
    assert job.provider_callback_hash == provider_callbacks.digest(secret)
    assert secret not in str(job)  # only the hash is kept
    assert job.next_poll_at == T0 + machine.CALLBACK_POLL_SECONDS
    assert not setup.service.keeper.due(job, T0 + machine.CALLBACK_POLL_SECONDS - 1)


async def test_a_verified_callback_completes_the_job_at_once_and_duplicates_change_nothing(
    setup: Setup,
) -> None:
    p = await setup.caller()
    video_id, secret = await created(setup, p)
    setup.calls.reported = done("pred1")
    for _ in range(10):  # fal delivers up to 10 more times
        reply = await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
        assert reply.body == {"received": True}
    job = await setup.stores.jobs.get(video_id)
    assert job is not None
    assert (job.status, job.cost_micros) == ("completed", 400_000)
    assert await setup.spend(p) == 400_000  # $0.40, once
    assert setup.calls.calls["retrieve"] == 0
    assert setup.calls.calls["parse_callback"] == 10


async def test_forged_callbacks_change_nothing(setup: Setup) -> None:
    p = await setup.caller()
    video_id, secret = await created(setup, p)
    setup.calls.reported = done("pred1")
    for job_id, token in (
        (video_id, "guessed"),
        (video_id, ""),
        ("video_" + "0" * 32, secret),
        ("../../etc", secret),
        ("video_\x00", secret),
    ):
        with pytest.raises(NotFoundError):
            await setup.service.callbacks.receive(job_id, token, {}, b"{}")
    setup.calls.refuse = InvalidCallback("no valid signature")
    with pytest.raises(APIError, match="refused") as refused:
        await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    assert refused.value.status_code == 401
    setup.calls.refuse = None
    setup.calls.reported = done("someone-elses-prediction")  # signed, but about another job
    with pytest.raises(APIError, match="another job") as other:
        await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    assert other.value.status_code == 401
    job = await setup.stores.jobs.get(video_id)
    assert job is not None
    assert (job.status, job.cost_micros) == ("queued", None)
    assert await setup.spend(p) == 0


async def test_a_callback_while_the_create_runs_is_deferred_but_a_url_check_is_answered(setup: Setup) -> None:
    p = await setup.caller()
    video_id, secret = await created(setup, p)
    job = await setup.stores.jobs.get(video_id)
    assert job is not None
    job.submitting = True  # as while the provider's create has not answered yet
    assert await setup.stores.jobs.save(job)
    setup.calls.reported = done("pred1")
    with pytest.raises(ConflictError):
        await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    setup.calls.reported = CallbackAnswer({"challenge": "c1"})
    reply = await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    assert reply.body == {"challenge": "c1"}


async def test_unverifiable_now_is_retryable_and_changes_nothing(setup: Setup) -> None:
    p = await setup.caller()
    video_id, secret = await created(setup, p)
    setup.calls.refuse = APIConnectionError("the signing keys could not be fetched")
    with pytest.raises(APIError, match="cannot be verified now") as later:
        await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    assert (later.value.status_code, later.value.retry_after) == (503, provider_callbacks.BUSY_RETRY_AFTER)
    job = await setup.stores.jobs.get(video_id)
    assert job is not None
    assert job.status == "queued"


async def test_a_replayed_earlier_state_never_moves_a_job_back(setup: Setup) -> None:
    p = await setup.caller()
    video_id, secret = await created(setup, p)
    setup.calls.reported = ProviderJob(native_id="pred1", status="in_progress", model="m", progress=40)
    await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    setup.calls.reported = ProviderJob(native_id="pred1", status="queued", model="m")
    await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    job = await setup.stores.jobs.get(video_id)
    assert job is not None
    assert (job.status, job.progress) == ("in_progress", 40)
    assert job.next_poll_at == T0 + machine.CALLBACK_POLL_SECONDS


def test_callbacks_need_a_provider_that_calls_back_and_a_public_url() -> None:
    local = {"model": "local/local-1", "provider_callbacks": True, "output_cost_per_second": "0.1"}
    with pytest.raises(ConfigError, match=r"cannot call back \(providers that can: .*replicate"):
        parse_config(
            {
                "model_list": [{"model_name": "l", "litellm_params": local}],
                "general_settings": {"master_key": MASTER, "public_base_url": PUBLIC},
            },
            environ={},
        )
    entry = {"model": "fal/a/b", "api_key": "k", "output_cost_per_video": "1", "provider_callbacks": True}
    with pytest.raises(ConfigError, match=r"general_settings\.public_base_url: required"):
        parse_config({"model_list": [{"model_name": "f", "litellm_params": entry}]}, environ={})


async def test_every_delivery_is_counted_by_provider_and_outcome(setup: Setup) -> None:
    metrics = Metrics()
    setup.service.observers.add(metrics)
    p = await setup.caller()
    video_id, secret = await created(setup, p)

    def count(provider: str, outcome: str) -> float | None:
        labels = {"provider": provider, "outcome": outcome}
        return metrics.registry.get_sample_value("vidgate_provider_callbacks_total", labels)

    with pytest.raises(NotFoundError):  # no such job
        await setup.service.callbacks.receive("video_" + "0" * 32, secret, {}, b"{}")
    with pytest.raises(NotFoundError):  # a wrong token for a real job: forged (answered as unknown)
        await setup.service.callbacks.receive(video_id, "guessed", {}, b"{}")
    setup.calls.refuse = InvalidCallback("no valid signature")
    with pytest.raises(APIError):
        await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    setup.calls.refuse = None
    setup.calls.reported = CallbackAnswer({"challenge": "c1"})
    await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    setup.calls.reported = done("pred1")
    for _ in range(3):  # the first completes the job, the two retries are duplicates
        await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    assert count("unknown", "unknown_job") == 1.0
    assert count("replicate", "forged") == 2.0
    assert count("replicate", "challenge") == 1.0
    assert count("replicate", "accepted") == 1.0
    assert count("replicate", "duplicate") == 2.0
    scrape = metrics.render().decode()
    assert 'vidgate_provider_callbacks_total{outcome="accepted",provider="replicate"} 1.0' in scrape
    assert await setup.spend(p) == 400_000  # charged once: $0.40


async def test_a_delivery_while_the_job_stays_leased_is_counted_busy(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = Metrics()
    setup.service.observers.add(metrics)
    monkeypatch.setattr(provider_callbacks, "LEASE_PAUSE", 0.0)
    p = await setup.caller()
    video_id, secret = await created(setup, p)
    leased = await setup.stores.jobs.try_lease(video_id, "another-poller", now=T0, lease_seconds=30)
    assert leased is not None
    setup.calls.reported = done("pred1")
    with pytest.raises(ConflictError):
        await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    labels = {"provider": "replicate", "outcome": "busy"}
    assert metrics.registry.get_sample_value("vidgate_provider_callbacks_total", labels) == 1.0


async def test_after_a_callback_any_replicas_poller_takes_the_job_at_once_without_a_poll(
    setup: Setup,
) -> None:
    """The receiving replica advances the job itself (no owner to hand it to: a lease is held only
    while a job is worked); the copy of its content is due at once, so whichever replica's poller
    claims first does it (this service runs no poller, as a replica with ``run_worker=False``)."""
    p = await setup.caller()
    video_id, secret = await created(setup, p)
    setup.calls.reported = done("pred1")
    await setup.service.callbacks.receive(video_id, secret, {}, b"{}")
    claimed = await setup.stores.jobs.claim_due(
        "poller-of-another-replica", now=T0, lease_seconds=30, limit=10
    )
    assert [(job.id, job.status, job.content_stored) for job in claimed] == [(video_id, "completed", False)]
    assert (claimed[0].upstream_polls, setup.calls.calls["retrieve"]) == (0, 0)
    assert await setup.spend(p) == 400_000  # settled by the receiving replica, once
