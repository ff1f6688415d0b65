"""The fal adapter's flows against recorded replies: wire requests per model family, the open model
namespace, every queue status, the URLs it follows (and refuses to), and the error mapping."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from vidgate.catalog import validate
from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.fal.adapter import FalProvider
from vidgate.providers.registry import get_spec
from vidgate.types import ImageInput, VideoRequest

PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (64).to_bytes(4, "big") + (36).to_bytes(4, "big") + b"\0" * 8
CREDS = Credentials(api_key="fal-key")
QUEUE = "https://queue.fal.run"
KLING = "fal/fal-ai/kling-video/v3/pro/text-to-video"
KLING_I2V = "fal/fal-ai/kling-video/v3/pro/image-to-video"
NATIVE = "fal-ai/kling-video/requests/764cabcf-b745-4b3e-ae38-1200304cf45b"
CDN = "https://v3.fal.media/files/tiger/abc.mp4"
P = FalProvider()


def ok(body: Any, status: int = 200) -> HttpReply:
    return HttpReply(status, {"content-type": "application/json"}, json.dumps(body).encode())


def err(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpReply:
    return HttpReply(status, dict(headers or {}), json.dumps(body).encode())


def submitted(native: str = NATIVE, host: str = QUEUE) -> dict[str, Any]:
    base = f"{host}/{native}"
    return {
        "request_id": native.rsplit("/", 1)[1],
        "response_url": base,
        "status_url": f"{base}/status",
        "cancel_url": f"{base}/cancel",
        "queue_position": 0,
    }


def request(model: str = KLING, **params: Any) -> VideoRequest:
    spec = find_model(model)
    if spec is None:  # an open path: the template row at a deployment price
        spec = get_spec("fal").open_row(model.partition("/")[2], per_video=Decimal("0.5"))
    assert spec is not None
    params.setdefault("prompt", "a cat")
    return validate(spec, **params)


def create(req: VideoRequest, reply: dict[str, Any] | None = None) -> tuple[str, dict[str, Any], str]:
    job, calls = drive(P.create(req, CREDS), [ok(reply or submitted())], P.error_for)
    assert job.status == "queued"
    assert (calls[0].method, calls[0].retry_safe) == ("POST", False)
    assert calls[0].headers["Authorization"] == "Key fal-key"
    return job.native_id, dict(calls[0].json), calls[0].url


# ---- create ------------------------------------------------------------------------------------


def test_kling_text_to_video_body() -> None:
    native, body, url = create(request(seconds="10", size="1080x1920", generate_audio=False))
    assert url == f"{QUEUE}/fal-ai/kling-video/v3/pro/text-to-video"
    assert body == {"prompt": "a cat", "duration": "10", "aspect_ratio": "9:16", "generate_audio": False}
    assert native == NATIVE  # the status URL's path: the app, not the endpoint path


def test_kling_image_to_video_sends_first_and_last_frames_and_no_aspect_ratio() -> None:
    req = request(
        KLING_I2V,
        input_reference=ImageInput(data=PNG, mime_type="image/png"),
        last_frame=ImageInput(url="https://x/e.png"),
    )
    _, body, _ = create(req)
    assert body["start_image_url"].startswith("data:image/png;base64,")
    assert body["end_image_url"] == "https://x/e.png"
    assert "aspect_ratio" not in body


def test_luma_ray_spells_duration_with_a_suffix_and_sends_resolution() -> None:
    _, body, _ = create(request("fal/luma/agent/ray/v3.2/text-to-video", size="1280x720"))
    assert body == {"prompt": "a cat", "duration": "5s", "aspect_ratio": "16:9", "resolution": "720p"}


def test_open_path_passes_extra_body_through() -> None:
    req = request("fal/some-owner/new-app/v1", extra_body={"motion_bucket": 7, "style": "anime"})
    native, body, url = create(req, submitted("some-owner/new-app/requests/1-2-3"))
    assert url == f"{QUEUE}/some-owner/new-app/v1"
    assert body == {
        "prompt": "a cat",
        "duration": "5",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "motion_bucket": 7,
        "style": "anime",
    }
    assert native == "some-owner/new-app/requests/1-2-3"


@pytest.mark.parametrize("key", ["num_frames", "image_url", "end_image_url", "sync_mode", "Duration"])
def test_reserved_names_cannot_come_through_extra_body(key: str) -> None:
    with pytest.raises(BadRequestError) as info:
        P.body(request("fal/some-owner/new-app", extra_body={key: 1}))
    assert info.value.param == f"extra_body.{key}"


def test_a_status_url_off_fal_is_not_followed() -> None:
    native, _, _ = create(request(), submitted(host="https://evil.example"))
    assert native == NATIVE  # rebuilt from the model path and request id on the configured queue


def test_a_model_path_that_would_change_the_url_is_refused() -> None:
    req = request("fal/some-owner/app/../../x")
    with pytest.raises(BadRequestError):
        drive(P.create(req, CREDS), [])


# ---- retrieve ----------------------------------------------------------------------------------


def test_in_queue_and_in_progress() -> None:
    job, calls = drive(P.retrieve(NATIVE, CREDS), [ok({"status": "IN_QUEUE", "queue_position": 3})])
    assert job.status == "queued"
    assert calls[0].url == f"{QUEUE}/{NATIVE}/status"
    assert calls[0].params == {"logs": "1"}
    job, _ = drive(P.retrieve(NATIVE, CREDS), [ok({"status": "IN_PROGRESS", "logs": []})])
    assert job.status == "in_progress"


def test_completed_reads_the_result() -> None:
    replies = [
        ok({"status": "COMPLETED", "logs": None, "metrics": {"inference_time": 40.1}}),
        ok({"video": {"url": CDN, "content_type": "video/mp4", "file_size": 123}}),
    ]
    job, calls = drive(P.retrieve(NATIVE, CREDS), replies, P.error_for)
    assert (job.status, job.progress, job.outputs) == ("completed", 100, (CDN,))
    assert calls[1].url == f"{QUEUE}/{NATIVE}"


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        ("request_cancelled", "cancelled"),
        ("content_policy_violation", "moderation_blocked"),
        ("generation_failed", "generation_failed"),
        (None, "generation_failed"),
    ],
)
def test_completed_with_an_error_is_failed(error_type: str | None, code: str) -> None:
    status = {"status": "COMPLETED", "error": "it broke", "error_type": error_type}
    job, calls = drive(P.retrieve(NATIVE, CREDS), [ok(status)])
    assert job.status == "failed"
    assert job.error is not None
    assert (job.error.code, job.error.message) == (code, "it broke")
    assert len(calls) == 1


def test_a_result_the_app_refused_is_failed() -> None:
    detail = [{"loc": ["body", "duration"], "msg": "Input should be '5' or '10'", "type": "literal_error"}]
    replies = [ok({"status": "COMPLETED"}), err(422, {"detail": detail})]
    job, _ = drive(P.retrieve(NATIVE, CREDS), replies, P.error_for)
    assert job.status == "failed"
    assert job.error is not None
    assert job.error.message == "duration: Input should be '5' or '10'"


def test_a_status_fal_adds_later_keeps_the_job_running() -> None:
    """As on the other task APIs: not a 502 that would fail a paid job or a client's retrieve."""
    job, calls = drive(P.retrieve(NATIVE, CREDS), [ok({"status": "UPSCALING", "logs": []})])
    assert (job.status, job.progress, job.error, job.outputs) == ("in_progress", 1, None, ())
    assert len(calls) == 1  # no result read: only COMPLETED has one
    still_running = err(
        400, {"detail": "Request is still in progress"}, {"x-fal-error-type": "request_in_progress"}
    )
    with pytest.raises(BadRequestError):  # nor is it downloadable: fal has no result for it yet
        drive(P.download(NATIVE, "video", CREDS), [still_running], P.error_for)


@pytest.mark.parametrize("reply", [{"logs": []}, {"status": None}, ["IN_PROGRESS"]])
def test_a_status_reply_without_a_status_is_an_error(reply: Any) -> None:
    with pytest.raises(APIError, match="without a status"):
        drive(P.retrieve(NATIVE, CREDS), [ok(reply)])


@pytest.mark.parametrize("bad", ["../x/requests/1", "a/requests/1", "a/b/requests/1/../2", "a/b/c"])
def test_invalid_native_ids_are_refused(bad: str) -> None:
    with pytest.raises(BadRequestError):
        drive(P.retrieve(bad, CREDS), [])


# ---- download and cancel -----------------------------------------------------------------------


def test_download_reads_a_fresh_url_and_sends_no_key() -> None:
    download, calls = drive(P.download(NATIVE, "video", CREDS), [ok({"video": {"url": CDN}})])
    assert calls[0].url == f"{QUEUE}/{NATIVE}"
    assert download.call is not None
    assert download.call.url == CDN
    assert "Authorization" not in download.call.headers


def test_download_refuses_a_url_off_fal() -> None:
    with pytest.raises(APIError, match="outside fal"):
        drive(P.download(NATIVE, "video", CREDS), [ok({"video": {"url": "https://evil.example/x.mp4"}})])


def test_only_the_video_variant() -> None:
    with pytest.raises(BadRequestError) as info:
        drive(P.download(NATIVE, "thumbnail", CREDS), [])
    assert info.value.param == "variant"


def test_delete_cancels() -> None:
    done, calls = drive(P.delete(NATIVE, CREDS), [ok({"status": "CANCELLATION_REQUESTED"}, 202)])
    assert done is True
    assert (calls[0].method, calls[0].url) == ("PUT", f"{QUEUE}/{NATIVE}/cancel")


def test_deleting_a_finished_request_leaves_nothing_to_cancel() -> None:
    done, _ = drive(P.delete(NATIVE, CREDS), [err(400, {"status": "ALREADY_COMPLETED"})], P.error_for)
    assert done is True
    with pytest.raises(BadRequestError, match="bad input"):
        drive(P.delete(NATIVE, CREDS), [err(400, {"detail": "bad input"})], P.error_for)


# ---- errors ------------------------------------------------------------------------------------


def test_error_mapping() -> None:
    assert isinstance(P.error_for(err(401, {"detail": "bad key"})), AuthenticationError)
    missing = P.error_for(
        err(404, {"detail": "Request not found"}, {"x-fal-error-type": "request_not_found"})
    )
    assert isinstance(missing, NotFoundError)
    assert missing.code == "request_not_found"
    limited = P.error_for(err(429, {"detail": "slow down"}, {"retry-after": "7"}))
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 7.0
    refused = P.error_for(err(400, {"status": "ALREADY_COMPLETED"}))
    assert isinstance(refused, BadRequestError)
    assert isinstance(P.error_for(err(500, {"detail": "boom"})), InternalServerError)


def test_no_key_is_an_authentication_error() -> None:
    with pytest.raises(AuthenticationError):
        drive(P.retrieve(NATIVE, Credentials()), [])
