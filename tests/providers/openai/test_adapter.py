"""The openai adapter's flows against recorded replies: exact wire requests, parsing, error mapping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import validate
from vidgate.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ContentPolicyViolationError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.openai.adapter import OpenAIProvider
from vidgate.types import ImageInput, VideoRequest

PNG = image_bytes(720, 1280, "png")  # sora-2 takes a first frame at exactly the video's size
CREDS = Credentials(api_key="sk-test")
P = OpenAIProvider()


def video(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "video_123",
        "object": "video",
        "model": "sora-2",
        "status": "queued",
        "progress": 0,
        "created_at": 1712697600,
        "completed_at": None,
        "expires_at": None,
        "prompt": "a cat",
        "size": "720x1280",
        "seconds": "4",
        "remixed_from_video_id": None,
        "error": None,
    }
    body.update(overrides)
    return body


def ok(body: Any, headers: dict[str, str] | None = None) -> HttpReply:
    return HttpReply(200, {"content-type": "application/json", **(headers or {})}, json.dumps(body).encode())


def err(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpReply:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpReply(status, dict(headers or {}), content)


def request(**params: Any) -> VideoRequest:
    spec = find_model(params.pop("model", "openai/sora-2"))
    assert spec is not None
    params.setdefault("prompt", "a cat")
    return validate(spec, **params)


def test_create_sends_json_with_string_seconds_and_bearer_auth() -> None:
    job, calls = drive(
        P.create(request(seconds=8, size="1280x720"), CREDS), [ok(video(seconds="8", size="1280x720"))]
    )
    (call,) = calls
    assert (call.method, call.url) == ("POST", "https://api.openai.com/v1/videos")
    assert call.headers["Authorization"] == "Bearer sk-test"
    assert call.json == {"model": "sora-2", "prompt": "a cat", "seconds": "8", "size": "1280x720"}
    assert isinstance(call.json["seconds"], str)
    assert call.files is None
    assert call.data is None
    assert call.retry_safe is False
    assert dict(call.params) == {}
    assert (job.native_id, job.status, job.seconds, job.size) == ("video_123", "queued", "8", "1280x720")


def test_api_base_is_the_v1_root_and_headers_are_added() -> None:
    creds = Credentials(
        api_key="sk-x",
        api_base="http://127.0.0.1:9999/v1/",
        organization="org-1",
        project="proj-1",
        extra_headers={"X-Trace": "t1"},
    )
    _, calls = drive(P.retrieve("video_123", creds), [ok(video())])
    call = calls[0]
    assert call.url == "http://127.0.0.1:9999/v1/videos/video_123"
    assert call.method == "GET"
    assert call.headers["OpenAI-Organization"] == "org-1"
    assert call.headers["OpenAI-Project"] == "proj-1"
    assert call.headers["X-Trace"] == "t1"
    assert call.retry_safe is True


def test_create_with_image_bytes_is_multipart_with_an_input_reference_part() -> None:
    req = request(
        input_reference=ImageInput(data=PNG),
        user="user-7",
        extra_body={"characters": {"id": "ch_1"}, "flag": True},
    )
    _, calls = drive(P.create(req, CREDS), [ok(video())])
    call = calls[0]
    assert call.json is None
    assert call.data == {
        "model": "sora-2",
        "prompt": "a cat",
        "seconds": "4",
        "size": "720x1280",
        "user": "user-7",
        "characters[id]": "ch_1",
        "flag": "true",
    }
    assert call.files == [("input_reference", ("input_reference.png", PNG, "image/png"))]
    assert call.retry_safe is False


def test_multipart_keeps_given_filename_and_type() -> None:
    jpeg = image_bytes(720, 1280, "jpeg")
    req = request(input_reference=ImageInput(data=jpeg, filename="me.jpeg", mime_type="image/jpeg"))
    _, calls = drive(P.create(req, CREDS), [ok(video())])
    assert calls[0].files == [("input_reference", ("me.jpeg", jpeg, "image/jpeg"))]


@pytest.mark.parametrize(
    ("image", "wire"),
    [
        (ImageInput(url="https://example.com/a.png"), {"image_url": "https://example.com/a.png"}),
        (ImageInput(url="data:image/png;base64,AAAA"), {"image_url": "data:image/png;base64,AAAA"}),
        (ImageInput(file_id="file-abc"), {"file_id": "file-abc"}),
    ],
)
def test_input_reference_objects_go_in_json(image: ImageInput, wire: dict[str, str]) -> None:
    _, calls = drive(P.create(request(input_reference=image), CREDS), [ok(video())])
    assert calls[0].json["input_reference"] == wire
    assert calls[0].files is None


def test_plain_http_image_url_is_rejected_before_any_call() -> None:
    flow = P.create(request(input_reference=ImageInput(url="http://example.com/a.png")), CREDS)
    with pytest.raises(BadRequestError) as info:
        drive(flow, [])
    assert info.value.param == "input_reference"


def test_extra_body_and_user_are_added_beside_the_validated_fields() -> None:
    req = request(user="u1", extra_body={"webhook": "x"})
    _, calls = drive(P.create(req, CREDS), [ok(video())])
    assert calls[0].json == {
        "model": "sora-2",
        "prompt": "a cat",
        "seconds": "4",
        "size": "720x1280",
        "user": "u1",
        "webhook": "x",
    }


@pytest.mark.parametrize(
    ("key", "param"),
    [
        ("seconds", "seconds"),
        ("model", "model"),
        ("size", "size"),
        ("n_seconds", "seconds"),
        ("n_variants", "n"),
        ("Duration", "seconds"),
        ("input_reference[image_url]", "input_reference"),
    ],
)
def test_extra_body_naming_a_priced_field_is_refused_before_any_call(key: str, param: str) -> None:
    """What is priced is what is sent: extra_body never overrides a validated field (issue 7)."""
    req = request(extra_body={key: "20"})
    with pytest.raises(BadRequestError) as info:
        drive(P.create(req, CREDS), [])
    assert info.value.param == f"extra_body.{key}"
    assert info.value.code == "reserved_parameter"
    assert f"Use the '{param}' parameter" in info.value.message


def test_extra_body_never_replaces_a_field_of_the_multipart_body() -> None:
    req = request(input_reference=ImageInput(data=PNG), extra_body={"prompt": "other"})
    with pytest.raises(BadRequestError):
        drive(P.create(req, CREDS), [])


def test_fields_the_videos_api_lacks_are_refused() -> None:
    req = VideoRequest(
        model="sora-2", prompt="p", seconds=4, size="720x1280", aspect_ratio="9:16", resolution="720p", seed=3
    )
    with pytest.raises(BadRequestError) as info:
        drive(P.create(req, CREDS), [])
    assert info.value.param == "seed"


def test_missing_api_key_fails_before_any_call() -> None:
    with pytest.raises(AuthenticationError, match="OPENAI_API_KEY"):
        drive(P.retrieve("video_1", Credentials()), [])


def test_retrieve_parses_float_progress_and_poll_after_header() -> None:
    reply = ok(video(status="in_progress", progress=33.6), {"openai-poll-after-ms": "1500"})
    job, _ = drive(P.retrieve("video_123", CREDS), [reply])
    assert job.status == "in_progress"
    assert job.progress == 34
    assert job.poll_after_ms == 1500
    assert job.raw["progress"] == 33.6


@pytest.mark.parametrize(("raw", "expected"), [(None, 0), ("12.4", 12), (150.2, 100), (-3, 0), ("nan", 0)])
def test_odd_progress_values_never_crash(raw: object, expected: int) -> None:
    job, _ = drive(P.retrieve("video_123", CREDS), [ok(video(status="in_progress", progress=raw))])
    assert job.progress == expected


def test_completed_and_failed_jobs_are_read() -> None:
    done = video(status="completed", progress=100, completed_at=1712697700, expires_at=1712701300)
    job, _ = drive(P.retrieve("video_123", CREDS), [ok(done)])
    assert (job.status, job.completed_at, job.expires_at, job.poll_after_ms) == (
        "completed",
        1712697700,
        1712701300,
        None,
    )
    failed = video(
        status="failed",
        error={"code": "moderation_blocked", "message": "Your request was blocked by our moderation system."},
    )
    job, _ = drive(P.retrieve("video_123", CREDS), [ok(failed)])
    assert job.status == "failed"
    assert job.error is not None
    assert (job.error.code, job.error.message) == (
        "moderation_blocked",
        "Your request was blocked by our moderation system.",
    )


def test_failed_without_error_still_carries_a_reason() -> None:
    job, _ = drive(P.retrieve("video_123", CREDS), [ok(video(status="failed"))])
    assert job.error is not None
    assert job.error.code == "failed"


@pytest.mark.parametrize(("progress", "expected"), [(None, 0), (37.6, 38)])
def test_a_status_the_server_adds_later_keeps_the_job_running(progress: float | None, expected: int) -> None:
    """As on the task APIs: not a 500 that would fail a paid job or a client's retrieve."""
    job, _ = drive(P.retrieve("video_123", CREDS), [ok(video(status="upscaling", progress=progress))])
    assert (job.status, job.progress, job.error) == ("in_progress", expected, None)


@pytest.mark.parametrize("status", [None, "", 3])
def test_a_video_object_without_a_status_is_an_error(status: Any) -> None:
    with pytest.raises(InternalServerError, match="no status"):
        drive(P.retrieve("video_123", CREDS), [ok(video(status=status))])


def test_non_json_success_reply_is_an_error() -> None:
    with pytest.raises(InternalServerError, match="not a JSON object"):
        drive(P.retrieve("video_123", CREDS), [HttpReply(200, {}, b"<html>")])


def test_ids_that_would_change_the_path_are_refused() -> None:
    with pytest.raises(BadRequestError):
        drive(P.retrieve("../files", CREDS), [])
    with pytest.raises(BadRequestError):
        drive(P.delete("a/b", CREDS), [])


@pytest.mark.parametrize(
    ("variant", "media_type"),
    [("video", "video/mp4"), ("thumbnail", "image/webp"), ("spritesheet", "image/jpeg")],
)
def test_download_is_one_streamed_get_with_the_variant(variant: str, media_type: str) -> None:
    download, calls = drive(P.download("video_123", variant, CREDS), [])
    assert calls == []
    assert download.media_type == media_type
    assert download.call is not None
    assert download.call.method == "GET"
    assert download.call.url == "https://api.openai.com/v1/videos/video_123/content"
    assert dict(download.call.params) == {"variant": variant}
    assert download.call.headers["Authorization"] == "Bearer sk-test"


def test_download_rejects_unknown_variant() -> None:
    with pytest.raises(BadRequestError) as info:
        drive(P.download("video_123", "poster", CREDS), [])
    assert info.value.param == "variant"
    assert "'video', 'thumbnail', and 'spritesheet'" in info.value.message


def test_remix_posts_the_prompt_and_reads_the_source_id() -> None:
    job, calls = drive(
        P.remix("video_123", "now at night", CREDS),
        [ok(video(id="video_456", remixed_from_video_id="video_123", seconds="8"))],
    )
    call = calls[0]
    assert (call.method, call.url, call.json) == (
        "POST",
        "https://api.openai.com/v1/videos/video_123/remix",
        {"prompt": "now at night"},
    )
    assert call.retry_safe is False
    assert (job.native_id, job.remixed_from, job.seconds) == ("video_456", "video_123", "8")


def test_remix_needs_a_prompt() -> None:
    with pytest.raises(BadRequestError):
        drive(P.remix("video_123", " ", CREDS), [])


def test_list_sends_cursor_params_and_maps_the_page() -> None:
    body = {
        "object": "list",
        "data": [video(id="video_2"), video(id="video_3", status="completed", progress=100)],
        "first_id": "video_2",
        "last_id": "video_3",
        "has_more": True,
    }
    page, calls = drive(P.list(CREDS, after="video_1", limit=2, order="asc"), [ok(body)])
    assert calls[0].url == "https://api.openai.com/v1/videos"
    assert dict(calls[0].params) == {"after": "video_1", "limit": "2", "order": "asc"}
    assert [j.native_id for j in page.jobs] == ["video_2", "video_3"]
    assert page.has_more is True
    page, calls = drive(P.list(CREDS, after=None, limit=20, order="desc"), [ok({**body, "has_more": False})])
    assert dict(calls[0].params) == {"limit": "20", "order": "desc"}
    assert page.has_more is False


def test_list_rejects_bad_order_and_limit() -> None:
    with pytest.raises(BadRequestError) as info:
        drive(P.list(CREDS, after=None, limit=10, order="newest"), [])
    assert info.value.param == "order"
    with pytest.raises(BadRequestError) as info:
        drive(P.list(CREDS, after=None, limit=500, order="desc"), [])
    assert info.value.param == "limit"


def test_delete() -> None:
    deleted, calls = drive(
        P.delete("video_123", CREDS), [ok({"id": "video_123", "object": "video.deleted", "deleted": True})]
    )
    assert (calls[0].method, calls[0].url) == ("DELETE", "https://api.openai.com/v1/videos/video_123")
    assert deleted is True


# ---- error mapping ------------------------------------------------------------------------------


def envelope(
    message: str, type: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def test_401_is_authentication_error() -> None:
    e = P.error_for(err(401, envelope("Incorrect API key provided: sk-***.", code="invalid_api_key")))
    assert isinstance(e, AuthenticationError)
    assert (e.status_code, e.code, e.provider) == (401, "invalid_api_key", "openai")
    assert e.message.startswith("Incorrect API key")


def test_400_keeps_param_and_wording() -> None:
    message = "Invalid value: '7'. Supported values are: '4', '8', and '12'."
    e = P.error_for(err(400, envelope(message, param="seconds", code="invalid_value")))
    assert type(e) is BadRequestError
    assert (e.message, e.param, e.code, e.type) == (
        message,
        "seconds",
        "invalid_value",
        "invalid_request_error",
    )


def test_moderation_400_is_content_policy_violation() -> None:
    e = P.error_for(
        err(400, envelope("Your request was blocked by our moderation system.", code="moderation_blocked"))
    )
    assert isinstance(e, ContentPolicyViolationError)
    assert e.status_code == 400
    e = P.error_for(
        err(400, envelope("This request has been blocked by our content filters.", code="content_filter"))
    )
    assert isinstance(e, ContentPolicyViolationError)


def test_404_is_not_found() -> None:
    e = P.error_for(err(404, envelope("Video is not ready yet, use the GET endpoint to check its status.")))
    assert isinstance(e, NotFoundError)
    assert e.message.startswith("Video is not ready yet")


@pytest.mark.parametrize(
    ("headers", "expected"), [({"retry-after": "2"}, 2.0), ({"retry-after-ms": "1500"}, 1.5), ({}, None)]
)
def test_429_carries_retry_after(headers: dict[str, str], expected: float | None) -> None:
    e = P.error_for(
        err(429, envelope("Rate limit reached", type="requests", code="rate_limit_exceeded"), headers)
    )
    assert isinstance(e, RateLimitError)
    assert e.retry_after == expected


def test_5xx_and_non_json_bodies() -> None:
    assert isinstance(P.error_for(err(500, envelope("boom", type="server_error"))), InternalServerError)
    assert isinstance(
        P.error_for(err(503, envelope("overloaded", type="server_error"))), ServiceUnavailableError
    )
    e = P.error_for(err(502, b"<html>Bad gateway</html>"))
    assert isinstance(e, APIConnectionError)
    assert "HTTP 502" in e.message
    assert "Bad gateway" in e.message


def test_error_replies_are_thrown_into_the_flow() -> None:
    with pytest.raises(NotFoundError, match="No such video"):
        drive(P.retrieve("video_9", CREDS), [err(404, envelope("No such video"))], P.error_for)
