"""Post-call guardrails over a finished job's output: a refusal fails it uncharged, an output that
cannot be read now is checked again later (never completed unchecked, never a 5xx to a reader)."""

from __future__ import annotations

import logging

import pytest
from tests.gateway.harness import Gateway
from tests.support.guards import configured, guardrails
from tests.support.images import damage_first_frames, image_bytes

from vidgate.errors import ServiceUnavailableError, UpstreamError
from vidgate.gateway.guardrails import GuardInput, Verdict
from vidgate.gateway.guardrails.output import OutputCheck
from vidgate.types import ImageInput


def _install(gw: Gateway, check: OutputCheck) -> None:
    gw.service.keeper.output_check = check


def _check(gw: Gateway, *guards: object) -> OutputCheck:
    svc = gw.service
    return OutputCheck(guardrails(*guards), svc.stores.keys, svc.router, svc.calls)  # type: ignore[arg-type]


def _allow_recording(gw: Gateway) -> list[GuardInput]:
    """A post-call guardrail that allows every output, installed; what it was given, in order."""
    seen: list[GuardInput] = []

    async def allow(subject: GuardInput) -> Verdict:
        seen.append(subject)
        return Verdict.allow()

    _install(gw, _check(gw, configured(allow, name="ok", modes=("post_call",))))
    return seen


async def test_a_refused_output_fails_the_job_and_releases_its_money(gw: Gateway) -> None:
    seen: list[GuardInput] = []

    async def no_output(subject: GuardInput) -> Verdict:
        seen.append(subject)
        return Verdict.refuse("the output shows a brand")

    _install(gw, _check(gw, configured(no_output, name="brand-check", modes=("post_call",))))
    alice = await gw.new_key("alice")
    video = await gw.create(alice, "a quiet street")
    assert seen == []  # nothing to check before the output exists
    gw.finish_local_jobs()
    done = await gw.service.get_video(alice, video.id)
    assert done.status == "failed"
    assert done.error is not None
    assert done.error.code == "content_policy_violation"
    assert done.error.message == (
        "The video was refused by the guardrail 'brand-check': the output shows a brand. It was not charged."
    )
    key = await gw.key(alice)
    assert (key.spend_micros, key.reserved_micros, key.active_jobs) == (0, 0, 0)
    (subject,) = seen
    assert (subject.mode, subject.video_id, subject.texts) == (
        "post_call",
        video.id,
        (("prompt", "a quiet street"),),
    )
    field, thumbnail = subject.images[0]
    assert field == "output.thumbnail"
    assert thumbnail.data is not None
    assert thumbnail.data[:4] == b"RIFF"  # the local renderer's WebP thumbnail


async def test_an_output_that_cannot_be_read_is_checked_again_later(gw: Gateway) -> None:
    async def allow(subject: GuardInput) -> Verdict:
        return Verdict.allow()

    check = _check(gw, configured(allow, name="ok", modes=("post_call",)))
    real = check._thumbnail
    failures = [ServiceUnavailableError("storage is down")]

    async def flaky(job: object) -> object:
        if failures:
            raise failures.pop()
        return await real(job)  # type: ignore[arg-type]

    check._thumbnail = flaky  # type: ignore[method-assign,assignment]
    _install(gw, check)
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    first = await gw.service.get_video(alice, video.id)
    assert first.status != "completed"
    assert (await gw.key(alice)).spend_micros == 0
    gw.clock.advance(10)
    second = await gw.service.get_video(alice, video.id)
    assert second.status == "completed"
    assert (await gw.key(alice)).spend_micros == 100_000  # local-1 at $0.10/s x 1 s, once


async def test_a_thumbnail_that_can_never_be_made_leaves_the_prompt_to_check(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """The local renderer cannot decode the job's stored first frame (``render_failed``, permanent): the
    guardrails check the prompt alone, as for a provider without thumbnails, and the job completes in
    that round; it was retried, failing the same way, up to the poll-error limit."""
    seen = _allow_recording(gw)
    alice = await gw.new_key("alice")
    video = await gw.create(
        alice, "from a frame", input_reference=ImageInput(data=image_bytes(32, 18, "png"))
    )
    assert damage_first_frames(gw.root) == 1
    gw.finish_local_jobs()
    with caplog.at_level(logging.WARNING, logger="vidgate.gateway"):
        done = await gw.service.get_video(alice, video.id)
    assert done.status == "completed"
    assert (await gw.key(alice)).spend_micros == 100_000
    (subject,) = seen
    assert (subject.texts, subject.images) == ((("prompt", "from a frame"),), ())
    assert f"the thumbnail of {video.id} can never be made" in caplog.text


async def test_a_thumbnail_the_provider_fails_to_hand_over_now_is_read_again_later(gw: Gateway) -> None:
    seen = _allow_recording(gw)
    alice = await gw.new_key("alice")
    video = await gw.create(alice)
    gw.finish_local_jobs()
    gw.local.fail_downloads = UpstreamError("busy", provider="local")
    assert (await gw.service.get_video(alice, video.id)).status != "completed"
    assert (seen, (await gw.key(alice)).spend_micros) == ([], 0)
    gw.local.fail_downloads = None
    gw.clock.advance(10)
    assert (await gw.service.get_video(alice, video.id)).status == "completed"
    (subject,) = seen
    assert subject.images[0][0] == "output.thumbnail"


async def test_a_key_that_opts_out_is_not_checked(gw: Gateway) -> None:
    async def refuse(subject: GuardInput) -> Verdict:
        return Verdict.refuse("no")

    _install(gw, _check(gw, configured(refuse, name="strict", modes=("post_call",))))
    alice = await gw.new_key("alice", metadata={"disable_global_guardrails": True})
    video = await gw.create(alice)
    gw.finish_local_jobs()
    assert (await gw.service.get_video(alice, video.id)).status == "completed"
