"""The xai adapter's flows against recorded replies: exact wire requests, every status, error mapping."""

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
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnsupportedOperationError,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.reserved import check_extra_for
from vidgate.providers.xai.adapter import XAIProvider
from vidgate.types import ImageInput, VideoRequest

PNG = image_bytes(64, 36, "png")  # a real one: validation reads its header
CREDS = Credentials(api_key="xai-test")
P = XAIProvider()
ROOT = "https://api.x.ai/v1"


def reply(body: Any, status: int = 200, **headers: str) -> HttpReply:
    return HttpReply(status, {k.lower(): v for k, v in headers.items()}, json.dumps(body).encode())


def request(model: str = "grok-imagine-video-1.5", **params: Any) -> VideoRequest:
    spec = find_model(f"xai/{model}")
    assert spec is not None
    return validate(spec, prompt=params.pop("prompt", "a cat on a piano"), **params)


def sent(req: VideoRequest) -> dict[str, Any]:
    (job, calls) = drive(P.create(req, CREDS), [reply({"request_id": "req-1"})], P.error_for)
    assert (job.native_id, job.status) == ("req-1", "queued")
    (call,) = calls
    assert (call.method, call.url, call.retry_safe) == ("POST", f"{ROOT}/videos/generations", False)
    assert call.headers["Authorization"] == "Bearer xai-test"
    body: dict[str, Any] = call.json
    return body


# ---- create ----------------------------------------------------------------------------------------


def test_text_to_video_sends_duration_aspect_ratio_and_resolution() -> None:
    assert sent(request(seconds="5", size="720x1280")) == {
        "model": "grok-imagine-video-1.5",
        "prompt": "a cat on a piano",
        "duration": 5,
        "aspect_ratio": "9:16",
        "resolution": "720p",
    }


@pytest.mark.parametrize(
    ("size", "aspect_ratio", "resolution"),
    [
        ("848x480", "16:9", "480p"),
        ("480x480", "1:1", "480p"),
        ("960x720", "4:3", "720p"),
        ("720x960", "3:4", "720p"),
        ("1620x1080", "3:2", "1080p"),
        ("1080x1620", "2:3", "1080p"),
        ("1920x1080", "16:9", "1080p"),
    ],
)
def test_every_size_maps_to_an_aspect_ratio_and_resolution(
    size: str, aspect_ratio: str, resolution: str
) -> None:
    body = sent(request(size=size, seconds="3"))
    assert (body["aspect_ratio"], body["resolution"]) == (aspect_ratio, resolution)


def test_default_duration_is_sent_explicitly() -> None:
    assert sent(request())["duration"] == 8  # what is priced is what is sent, never xAI's own default


def test_image_to_video_with_last_frame_and_audio_off() -> None:
    first = ImageInput(data=PNG, mime_type="image/png")
    last = ImageInput(url="https://example.com/last.png")
    body = sent(request(input_reference=first, last_frame=last, generate_audio=False, seconds="4"))
    assert body["image"] == {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()}
    assert body["last_frame"] == {"url": "https://example.com/last.png"}
    assert body["generate_audio"] is False


def test_reference_images_are_sent_as_urls() -> None:
    refs = [ImageInput(url="https://example.com/a.png"), ImageInput(data=PNG, mime_type="image/png")]
    body = sent(request(reference_images=refs, seconds="8", size="1280x720"))
    assert body["reference_images"][0] == {"url": "https://example.com/a.png"}
    assert body["reference_images"][1]["url"].startswith("data:image/png;base64,")


def test_reference_images_above_720p_are_refused_before_any_call() -> None:
    refs = [ImageInput(url="https://example.com/a.png")]
    flow = P.create(request(reference_images=refs, seconds="8", size="1920x1080"), CREDS)
    with pytest.raises(BadRequestError) as info:
        next(flow)
    assert info.value.param == "size"
    assert "720p" in info.value.message


def test_a_file_id_image_is_refused_naming_the_param() -> None:
    flow = P.create(request(input_reference=ImageInput(file_id="file-1"), seconds="4"), CREDS)
    with pytest.raises(BadRequestError) as info:
        next(flow)
    assert info.value.param == "input_reference"


def test_models_without_a_feature_refuse_it_in_validation() -> None:
    spec = find_model("xai/grok-imagine-video-1.5-lite")
    assert spec is not None
    with pytest.raises(BadRequestError) as info:
        validate(spec, prompt="x", reference_images=[ImageInput(url="https://e/a.png")])
    assert info.value.param == "reference_images"
    with pytest.raises(BadRequestError) as size:
        validate(spec, prompt="x", size="1920x1080")  # lite and legacy stop at 720p
    assert size.value.param == "size"


def test_native_names_cannot_come_through_extra_body() -> None:
    for name in ("image_url", "reference_image_urls", "resolution", "aspect_ratio", "duration", "video"):
        with pytest.raises(BadRequestError) as info:
            check_extra_for(P, {name: "x"})
        assert info.value.param == f"extra_body.{name}"
    body = sent(request(seconds="2", extra_body={"user_tag": "t"}))
    assert body["user_tag"] == "t"


def test_missing_key_is_an_authentication_error_before_any_call() -> None:
    with pytest.raises(AuthenticationError, match="XAI_API_KEY"):
        next(P.create(request(), Credentials()))


# ---- retrieve: every status ------------------------------------------------------------------------


def retrieved(body: dict[str, Any]) -> Any:
    job, calls = drive(P.retrieve("req-1", CREDS), [reply(body)], P.error_for)
    assert [c.url for c in calls] == [f"{ROOT}/videos/req-1"]
    return job


def test_accepted_but_not_started_is_queued() -> None:
    job = retrieved({"request_id": "req-1"})
    assert (job.status, job.progress) == ("queued", 0)


def test_pending_with_fractional_progress_is_in_progress() -> None:
    job = retrieved({"status": "pending", "model": "grok-imagine-video", "progress": 42.7})
    assert (job.status, job.progress, job.model) == ("in_progress", 42, "grok-imagine-video")


def test_done_carries_the_url_and_duration() -> None:
    video = {"url": "https://vidgen.x.ai/a.mp4", "duration": 6, "respect_moderation": True}
    job = retrieved({"status": "done", "video": video, "model": "grok-imagine-video", "progress": 100})
    assert (job.status, job.progress, job.seconds, job.outputs) == (
        "completed",
        100,
        "6",
        ("https://vidgen.x.ai/a.mp4",),
    )


def test_a_url_without_a_status_is_done() -> None:
    assert retrieved({"video": {"url": "https://vidgen.x.ai/a.mp4"}}).status == "completed"


def test_moderated_output_is_failed_moderation_blocked() -> None:
    video = {"url": "https://vidgen.x.ai/a.mp4", "duration": 6, "respect_moderation": False}
    job = retrieved({"status": "done", "video": video})
    assert job.status == "failed"
    assert job.error is not None
    assert job.error.code == "moderation_blocked"
    assert job.outputs == ()


def test_failed_carries_the_error() -> None:
    job = retrieved({"status": "failed", "error": {"code": "internal_error", "message": "boom"}})
    assert job.status == "failed"
    assert (job.error.code, job.error.message) == ("internal_error", "boom")


def test_expired_is_failed_expired() -> None:
    job = retrieved({"status": "expired"})
    assert job.status == "failed"
    assert job.error is not None
    assert job.error.code == "expired"


def test_an_id_that_would_change_the_path_is_not_found_without_a_call() -> None:
    with pytest.raises(NotFoundError):
        next(P.retrieve("../files", CREDS))


# ---- download and remix ----------------------------------------------------------------------------


def test_download_reads_the_request_again_for_a_fresh_url() -> None:
    done = {"status": "done", "video": {"url": "https://vidgen.x.ai/fresh.mp4?sig=2", "duration": 2}}
    download, calls = drive(P.download("req-1", "video", CREDS), [reply(done)], P.error_for)
    assert [c.url for c in calls] == [f"{ROOT}/videos/req-1"]
    assert download.call is not None
    assert download.call.url == "https://vidgen.x.ai/fresh.mp4?sig=2"
    assert "Authorization" not in download.call.headers  # a signed storage URL: the key stays home
    with pytest.raises(BadRequestError):
        drive(P.download("req-1", "video", CREDS), [reply({"status": "pending"})], P.error_for)
    with pytest.raises(BadRequestError):
        next(P.download("req-1", "thumbnail", CREDS))


def test_remix_edits_the_source_video_by_its_url() -> None:
    done = {
        "status": "done",
        "model": "grok-imagine-video",
        "video": {"url": "https://v/s.mp4", "duration": 4},
    }
    job, calls = drive(
        P.remix("req-1", "make it rain", CREDS), [reply(done), reply({"request_id": "req-2"})], P.error_for
    )
    assert calls[1].url == f"{ROOT}/videos/edits"
    assert calls[1].json == {
        "model": "grok-imagine-video",
        "prompt": "make it rain",
        "video": {"url": "https://v/s.mp4"},
    }
    assert calls[1].retry_safe is False
    assert (job.native_id, job.remixed_from, job.seconds) == ("req-2", "req-1", "4")


def test_list_and_delete_are_unsupported() -> None:
    with pytest.raises(UnsupportedOperationError):
        next(P.list(CREDS, after=None, limit=10, order="desc"))
    with pytest.raises(UnsupportedOperationError):
        next(P.delete("req-1", CREDS))


# ---- errors ----------------------------------------------------------------------------------------


def test_an_incorrect_key_answered_with_400_is_an_authentication_error() -> None:
    body = {
        "code": "Client specified an invalid argument",
        "error": "Incorrect API key provided: wr***ey. You can obtain an API key from https://console.x.ai.",
    }
    error = P.error_for(reply(body, 400))
    assert isinstance(error, AuthenticationError)
    assert error.status_code == 401
    assert error.message.startswith("Incorrect API key provided")


def test_error_statuses_map_to_their_classes() -> None:
    other = P.error_for(
        reply({"code": "Client specified an invalid argument", "error": "duration: bad"}, 400)
    )
    assert type(other) is BadRequestError
    assert other.message == "duration: bad"
    assert isinstance(P.error_for(reply({"code": "x", "error": "no such request"}, 404)), NotFoundError)
    limited = P.error_for(reply({"code": "x", "error": "slow down"}, 429, **{"Retry-After": "3"}))
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 3.0
    assert isinstance(P.error_for(HttpReply(500, {}, b"oops")), InternalServerError)
    nested = P.error_for(reply({"error": {"message": "openai-shaped"}}, 400))
    assert nested.message == "openai-shaped"
