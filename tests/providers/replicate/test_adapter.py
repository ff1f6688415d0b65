"""The Replicate adapter's flows against recorded replies: model and pinned-version creates, every
prediction status, the output URL it follows (and refuses), cancel, and problem-details errors."""

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
    PermissionDeniedError,
    RateLimitError,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.replicate import SPEC
from vidgate.providers.replicate.adapter import ReplicateProvider
from vidgate.types import ImageInput, VideoRequest

CREDS = Credentials(api_key="r8_key")
ROOT = "https://api.replicate.com"
PID = "gm3qorzdhgbfurvjtvhg6dckhu"
OUT = "https://replicate.delivery/xezq/abc/output.mp4"
VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
P = ReplicateProvider()


def ok(body: Any, status: int = 200) -> HttpReply:
    return HttpReply(status, {"content-type": "application/json"}, json.dumps(body).encode())


def err(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpReply:
    return HttpReply(status, dict(headers or {}), json.dumps(body).encode())


def prediction(status: str = "starting", **fields: Any) -> dict[str, Any]:
    return {"id": PID, "model": "google/veo-3.1", "version": "dp-1", "status": status, "logs": "", **fields}


def request(model: str = "google/veo-3.1", **params: Any) -> VideoRequest:
    spec = next((row for row in SPEC.models if row.model == model), None)
    spec = spec or SPEC.open_row(model, per_second=Decimal("0.1"))
    assert spec is not None
    params.setdefault("prompt", "a cat")
    return validate(spec, **params)


def test_create_on_the_models_current_version() -> None:
    req = request(seconds="6", size="1920x1080", generate_audio=False, seed=7)
    job, calls = drive(P.create(req, CREDS), [ok(prediction(), 201)], P.error_for)
    assert (job.native_id, job.status, job.seconds, job.size) == (PID, "queued", "6", "1920x1080")
    call = calls[0]
    assert (call.method, call.url, call.retry_safe) == (
        "POST",
        f"{ROOT}/v1/models/google/veo-3.1/predictions",
        False,
    )
    assert call.headers["Authorization"] == "Bearer r8_key"
    assert "Prefer" not in call.headers
    assert call.json == {
        "input": {
            "prompt": "a cat",
            "duration": 6,
            "aspect_ratio": "16:9",
            "resolution": "1080p",
            "seed": 7,
            "generate_audio": False,
        }
    }


def test_create_on_a_pinned_version_with_images_and_extra_input() -> None:
    png = (
        b"\x89PNG\r\n\x1a\n"
        + b"\0\0\0\rIHDR"
        + (1280).to_bytes(4, "big")
        + (720).to_bytes(4, "big")
        + b"\0" * 8
    )
    req = request(
        f"someone/video-model:{VERSION}",
        input_reference=ImageInput(data=png, mime_type="image/png"),
        last_frame=ImageInput(url="https://x/last.png"),
        extra_body={"motion": "high"},
    )
    _, calls = drive(P.create(req, CREDS), [ok(prediction(), 201)], P.error_for)
    assert calls[0].url == f"{ROOT}/v1/predictions"
    assert calls[0].json["version"] == VERSION
    inp = calls[0].json["input"]
    assert inp["image"].startswith("data:image/png;base64,")
    assert inp["last_frame"] == "https://x/last.png"
    assert inp["motion"] == "high"


@pytest.mark.parametrize("model", ["Owner/Name", "owner/name/extra", "owner/name:nothex", "../x"])
def test_bad_model_names_are_refused_before_any_call(model: str) -> None:
    req = request("ok/ok")
    with pytest.raises(BadRequestError):
        drive(P.create(VideoRequest(**{**req.__dict__, "model": model}), CREDS), [])


@pytest.mark.parametrize("key", ["start_image", "last_frame_image", "num_frames", "duration", "Resolution"])
def test_reserved_names_cannot_come_through_extra_body(key: str) -> None:
    with pytest.raises(BadRequestError) as info:
        P.body(request("someone/model", extra_body={key: 1}))
    assert info.value.param == f"extra_body.{key}"


@pytest.mark.parametrize(
    ("status", "fields", "expected", "code"),
    [
        ("starting", {}, "queued", None),
        ("processing", {"logs": "step\n 40%|####      | 40/100 [00:04<00:06]"}, "in_progress", None),
        ("failed", {"error": "CUDA out of memory"}, "failed", "generation_failed"),
        ("failed", {"error": "flagged as sensitive (E005)"}, "failed", "moderation_blocked"),
        ("canceled", {}, "failed", "cancelled"),
        ("aborted", {}, "failed", "aborted"),
        ("succeeded", {"output": None, "data_removed": True}, "failed", "output_expired"),
    ],
)
def test_every_status(status: str, fields: dict[str, Any], expected: str, code: str | None) -> None:
    job, calls = drive(P.retrieve(PID, CREDS), [ok(prediction(status, **fields))])
    assert calls[0].url == f"{ROOT}/v1/predictions/{PID}"
    assert job.status == expected
    assert (job.error.code if job.error else None) == code
    if status == "processing":
        assert job.progress == 40


@pytest.mark.parametrize("output", [OUT, [OUT, "https://replicate.delivery/xezq/abc/cover.jpg"]])
def test_succeeded_names_the_video(output: Any) -> None:
    job, _ = drive(P.retrieve(PID, CREDS), [ok(prediction("succeeded", output=output))])
    assert (job.status, job.progress, job.outputs) == ("completed", 100, (OUT,))


@pytest.mark.parametrize(
    ("logs", "progress"), [("", 0), ("upscaling\n 70%|#######   | 7/10 [00:07<00:03]", 70)]
)
def test_a_status_replicate_adds_later_keeps_the_job_running(logs: str, progress: int) -> None:
    """As on the task APIs: not a 502 that would fail a paid job or a client's retrieve."""
    native = prediction("upscaling", logs=logs, output=OUT)
    job, _ = drive(P.retrieve(PID, CREDS), [ok(native)])
    assert (job.status, job.progress, job.error, job.outputs) == ("in_progress", progress, None, ())
    with pytest.raises(NotFoundError):  # nor is it downloadable, even with an output already named
        drive(P.download(PID, "video", CREDS), [ok(native)])


def test_download_reads_a_fresh_url_and_sends_no_token() -> None:
    download, calls = drive(P.download(PID, "video", CREDS), [ok(prediction("succeeded", output=OUT))])
    assert calls[0].url == f"{ROOT}/v1/predictions/{PID}"
    assert download.call is not None
    assert download.call.url == OUT
    assert "Authorization" not in download.call.headers


def test_download_refuses_urls_elsewhere_and_unfinished_predictions() -> None:
    with pytest.raises(APIError, match="outside Replicate"):
        drive(
            P.download(PID, "video", CREDS),
            [ok(prediction("succeeded", output="https://evil.example/v.mp4"))],
        )
    with pytest.raises(NotFoundError):
        drive(P.download(PID, "video", CREDS), [ok(prediction("processing"))])
    with pytest.raises(BadRequestError):
        drive(P.download(PID, "spritesheet", CREDS), [])


def test_delete_cancels() -> None:
    done, calls = drive(P.delete(PID, CREDS), [ok(prediction("canceled"))])
    assert done is True
    assert (calls[0].method, calls[0].url) == ("POST", f"{ROOT}/v1/predictions/{PID}/cancel")


@pytest.mark.parametrize("bad", ["../x", "ABC", "a/b", ""])
def test_invalid_ids_are_refused(bad: str) -> None:
    with pytest.raises(BadRequestError):
        drive(P.retrieve(bad, CREDS), [])


def test_problem_details_are_mapped() -> None:
    unauth = P.error_for(
        err(
            401,
            {
                "title": "Unauthenticated",
                "detail": "You did not pass a valid authentication token",
                "status": 401,
            },
        )
    )
    assert isinstance(unauth, AuthenticationError)
    assert unauth.message == "You did not pass a valid authentication token"
    assert isinstance(P.error_for(err(404, {"detail": "Not found.", "status": 404})), NotFoundError)
    assert isinstance(
        P.error_for(err(402, {"title": "Insufficient credit", "status": 402})), PermissionDeniedError
    )
    limited = P.error_for(err(429, {"detail": "Request was throttled.", "status": 429}, {"retry-after": "3"}))
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 3.0
    fields = [{"type": "enum", "field": "input.duration", "description": "must be one of 4, 6, 8"}]
    invalid = P.error_for(
        err(422, {"title": "Input validation failed", "status": 422, "invalid_fields": fields})
    )
    assert isinstance(invalid, BadRequestError)
    assert invalid.message == "input.duration: must be one of 4, 6, 8"
    assert isinstance(P.error_for(err(500, {"detail": "boom"})), InternalServerError)


def test_no_token_is_an_authentication_error() -> None:
    with pytest.raises(AuthenticationError):
        drive(P.retrieve(PID, Credentials()), [])
