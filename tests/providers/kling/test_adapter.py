"""Kling's flows against recorded replies: request bodies per endpoint, every status, the envelope's
error codes (also on HTTP 200), download from a fresh read, and list across the three endpoints."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import validate
from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ContentPolicyViolationError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.kling.adapter import KlingProvider
from vidgate.types import ImageInput, SourceVideo, VideoRequest

P = KlingProvider()
CREDS = Credentials(
    api_key="ak", secret_key="sk", access_token="signed.jwt.token", api_base="https://kling.test"
)
TASK = "842250903629086785"


def req(model: str = "kling/kling-v3-0", **params: Any) -> VideoRequest:
    spec = find_model(model)
    assert spec is not None
    params.setdefault("prompt", "a red fox in snow")
    return validate(spec, **params)


def reply(body: Any, status: int = 200, **headers: str) -> HttpReply:
    return HttpReply(status, headers, json.dumps(body).encode())


def ok(data: Any) -> HttpReply:
    return reply({"code": 0, "message": "SUCCEED", "request_id": "r-1", "data": data})


def task(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "task_id": TASK,
        "task_status": status,
        "created_at": 1722769557708,
        "updated_at": 1722769560708,
        **extra,
    }


def test_text_to_video_body_and_headers() -> None:
    job, calls = drive(
        P.create(req(seconds="7", size="1920x1080", negative_prompt="blur"), CREDS), [ok(task("submitted"))]
    )
    (call,) = calls
    assert (call.method, call.url, call.retry_safe) == (
        "POST",
        "https://kling.test/v1/videos/text2video",
        False,
    )
    assert call.headers["Authorization"] == "Bearer signed.jwt.token"
    assert call.json == {
        "model_name": "kling-v3-0",
        "prompt": "a red fox in snow",
        "mode": "pro",
        "negative_prompt": "blur",
        "aspect_ratio": "16:9",
        "duration": "7",
        "sound": "on",
    }
    assert (job.native_id, job.status, job.seconds, job.size) == (
        f"text2video:{TASK}",
        "queued",
        "7",
        "1920x1080",
    )
    assert job.created_at == 1722769557


def test_image_to_video_sends_image_and_image_tail_as_bare_base64_without_aspect_ratio() -> None:
    first, last = image_bytes(1280, 720, "png"), image_bytes(1280, 720, "jpeg")
    request = req(
        input_reference=ImageInput(data=first),
        last_frame=ImageInput(url="data:image/jpeg;base64," + base64.b64encode(last).decode()),
        generate_audio=False,
    )
    job, calls = drive(P.create(request, CREDS), [ok(task("submitted"))])
    body = calls[0].json
    assert calls[0].url.endswith("/v1/videos/image2video")
    assert base64.b64decode(body["image"]) == first
    assert base64.b64decode(body["image_tail"]) == last
    assert "aspect_ratio" not in body
    assert (body["mode"], body["sound"]) == ("std", "off")
    assert job.native_id == f"image2video:{TASK}"


def test_omni_video_puts_frames_and_references_in_image_list() -> None:
    frame, ref = image_bytes(720, 1280, "png"), image_bytes(300, 300, "png")
    request = req(
        "kling/kling-v3-omni",
        size="720x1280",
        seconds="8",  # core validate allows reference_images only at 8 s on a row that offers 8 (Veo's rule)
        input_reference=ImageInput(data=frame),
        reference_images=[ImageInput(url="https://example.com/ref.png"), ImageInput(data=ref)],
    )
    _job, calls = drive(P.create(request, CREDS), [ok(task("submitted"))])
    body = calls[0].json
    assert calls[0].url.endswith("/v1/videos/omni-video")
    assert body["image_list"] == [
        {"image_url": base64.b64encode(frame).decode(), "type": "first_frame"},
        {"image_url": "https://example.com/ref.png"},
        {"image_url": base64.b64encode(ref).decode()},
    ]
    assert (body["aspect_ratio"], body["mode"]) == ("9:16", "std")


def test_extra_body_cannot_set_what_is_priced() -> None:
    with pytest.raises(BadRequestError) as info:
        drive(P.create(req(extra_body={"mode": "4k"}), CREDS), [])
    assert info.value.param == "extra_body.mode"
    for native in ("sound", "model_name", "image_tail", "image_list"):
        with pytest.raises(BadRequestError):
            drive(P.create(req(extra_body={native: "x"}), CREDS), [])
    _job, calls = drive(
        P.create(req(extra_body={"callback_url": "https://hook"}), CREDS), [ok(task("submitted"))]
    )
    assert calls[0].json["callback_url"] == "https://hook"


def test_a_file_id_image_is_refused_before_any_call() -> None:
    with pytest.raises(BadRequestError) as info:
        drive(P.create(req(input_reference=ImageInput(file_id="file-1")), CREDS), [])
    assert info.value.param == "input_reference"


@pytest.mark.parametrize(
    ("status", "extra", "expected", "progress"),
    [
        ("submitted", {}, "queued", 0),
        ("processing", {}, "in_progress", 50),
        (
            "succeed",
            {"task_result": {"videos": [{"id": "v", "url": "https://cdn/v.mp4", "duration": "5"}]}},
            "completed",
            100,
        ),
        ("failed", {"task_status_msg": "generation error"}, "failed", 100),
    ],
)
def test_every_task_status_is_mapped(
    status: str, extra: dict[str, Any], expected: str, progress: int
) -> None:
    job, calls = drive(P.retrieve(f"omni-video:{TASK}", CREDS), [ok(task(status, **extra))])
    assert calls[0].url == f"https://kling.test/v1/videos/omni-video/{TASK}"
    assert (job.status, job.progress) == (expected, progress)
    if expected == "completed":
        assert (job.outputs, job.seconds, job.completed_at) == (("https://cdn/v.mp4",), "5", 1722769560)
    if expected == "failed":
        assert job.error is not None
        assert (job.error.code, job.error.message) == ("kling_task_failed", "generation error")


def test_a_risk_control_failure_is_moderation_blocked() -> None:
    job, _ = drive(
        P.retrieve(f"text2video:{TASK}", CREDS),
        [ok(task("failed", task_status_msg="Failure to pass the risk control system"))],
    )
    assert job.error is not None
    assert job.error.code == "moderation_blocked"


@pytest.mark.parametrize("native", ["nope", f"lipsync:{TASK}", "text2video:", "text2video:1/2"])
def test_a_malformed_native_id_is_not_found_without_a_call(native: str) -> None:
    with pytest.raises(NotFoundError):
        drive(P.retrieve(native, CREDS), [])


ERRORS = [
    (401, 1000, AuthenticationError, "invalid_api_key"),
    (401, 1004, AuthenticationError, "invalid_api_key"),
    (429, 1101, RateLimitError, "insufficient_quota"),
    (429, 1102, RateLimitError, "insufficient_quota"),
    (403, 1103, PermissionDeniedError, "kling_1103"),
    (400, 1201, BadRequestError, "kling_1201"),
    (404, 1203, NotFoundError, "kling_1203"),
    (400, 1301, ContentPolicyViolationError, "moderation_blocked"),
    (429, 1302, RateLimitError, "kling_1302"),
    (429, 1303, RateLimitError, "kling_1303"),
    (500, 5000, InternalServerError, "kling_5000"),
    (503, 5001, ServiceUnavailableError, "kling_5001"),
]


@pytest.mark.parametrize(("status", "code", "cls", "tag"), ERRORS)
def test_error_codes_map_to_error_classes(status: int, code: int, cls: type[APIError], tag: str) -> None:
    error = P.error_for(
        reply({"code": code, "message": "m", "request_id": "r"}, status, **{"retry-after": "2"})
    )
    assert type(error) is cls
    assert (error.code, error.message, error.provider) == (tag, "m", "kling")
    if code in (1302, 1303):
        assert error.retry_after == 2.0


def test_a_non_zero_code_on_http_200_is_an_error() -> None:
    with pytest.raises(RateLimitError) as info:
        drive(
            P.create(req(), CREDS),
            [reply({"code": 1102, "message": "resource pack exhausted", "request_id": "r"})],
        )
    assert info.value.code == "insufficient_quota"


def test_a_5002_keeps_its_gateway_timeout_status() -> None:
    error = P.error_for(reply({"code": 5002, "message": "timeout"}, 504))
    assert error.status_code == 504


def test_a_non_json_error_page_maps_by_status() -> None:
    assert type(P.error_for(HttpReply(502, {}, b"<html>bad gateway</html>"))) is not AuthenticationError
    assert type(P.error_for(HttpReply(401, {}, b"<html>no</html>"))) is AuthenticationError


def test_download_reads_the_task_again_for_a_fresh_url_and_sends_no_token_there() -> None:
    done = task(
        "succeed",
        task_result={"videos": [{"id": "v", "url": "https://cdn.test/v.mp4?sig=new", "duration": "5"}]},
    )
    download, calls = drive(P.download(f"text2video:{TASK}", "video", CREDS), [ok(done)])
    assert [c.url for c in calls] == [f"https://kling.test/v1/videos/text2video/{TASK}"]
    assert download.call is not None
    assert download.call.url == "https://cdn.test/v.mp4?sig=new"
    assert "Authorization" not in download.call.headers
    with pytest.raises(BadRequestError):
        drive(P.download(f"text2video:{TASK}", "thumbnail", CREDS), [])
    with pytest.raises(BadRequestError):
        drive(P.download(f"text2video:{TASK}", "video", CREDS), [ok(task("processing"))])


def test_list_reads_each_endpoint_and_merges_newest_first() -> None:
    older = {**task("succeed"), "task_id": "1", "created_at": 1_000_000}
    newer = {**task("processing"), "task_id": "2", "created_at": 2_000_000}
    page, calls = drive(P.list(CREDS, after=None, limit=2, order="desc"), [ok([older]), ok([newer]), ok([])])
    assert [(c.url.rsplit("/", 1)[1], dict(c.params)) for c in calls] == [
        (e, {"pageNum": "1", "pageSize": "2"}) for e in ("text2video", "image2video", "omni-video")
    ]
    assert [j.native_id for j in page.jobs] == ["image2video:2", "text2video:1"]
    assert page.has_more is False
    with pytest.raises(BadRequestError) as info:
        drive(P.list(CREDS, after="x", limit=2, order="desc"), [])
    assert info.value.param == "after"


def test_without_a_signed_token_no_call_is_made() -> None:
    with pytest.raises(AuthenticationError):
        drive(P.create(req(), Credentials(api_key="ak", secret_key="sk")), [])


def test_omni_reference_videos_go_in_video_list_with_sound_off() -> None:
    """02-video-omni.md's ``video_list`` ``{video_url, refer_type: feature}``, on the catalogue row (priced
    at its with-video rate, tests/catalog/test_pricing.py)."""
    priced = find_model("kling/kling-v3-omni")
    assert priced is not None
    clip = SourceVideo(url="https://cdn.example/camera.mp4")
    request = validate(priced, prompt="Referring to <<<video_1>>>", seconds="7", reference_videos=[clip])
    _job, calls = drive(P.create(request, CREDS), [ok(task("submitted"))])
    body = calls[0].json
    assert calls[0].url.endswith("/v1/videos/omni-video")
    assert body["video_list"] == [{"video_url": "https://cdn.example/camera.mp4", "refer_type": "feature"}]
    assert (body["sound"], body["duration"]) == ("off", "7")
    with pytest.raises(BadRequestError, match="At most 1 reference_videos"):
        validate(priced, prompt="x", reference_videos=[clip, clip])


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"generate_audio": True}, "generate_audio"),
        ({"seconds": "12"}, "seconds"),
        ({"reference_videos": [SourceVideo(url="http://cdn.example/a.mp4")]}, "reference_videos"),
    ],
)
def test_what_omni_cannot_honour_beside_a_reference_video_is_refused_before_any_call(
    params: dict[str, Any], param: str
) -> None:
    spec = find_model("kling/kling-v3-omni")
    assert spec is not None
    params.setdefault("reference_videos", [SourceVideo(url="https://cdn.example/camera.mp4")])
    request = validate(spec, prompt="x", **params)
    with pytest.raises(BadRequestError) as caught:
        drive(P.create(request, CREDS), [])
    assert caught.value.param == param


def test_reference_videos_off_omni_are_refused_and_video_list_is_reserved() -> None:
    clip = SourceVideo(url="https://cdn.example/camera.mp4")
    request = replace(req(), reference_videos=(clip,))
    with pytest.raises(BadRequestError, match="takes no reference_videos") as caught:
        drive(P.create(request, CREDS), [])
    assert caught.value.param == "reference_videos"
    with pytest.raises(BadRequestError, match="reference_videos"):
        drive(P.create(req("kling/kling-v3-omni", extra_body={"video_list": []}), CREDS), [])
