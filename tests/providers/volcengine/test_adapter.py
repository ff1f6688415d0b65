"""The Ark flows (Volcengine host) with recorded replies: bodies, statuses, errors, list, delete."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vidgate.catalog import validate
from vidgate.errors import (
    AuthenticationError,
    BadRequestError,
    ContentPolicyViolationError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.reserved import check_extra_for
from vidgate.providers.volcengine.adapter import VolcengineProvider
from vidgate.types import ImageInput, SourceVideo, VideoRequest

CREDS = Credentials(api_key="ark-key")
BASE = "https://ark.cn-beijing.volces.com/api/v3/contents/generations/tasks"
MODEL = "doubao-seedance-2-0-260128"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de")
provider = VolcengineProvider()


def reply(status: int, body: Any, **headers: str) -> HttpReply:
    return HttpReply(status, headers, json.dumps(body).encode())


def request(**kwargs: Any) -> VideoRequest:
    spec = find_model(f"volcengine/{kwargs.pop('model', MODEL)}")
    assert spec is not None
    return validate(spec, prompt=kwargs.pop("prompt", "a red fox"), **kwargs)


def task(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "cgt-1",
        "model": MODEL,
        "status": status,
        "created_at": 1_800_000_000,
        "updated_at": 1_800_000_060,
        "resolution": "720p",
        "ratio": "16:9",
        "duration": 5,
        **extra,
    }


def test_create_sends_content_roles_and_validated_fields() -> None:
    req = request(
        seconds="6",
        size="720x1280",
        input_reference=ImageInput(data=PNG, mime_type="image/png"),
        last_frame=ImageInput(url="https://img.example/last.jpg"),
        generate_audio=False,
        seed=42,
        extra_body={"watermark": True},
    )
    job, calls = drive(provider.create(req, CREDS), [reply(200, {"id": "cgt-9"})])
    call = calls[0]
    assert (call.method, call.url, call.retry_safe) == ("POST", BASE, False)
    assert call.headers["Authorization"] == "Bearer ark-key"
    assert call.json == {
        "model": MODEL,
        "content": [
            {"type": "text", "text": "a red fox"},
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1Pe"},
                "role": "first_frame",
            },
            {"type": "image_url", "image_url": {"url": "https://img.example/last.jpg"}, "role": "last_frame"},
        ],
        "ratio": "9:16",
        "resolution": "720p",
        "duration": 6,
        "generate_audio": False,
        "seed": 42,
        "watermark": True,
    }
    assert (job.native_id, job.status, job.size, job.seconds) == ("cgt-9", "queued", "720x1280", "6")


def test_reference_images_take_their_role_and_exclude_frames() -> None:
    refs = (ImageInput(url="https://img.example/a.png"), ImageInput(url="https://img.example/b.png"))
    _, calls = drive(provider.create(request(reference_images=refs), CREDS), [reply(200, {"id": "cgt-2"})])
    roles = [item.get("role") for item in calls[0].json["content"]]
    assert roles == [None, "reference_image", "reference_image"]
    mixed = request(reference_images=refs[:1], input_reference=ImageInput(url="https://img.example/f.png"))
    with pytest.raises(BadRequestError) as info:
        drive(provider.create(mixed, CREDS), [])
    assert info.value.param == "reference_images"


def test_a_file_id_is_refused_before_any_call() -> None:
    with pytest.raises(BadRequestError) as info:
        drive(provider.create(request(input_reference=ImageInput(file_id="file-1")), CREDS), [])
    assert info.value.param == "input_reference"


@pytest.mark.parametrize(
    "name", ["ratio", "Resolution", "duration", "frames", "content", "service_tier", "draft"]
)
def test_native_names_of_priced_fields_are_reserved(name: str) -> None:
    with pytest.raises(BadRequestError) as info:
        check_extra_for(provider, {name: "x"})
    assert info.value.code == "reserved_parameter"


@pytest.mark.parametrize(
    ("status", "expected", "code"),
    [
        ("queued", "queued", None),
        ("running", "in_progress", None),
        ("cancelled", "failed", "cancelled"),
        ("expired", "failed", "expired"),
        ("failed", "failed", "InternalServiceError"),
    ],
)
def test_every_status_is_mapped(status: str, expected: str, code: str | None) -> None:
    error = {"code": "InternalServiceError", "message": "boom"} if status == "failed" else None
    job, calls = drive(provider.retrieve("cgt-1", CREDS), [reply(200, task(status, error=error))])
    assert calls[0].url == f"{BASE}/cgt-1"
    assert job.status == expected
    assert (job.error.code if job.error else None) == code
    assert job.outputs == ()


def test_a_moderated_failure_is_moderation_blocked() -> None:
    error = {"code": "OutputVideoSensitiveContentDetected", "message": "sensitive"}
    job, _ = drive(provider.retrieve("cgt-1", CREDS), [reply(200, task("failed", error=error))])
    assert job.error is not None
    assert job.error.code == "moderation_blocked"


def test_succeeded_reads_url_size_usage_and_expiry() -> None:
    done = task(
        "succeeded",
        content={"video_url": "https://tos.example/v.mp4?sig=1"},
        usage={"completion_tokens": 108000},
    )
    job, _ = drive(provider.retrieve("cgt-1", CREDS), [reply(200, done)])
    assert (job.status, job.progress, job.size, job.seconds) == ("completed", 100, "1280x720", "5")
    assert job.outputs == ("https://tos.example/v.mp4?sig=1",)
    assert job.usage is not None
    assert job.usage.output_tokens == 108000
    assert (job.completed_at, job.expires_at) == (1_800_000_060, 1_800_000_060 + 86400)


def test_download_reads_a_fresh_url_and_sends_no_key_to_storage() -> None:
    done = task("succeeded", content={"video_url": "https://tos.example/fresh.mp4?sig=2"})
    download, calls = drive(provider.download("cgt-1", "video", CREDS), [reply(200, done)])
    assert calls[0].url == f"{BASE}/cgt-1"
    assert download.call is not None
    assert download.call.url == "https://tos.example/fresh.mp4?sig=2"
    assert "Authorization" not in download.call.headers
    with pytest.raises(BadRequestError):
        drive(provider.download("cgt-1", "video", CREDS), [reply(200, task("running"))])
    with pytest.raises(BadRequestError):
        drive(provider.download("cgt-1", "thumbnail", CREDS), [])


def test_list_pages_by_number_and_walks_to_the_cursor() -> None:
    page1 = {"total": 3, "items": [task("queued", id="cgt-3"), task("queued", id="cgt-2")]}
    page2 = {"total": 3, "items": [task("succeeded", id="cgt-1", content={"video_url": "https://x/1"})]}
    first, calls = drive(provider.list(CREDS, after=None, limit=2, order="desc"), [reply(200, page1)])
    assert calls[0].params == {"page_num": "1", "page_size": "2"}
    assert ([j.native_id for j in first.jobs], first.has_more) == (["cgt-3", "cgt-2"], True)
    # The cursor ends page 1: the next page is read for the jobs after it.
    nxt, calls = drive(
        provider.list(CREDS, after="cgt-2", limit=2, order="desc"), [reply(200, page1), reply(200, page2)]
    )
    assert [c.params["page_num"] for c in calls] == ["1", "2"]
    assert ([j.native_id for j in nxt.jobs], nxt.has_more) == (["cgt-1"], False)
    middle, _ = drive(provider.list(CREDS, after="cgt-3", limit=1, order="desc"), [reply(200, page1)])
    assert ([j.native_id for j in middle.jobs], middle.has_more) == (["cgt-2"], True)
    gone, _ = drive(
        provider.list(CREDS, after="cgt-9", limit=2, order="desc"), [reply(200, page1), reply(200, page2)]
    )
    assert (gone.jobs, gone.has_more) == ((), False)
    with pytest.raises(BadRequestError):
        drive(provider.list(CREDS, after=None, limit=2, order="asc"), [])


def test_delete_is_one_call() -> None:
    deleted, calls = drive(provider.delete("cgt-1", CREDS), [reply(200, {})])
    assert deleted is True
    assert (calls[0].method, calls[0].url) == ("DELETE", f"{BASE}/cgt-1")
    with pytest.raises(BadRequestError):
        drive(provider.delete("../x", CREDS), [])


def envelope(code: str, message: str = "m", param: str = "") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "param": param, "type": "t"}}


def test_errors_map_to_vidgate_classes() -> None:
    bad_key = provider.error_for(reply(401, envelope("AuthenticationError")))
    assert isinstance(bad_key, AuthenticationError)
    assert isinstance(provider.error_for(reply(404, envelope("ResourceNotFound"))), NotFoundError)
    limited = provider.error_for(reply(429, envelope("RateLimitExceeded"), **{"retry-after": "3"}))
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 3.0
    policy = provider.error_for(reply(400, envelope("InputTextSensitiveContentDetected")))
    assert isinstance(policy, ContentPolicyViolationError)
    invalid = provider.error_for(reply(400, envelope("InvalidParameter", param="duration")))
    assert (type(invalid), invalid.param) == (BadRequestError, "duration")
    assert isinstance(provider.error_for(HttpReply(503, {}, b"busy")), ServiceUnavailableError)


def test_a_missing_key_is_refused_before_any_call() -> None:
    with pytest.raises(AuthenticationError, match="ARK_API_KEY"):
        drive(provider.retrieve("cgt-1", Credentials()), [])


CLIP = SourceVideo(url="https://cdn.example/motion.mp4")


def test_reference_videos_need_a_deployment_that_prices_them() -> None:
    """Volcengine's per-second rows have no price with an input video: validated against the catalogue
    row, reference videos are a 400 that says why; a deployment with its own price sends them (the row
    it serves offers them), and the deployment-priced fast row offers them outright."""
    spec = find_model(f"volcengine/{MODEL}")
    assert spec is not None
    with pytest.raises(BadRequestError, match="only a deployment that sets its own price") as caught:
        validate(spec, prompt="a dancer", reference_videos=[CLIP])
    assert caught.value.param == "reference_videos"
    for req in (
        validate(spec.with_deployment_price(), prompt="a dancer", reference_videos=[CLIP]),
        request(model="doubao-seedance-2-0-fast-260128", prompt="a dancer", reference_videos=[CLIP]),
    ):
        _, calls = drive(provider.create(req, CREDS), [reply(200, {"id": "cgt-1"})])
        assert calls[0].json["content"][1] == {
            "type": "video_url",
            "video_url": {"url": "https://cdn.example/motion.mp4"},
            "role": "reference_video",
        }
