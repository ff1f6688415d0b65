"""The luma adapter's flows against recorded replies: exact wire requests, every state, error mapping."""

from __future__ import annotations

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
from vidgate.providers.catalogue import find_model
from vidgate.providers.luma.adapter import LumaProvider
from vidgate.providers.reserved import check_extra_for
from vidgate.types import ImageInput, VideoRequest

CREDS = Credentials(api_key="luma-api-test")
P = LumaProvider()
ROOT = "https://agents.lumalabs.ai/v1"
GEN = "9f0c6a1e-7b3d-4c55-9a1e-3f2b8c7d6e5f"


def reply(body: Any, status: int = 200, **headers: str) -> HttpReply:
    return HttpReply(status, {k.lower(): v for k, v in headers.items()}, json.dumps(body).encode())


def request(**params: Any) -> VideoRequest:
    spec = find_model("luma/ray-3.2")
    assert spec is not None
    return validate(spec, prompt=params.pop("prompt", "a cat on a piano"), **params)


def generation(state: str, **fields: Any) -> dict[str, Any]:
    return {"id": GEN, "generation_type": "video", "state": state, "model": "ray-3.2", **fields}


def sent(req: VideoRequest) -> dict[str, Any]:
    (job, calls) = drive(P.create(req, CREDS), [reply(generation("queued"), 201)], P.error_for)
    assert (job.native_id, job.status, job.seconds, job.size) == (GEN, "queued", str(req.seconds), req.size)
    (call,) = calls
    assert (call.method, call.url, call.retry_safe) == ("POST", f"{ROOT}/generations", False)
    assert call.headers["Authorization"] == "Bearer luma-api-test"
    body: dict[str, Any] = call.json
    return body


def test_text_to_video_sends_type_model_duration_aspect_ratio_and_resolution() -> None:
    assert sent(request(seconds="9", size="720x1280")) == {
        "type": "video",
        "model": "ray-3.2",
        "prompt": "a cat on a piano",
        "duration": "9s",
        "aspect_ratio": "9:16",
        "resolution": "720p",
    }


@pytest.mark.parametrize(
    ("size", "aspect", "resolution"),
    [
        ("960x540", "16:9", "540p"),
        ("1080x1080", "1:1", "1080p"),
        ("1680x720", "21:9", "720p"),
        ("540x1260", "9:21", "540p"),
    ],
)
def test_sizes_map_to_aspect_ratio_and_resolution(size: str, aspect: str, resolution: str) -> None:
    body = sent(request(seconds="5", size=size))
    assert (body["aspect_ratio"], body["resolution"]) == (aspect, resolution)


def test_first_and_last_frames_are_keyframes() -> None:
    body = sent(
        request(
            input_reference=ImageInput(url="https://example.com/a.png"),
            last_frame=ImageInput(url="https://example.com/b.png"),
        )
    )
    assert body["keyframes"] == {
        "frame0": {"type": "image", "url": "https://example.com/a.png"},
        "frame1": {"type": "image", "url": "https://example.com/b.png"},
    }


def test_uploaded_image_bytes_are_refused_before_any_call() -> None:
    req = request(input_reference=ImageInput(data=image_bytes(1280, 720, "png"), mime_type="image/png"))
    with pytest.raises(BadRequestError) as info:
        next(P.create(req, CREDS))
    assert info.value.param == "input_reference"
    assert "image URL" in info.value.message


def test_a_duration_ray_does_not_offer_is_a_400_naming_seconds() -> None:
    with pytest.raises(BadRequestError) as info:
        request(seconds="7")
    assert info.value.param == "seconds"


@pytest.mark.parametrize("field", ["type", "generation_type", "keyframes", "duration", "resolution"])
def test_extra_body_cannot_override_a_validated_field(field: str) -> None:
    with pytest.raises(BadRequestError) as info:
        check_extra_for(P, {field: "x"})
    assert info.value.param == f"extra_body.{field}"


def test_a_missing_key_is_an_authentication_error_before_any_call() -> None:
    with pytest.raises(AuthenticationError):
        next(P.create(request(), Credentials()))


@pytest.mark.parametrize(
    ("state", "status"),
    [("queued", "queued"), ("dreaming", "in_progress"), ("completed", "completed"), ("failed", "failed")],
)
def test_every_state_is_mapped(state: str, status: str) -> None:
    extra = {"assets": {"video": "https://cdn.example/v.mp4"}} if state == "completed" else {}
    job, calls = drive(P.retrieve(GEN, CREDS), [reply(generation(state, **extra))], P.error_for)
    assert job.status == status
    assert calls[0].url == f"{ROOT}/generations/{GEN}"
    if status == "completed":
        assert (job.progress, job.outputs) == (100, ("https://cdn.example/v.mp4",))


def test_failure_reasons_are_kept_and_moderation_is_named() -> None:
    failed, _ = drive(P.retrieve(GEN, CREDS), [reply(generation("failed", failure_reason="GPU timeout"))])
    assert failed.error is not None
    assert (failed.error.code, failed.error.message) == ("generation_failed", "GPU timeout")
    blocked, _ = drive(
        P.retrieve(GEN, CREDS), [reply(generation("failed", failure_reason="Prompt failed moderation"))]
    )
    assert blocked.error is not None
    assert blocked.error.code == "moderation_blocked"


def test_completed_without_a_video_is_a_failure() -> None:
    job, _ = drive(P.retrieve(GEN, CREDS), [reply(generation("completed", assets={}))])
    assert job.status == "failed"
    assert job.error is not None
    assert job.error.code == "no_output"


def test_download_reads_the_generation_again_for_a_fresh_url() -> None:
    done = generation("completed", assets={"video": "https://cdn.example/fresh.mp4"})
    download, calls = drive(P.download(GEN, "video", CREDS), [reply(done)])
    assert [c.url for c in calls] == [f"{ROOT}/generations/{GEN}"]
    assert download.call is not None
    assert download.call.url == "https://cdn.example/fresh.mp4"
    assert "Authorization" not in download.call.headers  # a signed CDN URL: the key never leaves Luma


def test_download_before_completion_is_refused() -> None:
    with pytest.raises(BadRequestError):
        drive(P.download(GEN, "video", CREDS), [reply(generation("dreaming"))])


def test_delete_is_a_delete_of_the_generation() -> None:
    deleted, calls = drive(P.delete(GEN, CREDS), [HttpReply(204, {})])
    assert deleted is True
    assert (calls[0].method, calls[0].url) == ("DELETE", f"{ROOT}/generations/{GEN}")


def test_a_malformed_id_is_not_found_without_a_call() -> None:
    with pytest.raises(NotFoundError):
        next(P.retrieve("../ping", CREDS))


def test_remix_and_list_are_not_offered() -> None:
    with pytest.raises(UnsupportedOperationError):
        next(P.remix(GEN, "again", CREDS))
    with pytest.raises(UnsupportedOperationError):
        next(P.list(CREDS, after=None, limit=10, order="desc"))


def test_error_shapes_map_to_vidgate_classes() -> None:
    bad_key = P.error_for(reply({"detail": "Invalid API key"}, 401))
    assert isinstance(bad_key, AuthenticationError)
    assert bad_key.message == "Invalid API key"
    assert isinstance(P.error_for(reply({"detail": "Generation not found"}, 404)), NotFoundError)
    assert isinstance(P.error_for(reply({"detail": "duration: bad"}, 422)), BadRequestError)
    limited = P.error_for(reply({"detail": "Too many requests"}, 429, **{"Retry-After": "3"}))
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 3.0
    opaque = P.error_for(HttpReply(502, {}, b"<html>bad gateway</html>"))
    assert "bad gateway" in opaque.message


def test_the_custom_api_base_is_honoured() -> None:
    creds = Credentials(api_key="k", api_base="http://127.0.0.1:9/dream/v1/")
    _, calls = drive(P.retrieve(GEN, creds), [reply(generation("queued"))])
    assert calls[0].url == f"http://127.0.0.1:9/dream/v1/generations/{GEN}"
