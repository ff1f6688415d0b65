"""Idempotency-Key on create and remix (Stripe's semantics, per virtual key, durable)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from tests.gateway.harness import Gateway, local_entries, make_config, make_gateway
from tests.support.guards import configured, guardrails

from vidgate.errors import APIError, BadRequestError, ConflictError
from vidgate.gateway import submitting
from vidgate.gateway.guardrails import GuardInput, Verdict
from vidgate.gateway.idempotency import fingerprint
from vidgate.gateway.routing import Deployment
from vidgate.gateway.service import CreateVideo
from vidgate.providers.base import ProviderJob
from vidgate.types import ImageInput, Video, VideoRequest
from vidgate.worker.poller import Poller

ONE_SECOND_OF_LOCAL = 100_000  # 1 s x $0.10/s


def _req(prompt: str = "a red fox", seconds: str = "1") -> CreateVideo:
    return CreateVideo(model="local-1", prompt=prompt, seconds=seconds, size="320x180")


async def test_same_key_and_body_answer_the_same_video_without_a_second_call_or_charge(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    first = await gw.service.create_video(alice, _req(), idempotency_key="order-1")
    again = await gw.service.create_video(alice, _req(), idempotency_key="order-1")
    assert again.id == first.id
    assert gw.local.calls["create"] == 1
    assert (await gw.key(alice)).reserved_micros == ONE_SECOND_OF_LOCAL
    gw.finish_local_jobs()
    done = await gw.service.create_video(alice, _req(), idempotency_key="order-1")
    assert (done.id, done.status) == (first.id, "completed")  # the same video, as it is now
    assert (await gw.key(alice)).spend_micros == ONE_SECOND_OF_LOCAL
    other = await gw.service.create_video(alice, _req(), idempotency_key="order-2")
    assert other.id != first.id
    assert gw.local.calls["create"] == 2


async def test_same_key_with_another_body_is_422_and_keys_are_per_virtual_key(gw: Gateway) -> None:
    alice, bob = await gw.new_key("alice"), await gw.new_key("bob")
    first = await gw.service.create_video(alice, _req(), idempotency_key="k")
    with pytest.raises(APIError) as reused:
        await gw.service.create_video(alice, _req("a blue fox"), idempotency_key="k")
    assert (reused.value.status_code, reused.value.code) == (422, "idempotency_key_reused")
    with pytest.raises(APIError) as as_remix:
        await gw.service.remix_video(alice, first.id, "a red fox", idempotency_key="k")
    assert as_remix.value.status_code == 422
    bobs = await gw.service.create_video(bob, _req(), idempotency_key="k")  # bob's own "k"
    assert bobs.id != first.id
    assert gw.local.calls["create"] == 2


async def test_a_request_refused_before_the_provider_frees_its_key(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    with pytest.raises(BadRequestError):
        await gw.service.create_video(alice, _req(seconds="99"), idempotency_key="k")
    video = await gw.service.create_video(alice, _req(), idempotency_key="k")  # not a 422: nothing ran
    assert video.status == "queued"


async def test_an_unknown_upstream_outcome_is_answered_again_never_retried(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    gw.local.fail_creates = APIError("upstream broke mid-request", status_code=500, provider="local")
    with pytest.raises(APIError) as first:
        await gw.service.create_video(alice, _req(), idempotency_key="k")
    assert first.value.code == "upstream_outcome_unknown"
    gw.local.fail_creates = None
    with pytest.raises(ConflictError):  # the poller is still looking for it upstream
        await gw.service.create_video(alice, _req(), idempotency_key="k")
    await Poller(gw.service, worker_id="w").run_once()  # not listed at the provider yet: looked for again
    with pytest.raises(ConflictError):
        await gw.service.create_video(alice, _req(), idempotency_key="k")
    gw.clock.advance(submitting.FIND_GRACE_SECONDS)
    await Poller(gw.service, worker_id="w").run_once()  # still not listed, and old enough: failed
    again = await gw.service.create_video(alice, _req(), idempotency_key="k")
    assert again.status == "failed"
    assert again.error is not None
    assert again.error.code == "upstream_outcome_unknown"
    assert gw.local.calls["create"] == 1
    assert (await gw.key(alice)).reserved_micros == 0


async def test_a_request_still_in_flight_answers_409_and_never_calls_twice(gw: Gateway) -> None:
    alice = await gw.new_key("alice")
    admitted, go = asyncio.Event(), asyncio.Event()

    async def hold(subject: GuardInput) -> Verdict:
        admitted.set()
        await go.wait()
        return Verdict.allow()

    gw.service.starter.guardrails = guardrails(configured(hold, timeout=60))
    first = asyncio.create_task(gw.service.create_video(alice, _req(), idempotency_key="k"))
    await asyncio.wait_for(admitted.wait(), timeout=10)
    with pytest.raises(ConflictError) as busy:  # claimed, no job yet
        await gw.service.create_video(alice, _req(), idempotency_key="k")
    assert (busy.value.code, busy.value.retry_after) == ("idempotency_key_in_use", 1.0)

    answered, release = asyncio.Event(), asyncio.Event()
    real_create = gw.service.calls.create

    async def slow_create(dep: Deployment, req: VideoRequest) -> ProviderJob:
        answered.set()
        await release.wait()
        return await real_create(dep, req)

    gw.service.calls.create = slow_create  # type: ignore[method-assign]
    go.set()
    await asyncio.wait_for(answered.wait(), timeout=10)
    with pytest.raises(ConflictError):  # its job is stored write-ahead, the provider has not answered
        await gw.service.create_video(alice, _req(), idempotency_key="k")
    release.set()
    video: Video = await asyncio.wait_for(first, timeout=10)
    assert (await gw.service.create_video(alice, _req(), idempotency_key="k")).id == video.id
    assert gw.local.calls["create"] == 1


async def test_a_claim_held_through_a_slow_guardrail_is_not_taken_over(local_root: Path) -> None:
    """The pre-call guardrails run before the job is linked: a retry while the first request waits on
    one (longer than the 60 s a claim without a job is otherwise given) is a 409, never a second job."""
    admitted, go = asyncio.Event(), asyncio.Event()

    async def hold(subject: GuardInput) -> Verdict:
        admitted.set()
        await go.wait()
        return Verdict.allow()

    slow = configured(hold, timeout=300)
    base = make_config(local_entries(local_root))
    gw = make_gateway(local_root, config=base.model_copy(update={"guardrails": (slow,)}))
    assert gw.service.idempotency.unlinked_stale == 360  # 60 s + the slowest guardrail's timeout
    alice = await gw.new_key("alice")
    first = asyncio.create_task(gw.service.create_video(alice, _req(), idempotency_key="k"))
    await asyncio.wait_for(admitted.wait(), timeout=10)
    gw.clock.advance(90)  # the moderation endpoint is slow: 90 s in, still within its timeout
    with pytest.raises(ConflictError) as busy:  # (taken over, it would wait in the guardrail too)
        await asyncio.wait_for(gw.service.create_video(alice, _req(), idempotency_key="k"), timeout=10)
    assert busy.value.code == "idempotency_key_in_use"
    go.set()
    video = await asyncio.wait_for(first, timeout=10)
    assert (await gw.service.create_video(alice, _req(), idempotency_key="k")).id == video.id
    assert gw.local.calls["create"] == 1
    assert (await gw.key(alice)).reserved_micros == ONE_SECOND_OF_LOCAL
    await gw.close()


async def test_a_job_the_provider_made_but_the_store_could_not_record_is_never_made_twice(
    gw: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record's save keeps losing (something else writes the row each time): the provider's job
    exists, so this is an unknown outcome left to the poller and the key stays bound to the record; a
    retry answers 409 until the poller recorded it, then that video. A 409 "busy, retry" freed the key
    and the retry started a second paid job."""
    alice = await gw.new_key("alice")
    real_save = gw.stores.jobs.save

    async def losing(job: Any) -> bool:
        return False if not job.submitting else await real_save(job)

    monkeypatch.setattr(gw.stores.jobs, "save", losing)
    with pytest.raises(APIError) as unknown:
        await gw.service.create_video(alice, _req(), idempotency_key="k")
    assert (unknown.value.status_code, unknown.value.code) == (502, submitting.OUTCOME_UNKNOWN)
    with pytest.raises(ConflictError):
        await gw.service.create_video(alice, _req(), idempotency_key="k")
    assert gw.local.calls["create"] == 1
    monkeypatch.undo()
    gw.clock.advance(60)  # the create's lease has lapsed: the poller resolves the record
    await Poller(gw.service, worker_id="w").run_once()
    video = await gw.service.create_video(alice, _req(), idempotency_key="k")
    assert video.status == "completed"  # found upstream, recorded, finished meanwhile: charged once
    assert gw.local.calls["create"] == 1
    key = await gw.key(alice)
    assert (key.spend_micros, key.reserved_micros) == (ONE_SECOND_OF_LOCAL, 0)


async def test_keys_survive_a_restart(gw: Gateway, local_root: Path) -> None:
    alice = await gw.new_key("alice")
    source = await gw.service.create_video(alice, _req(), idempotency_key="create-1")
    gw.finish_local_jobs()
    await gw.service.get_video(alice, source.id)
    remix = await gw.service.remix_video(alice, source.id, "at night", idempotency_key="remix-1")
    restarted = make_gateway(local_root, stores=gw.stores, clock=gw.clock)
    alice_again = await restarted.service.authenticate(gw.keys["alice"])
    assert (
        await restarted.service.create_video(alice_again, _req(), idempotency_key="create-1")
    ).id == source.id
    replayed = await restarted.service.remix_video(
        alice_again, source.id, "at night", idempotency_key="remix-1"
    )
    assert replayed.id == remix.id
    assert (restarted.local.calls["create"], restarted.local.calls["remix"]) == (0, 0)
    await restarted.close()


def test_fingerprints_tell_images_apart_by_their_bytes() -> None:
    def with_image(data: bytes) -> str:
        req = _req()
        req = CreateVideo(**{**req.__dict__, "input_reference": ImageInput(data=data, mime_type="image/png")})
        return fingerprint("create", dataclasses.asdict(req))

    assert with_image(b"\x89PNG one") == with_image(b"\x89PNG one")
    assert with_image(b"\x89PNG one") != with_image(b"\x89PNG two")
    assert fingerprint("create", {"prompt": "x"}) != fingerprint("remix", {"prompt": "x"})
