"""The bfl adapter's flows against recorded replies: exact wire requests, every status, the polling-URL
rule (a foreign polling_url is never fetched), error mapping."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import validate
from vidgate.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    UnsupportedOperationError,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.bfl.adapter import BFLProvider
from vidgate.providers.bfl.config import BFLConfig
from vidgate.providers.catalogue import find_model
from vidgate.providers.reserved import check_extra_for
from vidgate.types import ImageInput, VideoRequest

CREDS = Credentials(api_key="bfl-test")
P = BFLProvider()
ROOT = "https://api.bfl.ai"
TASK = "6f1b2c3d-0000-4000-8000-00000000abcd"
POLL = f"https://api.us1.bfl.ai/v1/get_result?id={TASK}"


def reply(body: Any, status: int = 200, **headers: str) -> HttpReply:
    return HttpReply(status, {k.lower(): v for k, v in headers.items()}, json.dumps(body).encode())


def request(**params: Any) -> VideoRequest:
    spec = find_model("bfl/flux-3-video")
    assert spec is not None
    return validate(spec, prompt=params.pop("prompt", "a fox in the mist"), **params)


def submit(
    req: VideoRequest, answer: dict[str, Any] | None = None, creds: Credentials = CREDS
) -> tuple[str, dict[str, Any]]:
    answer = {"id": TASK, "polling_url": POLL} if answer is None else answer
    job, calls = drive(P.create(req, creds), [reply(answer)], P.error_for)
    assert job.status == "queued"
    (call,) = calls
    assert (call.method, call.retry_safe) == ("POST", False)
    assert call.url == f"{creds.api_base or ROOT}/v1/flux-3-video"
    assert call.headers["x-key"] == creds.api_key
    body: dict[str, Any] = call.json
    return job.native_id, body


def test_text_to_video_body_is_the_documented_one() -> None:
    native_id, body = submit(request(seconds="5", size="1280x720"))
    assert native_id == POLL  # the polling URL is followed as given: it is on *.bfl.ai
    assert body == {
        "mode": "t2v",
        "prompt": "a fox in the mist",
        "aspect_ratio": "16:9",
        "duration": 5,
        "resolution": "hd",
    }


@pytest.mark.parametrize(
    ("size", "aspect", "resolution"),
    [
        ("2520x1080", "21:9", "fhd"),
        ("1440x720", "2:1", "hd"),
        ("1080x1440", "3:4", "fhd"),
        ("720x1280", "9:16", "hd"),
    ],
)
def test_sizes_map_to_aspect_ratio_and_resolution(size: str, aspect: str, resolution: str) -> None:
    _, body = submit(request(size=size))
    assert (body["aspect_ratio"], body["resolution"]) == (aspect, resolution)


def test_audio_off_is_sent_and_twenty_seconds_is_allowed() -> None:
    _, body = submit(request(seconds="20", generate_audio=False))
    assert (body["duration"], body["generate_audio"]) == (20, False)


def test_image_to_video_sends_keyframes_url_or_inline_base64() -> None:
    _, one = submit(request(input_reference=ImageInput(url="https://example.com/a.png")))
    assert (one["mode"], one["keyframes"]) == ("i2v", "https://example.com/a.png")
    png = image_bytes(1280, 720, "png")
    _, two = submit(
        request(
            input_reference=ImageInput(data=png, mime_type="image/png"),
            last_frame=ImageInput(url="https://e.x/b.png"),
        )
    )
    assert two["keyframes"] == [base64.b64encode(png).decode("ascii"), "https://e.x/b.png"]


def test_a_closing_frame_alone_is_refused_before_any_call() -> None:
    with pytest.raises(BadRequestError) as info:
        next(P.create(request(last_frame=ImageInput(url="https://e.x/b.png")), CREDS))
    assert info.value.param == "last_frame"


def test_out_of_range_durations_are_a_400_naming_seconds() -> None:
    for seconds in ("4", "21"):
        with pytest.raises(BadRequestError) as info:
            request(seconds=seconds)
        assert info.value.param == "seconds"


@pytest.mark.parametrize("field", ["mode", "keyframes", "batch", "draft", "resolution", "duration"])
def test_extra_body_cannot_override_a_validated_field(field: str) -> None:
    with pytest.raises(BadRequestError) as info:
        check_extra_for(P, {field: "x"})
    assert info.value.param == f"extra_body.{field}"


# ---- the polling URL --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "foreign",
    [
        "https://evil.example/v1/get_result?id=x",
        "https://bfl.ai.evil.example/v1/get_result?id=x",
        "http://api.bfl.ai/v1/get_result?id=x",  # the key never goes over plain http
        "https://api.bfl.ai@evil.example/x",
    ],
)
def test_a_foreign_polling_url_is_never_followed(foreign: str) -> None:
    native_id, _ = submit(request(), {"id": TASK, "polling_url": foreign})
    assert native_id == f"{ROOT}/v1/get_result?id={TASK}"  # polled on the configured host instead
    with pytest.raises(NotFoundError):
        next(P.retrieve(foreign, CREDS))  # and a foreign id is refused before any call


def test_regional_polling_urls_are_followed_with_the_key() -> None:
    _, calls = drive(P.retrieve(POLL, CREDS), [reply({"id": TASK, "status": "Pending"})])
    assert (calls[0].method, calls[0].url, calls[0].headers["x-key"]) == ("GET", POLL, "bfl-test")


def test_the_configured_origin_is_followable_and_regions_pick_the_host() -> None:
    creds = BFLConfig(api_key="k", region="eu").credentials({})
    assert creds.api_base == "https://api.eu.bfl.ai"
    local = Credentials(api_key="k", api_base="http://127.0.0.1:8132")
    native_id, _ = submit(
        request(), {"id": TASK, "polling_url": f"http://127.0.0.1:8132/v1/get_result?id={TASK}"}, local
    )
    assert native_id.startswith("http://127.0.0.1:8132/")
    other_port, _ = submit(
        request(), {"id": TASK, "polling_url": "http://127.0.0.1:9999/v1/get_result?id=x"}, local
    )
    assert other_port == f"http://127.0.0.1:8132/v1/get_result?id={TASK}"
    with pytest.raises(ValueError, match="unknown region"):
        BFLConfig(api_key="k", region="mars")


# ---- statuses -----------------------------------------------------------------------------------------


def poll(body: dict[str, Any]) -> Any:
    job, _ = drive(P.retrieve(POLL, CREDS), [reply(body)])
    return job


def test_every_status_is_mapped() -> None:
    pending = poll({"status": "Pending", "progress": 0.42})
    assert (pending.status, pending.progress) == ("in_progress", 42)
    ready = poll({"status": "Ready", "result": {"sample": "https://delivery.bfl.ai/r/s.mp4"}})
    assert (ready.status, ready.progress, ready.outputs) == (
        "completed",
        100,
        ("https://delivery.bfl.ai/r/s.mp4",),
    )
    for moderated in ("Request Moderated", "Content Moderated"):
        job = poll({"status": moderated})
        assert job.status == "failed"
        assert job.error is not None
        assert job.error.code == "moderation_blocked"
    error = poll({"status": "Error", "error": "GPU fault"})
    assert error.error is not None
    assert (error.status, error.error.code, error.error.message) == (
        "failed",
        "generation_failed",
        "GPU fault",
    )
    empty = poll({"status": "Ready", "result": {}})
    assert empty.error is not None
    assert (empty.status, empty.error.code) == ("failed", "no_output")
    with pytest.raises(NotFoundError):
        poll({"status": "Task not found"})


def test_download_polls_again_for_a_fresh_sample_sent_without_the_key() -> None:
    download, calls = drive(
        P.download(POLL, "video", CREDS),
        [reply({"status": "Ready", "result": {"sample": "https://delivery.bfl.ai/f.mp4"}})],
    )
    assert [c.url for c in calls] == [POLL]
    assert download.call is not None
    assert download.call.url == "https://delivery.bfl.ai/f.mp4"
    assert "x-key" not in download.call.headers
    with pytest.raises(BadRequestError):
        drive(P.download(POLL, "video", CREDS), [reply({"status": "Pending"})])


def test_remix_list_and_delete_are_not_offered() -> None:
    with pytest.raises(UnsupportedOperationError):
        next(P.remix(POLL, "again", CREDS))
    with pytest.raises(UnsupportedOperationError):
        next(P.delete(POLL, CREDS))


def test_error_shapes_map_to_vidgate_classes() -> None:
    assert isinstance(P.error_for(reply({"detail": "Not authenticated"}, 403)), AuthenticationError)
    assert isinstance(P.error_for(reply({"detail": "Invalid API key"}, 401)), AuthenticationError)
    strict = P.error_for(
        reply({"detail": [{"loc": ["body", "colour"], "msg": "extra inputs", "type": "x"}]}, 422)
    )
    assert isinstance(strict, BadRequestError)
    assert strict.message == "body.colour: extra inputs"
    limited = P.error_for(reply({"detail": "Too many active tasks"}, 429, **{"Retry-After": "2"}))
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 2.0


def test_a_missing_key_is_an_authentication_error_before_any_call() -> None:
    with pytest.raises(AuthenticationError):
        next(P.create(request(), Credentials()))
