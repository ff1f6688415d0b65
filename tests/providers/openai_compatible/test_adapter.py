"""The openai_compatible adapter against recorded replies: bodies per dialect, extras forwarded
untouched, a minimal create reply, status words, delete and list, error mapping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import open_model, validate
from vidgate.errors import AuthenticationError, BadRequestError, NotFoundError, RateLimitError
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.openai_compatible import SPEC
from vidgate.providers.openai_compatible.adapter import OpenAICompatibleProvider
from vidgate.types import ImageInput, VideoRequest

PNG = image_bytes(64, 36, "png")  # a real one: validation reads its header
BASE = "http://gpu-1:8000/v1"
P = OpenAICompatibleProvider()
MODEL = "Wan-AI/Wan2.2-T2V-A14B-Diffusers"


def creds(**options: str) -> Credentials:
    return Credentials(api_base=BASE, options=options)


def ok(body: Any, status: int = 200) -> HttpReply:
    return HttpReply(status, {"content-type": "application/json"}, json.dumps(body).encode())


def request(**params: Any) -> VideoRequest:
    spec = open_model("openai_compatible", MODEL, features=SPEC.open_features)
    values: dict[str, Any] = {"prompt": "a heron", "seconds": "5", "size": "832x480"}
    values.update(params)
    return validate(spec, **values)


def full(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "video-123",
        "object": "video",
        "model": MODEL,
        "status": "in_progress",
        "progress": 40,
        "created_at": 1765000000,
        "prompt": "a heron",
        "size": "832x480",
        "seconds": "5",
    }
    body.update(overrides)
    return body


def test_create_multipart_forwards_every_extra_field_untouched() -> None:
    req = request(
        seed=7,
        negative_prompt="blurry",
        extra_body={
            "num_inference_steps": 30,
            "guidance_scale": 4.5,
            "lora": {"name": "style", "scale": 0.8},
            "extra_params": {"task": "t2va", "preencode_mp4": True},
            "generate_sound": True,
            "flow_shift": None,
        },
    )
    job, calls = drive(P.create(req, creds()), [ok({"id": "video-123", "status": "queued"})])
    call = calls[0]
    assert (call.method, call.url, call.retry_safe) == ("POST", f"{BASE}/videos", False)
    assert call.json is None
    assert call.files == []  # multipart even without a file part
    assert "Authorization" not in call.headers  # no key configured: no auth header
    assert call.data == {
        "model": MODEL,
        "prompt": "a heron",
        "seconds": "5",
        "size": "832x480",
        "seed": "7",
        "negative_prompt": "blurry",
        "num_inference_steps": "30",
        "guidance_scale": "4.5",
        "lora": '{"name": "style", "scale": 0.8}',
        "extra_params": '{"task": "t2va", "preencode_mp4": true}',
        "generate_sound": "true",
    }
    # the minimal reply is completed from the request until the first poll
    assert (job.native_id, job.status, job.model, job.seconds, job.size, job.prompt) == (
        "video-123",
        "queued",
        MODEL,
        "5",
        "832x480",
        "a heron",
    )
    assert job.created_at is None


def test_create_json_with_integer_seconds_and_a_data_url_reference() -> None:
    req = request(input_reference=ImageInput(data=PNG), extra_body={"response_format": "url"})
    reply = ok({"id": "video-9", "status": "queued", "created_at": 1765000001})
    job, calls = drive(P.create(req, creds(seconds_type="integer", request_format="json")), [reply])
    body = calls[0].json
    assert body["seconds"] == 5
    assert isinstance(body["seconds"], int)
    assert body["input_reference"].startswith("data:image/png;base64,")
    assert body["response_format"] == "url"
    assert job.created_at == 1765000001


def test_create_multipart_file_part_and_url_reference() -> None:
    _, calls = drive(P.create(request(input_reference=ImageInput(data=PNG)), creds()), [ok(full())])
    assert calls[0].files == [("input_reference", ("input_reference.png", PNG, "image/png"))]
    url = ImageInput(url="https://example.com/a.png")
    _, calls = drive(P.create(request(input_reference=url), creds()), [ok(full())])
    assert calls[0].data is not None
    assert calls[0].data["input_reference[image_url]"] == "https://example.com/a.png"


def test_extra_fields_nested_under_extra_body_for_an_upstream_gateway() -> None:
    req = request(extra_body={"guidance_scale": 5, "lora": {"name": "x"}})
    _, calls = drive(P.create(req, creds(extra_fields="extra_body")), [ok(full())])
    data = calls[0].data
    assert data is not None
    assert data["extra_body[guidance_scale]"] == "5"
    assert data["extra_body[lora]"] == '{"name": "x"}'
    assert "guidance_scale" not in data
    _, calls = drive(P.create(req, creds(extra_fields="extra_body", request_format="json")), [ok(full())])
    assert calls[0].json["extra_body"] == {"guidance_scale": 5, "lora": {"name": "x"}}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"num_frames": 241}, "extra_body.num_frames"),
        ({"width": 1920}, "extra_body.width"),
        ({"extra_params": {"duration": 10}}, "extra_body.extra_params.duration"),
        ({"extra_params": '{"num_frames": 97}'}, "extra_body.extra_params.num_frames"),
    ],
)
def test_fields_that_change_what_is_priced_are_refused(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        drive(P.create(request(extra_body=extra), creds()), [])
    assert caught.value.param == param
    assert caught.value.code == "reserved_parameter"


def test_api_key_is_sent_as_bearer_when_configured() -> None:
    keyed = Credentials(api_base=BASE, api_key="sk-self-hosted")
    _, calls = drive(P.retrieve("video-123", keyed), [ok(full())])
    assert calls[0].headers["Authorization"] == "Bearer sk-self-hosted"


def test_missing_api_base_is_a_400_naming_it() -> None:
    with pytest.raises(BadRequestError) as caught:
        drive(P.retrieve("video-123", Credentials()), [])
    assert caught.value.param == "api_base"


@pytest.mark.parametrize(
    ("native", "status", "code"),
    [
        ("queued", "queued", None),
        ("pending", "queued", None),
        ("in_progress", "in_progress", None),
        ("running", "in_progress", None),
        ("completed", "completed", None),
        ("succeeded", "completed", None),
        ("failed", "failed", "failed"),
        ("cancelled", "failed", "cancelled"),
        ("canceled", "failed", "cancelled"),
        ("aborted", "failed", "cancelled"),
        ("Upscaling", "in_progress", None),  # a word the server adds later keeps polling, not a 500
    ],
)
def test_status_words(native: str, status: str, code: str | None) -> None:
    job, _ = drive(P.retrieve("video-123", creds()), [ok(full(status=native, seconds=5, progress=40.6))])
    assert job.status == status
    assert job.seconds == "5"  # Dynamo's integer read as the Video's string
    assert (job.error.code if job.error else None) == code
    if status == "in_progress":
        assert job.progress == 41


def test_download_streams_content_with_the_variant() -> None:
    download, calls = drive(P.download("video-123", "video", creds()), [])
    assert download.call is not None
    assert download.call.params == {"variant": "video"}
    with pytest.raises(BadRequestError) as caught:  # engines serve the video only, unless listed
        drive(P.download("video-123", "thumbnail", creds()), [])
    assert caught.value.param == "variant"
    download, calls = drive(
        P.download("video-123", "thumbnail", creds(content_variants="video,thumbnail")), []
    )
    assert calls == []
    assert download.call is not None
    assert download.call.url == f"{BASE}/videos/video-123/content"
    assert download.call.params == {"variant": "thumbnail"}
    assert download.media_type == "image/webp"


def test_delete_with_json_or_an_empty_204() -> None:
    deleted, calls = drive(
        P.delete("video-123", creds()), [ok({"id": "video-123", "object": "video.deleted", "deleted": True})]
    )
    assert deleted is True
    assert (calls[0].method, calls[0].url) == ("DELETE", f"{BASE}/videos/video-123")
    deleted, _ = drive(P.delete("video-123", creds()), [HttpReply(204, {}, b"")])
    assert deleted is True


def test_list_reads_each_item_with_the_status_words() -> None:
    page_body = {"object": "list", "data": [full(status="running"), full(id="video-2", status="succeeded")]}
    page, calls = drive(P.list(creds(), after="video-0", limit=10, order="asc"), [ok(page_body)])
    assert calls[0].params == {"limit": "10", "order": "asc", "after": "video-0"}
    assert [(j.native_id, j.status) for j in page.jobs] == [
        ("video-123", "in_progress"),
        ("video-2", "completed"),
    ]
    assert page.has_more is False
    with pytest.raises(BadRequestError):
        drive(P.list(creds(), after=None, limit=0, order="asc"), [])


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, {"error": "Unauthorized"}, AuthenticationError),
        (
            404,
            {"error": {"message": "Video video-x not found", "type": "invalid_request_error"}},
            NotFoundError,
        ),
        (429, {"object": "error", "message": "busy", "type": "rate_limit", "code": 429}, RateLimitError),
    ],
)
def test_error_shapes(status: int, body: Any, kind: type[Exception]) -> None:
    reply = HttpReply(status, {"retry-after": "2"}, json.dumps(body).encode())
    error = P.error_for(reply)
    assert isinstance(error, kind)
    if status == 429:
        assert error.retry_after == 2.0
