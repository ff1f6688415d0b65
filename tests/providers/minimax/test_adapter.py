"""MiniMax's flows against recorded replies: the V2 body, every status, failures sent as HTTP 200 (both
envelopes), download from a fresh query, list, and delete as cancel."""

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
    RateLimitError,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.minimax.adapter import MiniMaxProvider
from vidgate.types import ImageInput, SourceVideo, VideoRequest

P = MiniMaxProvider()
CREDS = Credentials(api_key="mm-key", api_base="https://minimax.test")
OK = {"status_code": 0, "status_msg": "success"}


def req(model: str = "minimax/MiniMax-H3", **params: Any) -> VideoRequest:
    spec = find_model(model)
    assert spec is not None
    params.setdefault("prompt", "rain sliding down a window")
    return validate(spec, **params)


def reply(body: Any, status: int = 200, **headers: str) -> HttpReply:
    return HttpReply(status, headers, json.dumps(body).encode())


def test_text_to_video_body() -> None:
    job, calls = drive(
        P.create(req(seconds="5", size="768x1366"), CREDS), [reply({"task_id": "t-1", "base_resp": OK})]
    )
    (call,) = calls
    assert (call.method, call.url, call.retry_safe) == (
        "POST",
        "https://minimax.test/v2/video_generation",
        False,
    )
    assert call.headers["Authorization"] == "Bearer mm-key"
    assert call.json == {
        "model": "MiniMax-H3",
        "content": [{"type": "text", "text": "rain sliding down a window"}],
        "duration": 5,
        "resolution": "768P",
        "ratio": "9:16",
        "generate_audio": True,
    }
    assert (job.native_id, job.status, job.seconds, job.size) == ("t-1", "queued", "5", "768x1366")


def test_first_and_last_frames_are_data_urls_and_the_first_frame_sets_the_ratio() -> None:
    first, last = image_bytes(2560, 1440, "png"), image_bytes(2560, 1440, "jpeg")
    request = req(
        size="2560x1440",
        input_reference=ImageInput(data=first),
        last_frame=ImageInput(url="https://example.com/last.jpg"),
        generate_audio=False,
    )
    _job, calls = drive(P.create(request, CREDS), [reply({"task_id": "t-2", "base_resp": OK})])
    body = calls[0].json
    assert body["content"][1:] == [
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + base64.b64encode(first).decode()},
            "role": "first_frame",
        },
        {"type": "image_url", "image_url": {"url": "https://example.com/last.jpg"}, "role": "last_frame"},
    ]
    assert (body["ratio"], body["resolution"], body["generate_audio"]) == ("adaptive", "2K", False)
    assert last  # the jpeg is only used to show a URL passes unchanged


def test_reference_images_use_the_reference_role_and_cannot_mix_with_frames() -> None:
    ref = ImageInput(data=image_bytes(64, 64, "webp"))
    _job, calls = drive(
        P.create(req("minimax/MiniMax-H3-Max", seconds="8", reference_images=[ref]), CREDS),
        [reply({"task_id": "t-3", "base_resp": OK})],
    )
    assert [(i.get("role"), i["type"]) for i in calls[0].json["content"]] == [
        (None, "text"),
        ("reference_image", "image_url"),
    ]
    assert calls[0].json["content"][1]["image_url"]["url"].startswith("data:image/webp;base64,")
    frame = ImageInput(data=image_bytes(1366, 768, "png"))
    with pytest.raises(BadRequestError) as info:
        drive(P.create(req(seconds="8", input_reference=frame, reference_images=[ref]), CREDS), [])
    assert info.value.param == "reference_images"


def test_extra_body_cannot_set_what_is_priced() -> None:
    for native in ("content", "ratio", "first_frame_image", "resolution", "duration"):
        with pytest.raises(BadRequestError):
            drive(P.create(req(extra_body={native: "x"}), CREDS), [])
    _job, calls = drive(
        P.create(req(extra_body={"callback_url": "https://hook"}), CREDS),
        [reply({"task_id": "t", "base_resp": OK})],
    )
    assert calls[0].json["callback_url"] == "https://hook"


@pytest.mark.parametrize(
    ("status", "expected", "progress", "code"),
    [
        ("queued", "queued", 0, None),
        ("running", "in_progress", 50, None),
        ("succeeded", "completed", 100, None),
        ("failed", "failed", 100, "minimax_task_failed"),
        ("cancelled", "failed", 100, "cancelled"),
        ("expired", "failed", 100, "expired"),
    ],
)
def test_every_task_status_is_mapped(status: str, expected: str, progress: int, code: str | None) -> None:
    task: dict[str, Any] = {"id": "t-9", "model": "MiniMax-H3", "status": status, "duration": 6}
    if status == "succeeded":
        task["content"] = {"url": "https://cdn.test/t-9.mp4?sig=1"}
    job, calls = drive(P.retrieve("t-9", CREDS), [reply({"task": task, "base_resp": OK})])
    assert calls[0].url == "https://minimax.test/v2/query/video_generation/t-9"
    assert (job.status, job.progress, job.model, job.seconds) == (expected, progress, "MiniMax-H3", "6")
    assert (job.error.code if job.error else None) == code
    if status == "succeeded":
        assert job.outputs == ("https://cdn.test/t-9.mp4?sig=1",)


def test_a_sensitive_output_failure_is_moderation_blocked() -> None:
    task = {"id": "t", "status": "failed", "error": {"code": "1027", "message": "output sensitive"}}
    job, _ = drive(P.retrieve("t", CREDS), [reply({"task": task, "base_resp": OK})])
    assert job.error is not None
    assert (job.error.code, job.error.message) == ("moderation_blocked", "output sensitive")


HTTP_200_FAILURES = [
    (1004, AuthenticationError, "invalid_api_key"),
    (2049, AuthenticationError, "invalid_api_key"),
    (1002, RateLimitError, "minimax_1002"),
    (1039, RateLimitError, "minimax_1039"),
    (1008, RateLimitError, "insufficient_quota"),
    (2013, BadRequestError, "minimax_2013"),
    (1026, ContentPolicyViolationError, "moderation_blocked"),
    (1000, InternalServerError, "minimax_1000"),
]


@pytest.mark.parametrize(("code", "cls", "tag"), HTTP_200_FAILURES)
def test_failures_sent_as_http_200_are_errors(code: int, cls: type[APIError], tag: str) -> None:
    body = {"task_id": "", "base_resp": {"status_code": code, "status_msg": "from minimax"}}
    with pytest.raises(cls) as info:
        drive(P.create(req(), CREDS), [reply(body)])
    assert (info.value.code, info.value.message, info.value.provider) == (tag, "from minimax", "minimax")
    if cls is InternalServerError:
        assert info.value.status_code == 502  # an upstream failure, not the gateway's own


def test_the_error_object_envelope_is_read_too() -> None:
    with pytest.raises(AuthenticationError):
        drive(
            P.retrieve("t", CREDS), [reply({"type": "error", "error": {"code": 1004, "message": "bad key"}})]
        )
    with pytest.raises(RateLimitError) as info:
        drive(P.create(req(), CREDS), [reply({"error": {"code": "1008", "message": "no balance"}})])
    assert info.value.code == "insufficient_quota"


def test_http_errors_map_by_status() -> None:
    assert (
        type(P.error_for(reply({"base_resp": {"status_code": 2013, "status_msg": "nf"}}, 404)))
        is NotFoundError
    )
    limited = P.error_for(
        reply({"base_resp": {"status_code": 1002, "status_msg": "rl"}}, 429, **{"retry-after": "3"})
    )
    assert (type(limited), limited.retry_after) == (RateLimitError, 3.0)
    assert type(P.error_for(HttpReply(401, {}, b"<html/>"))) is AuthenticationError
    assert P.error_for(HttpReply(503, {}, b"busy")).status_code == 503


def test_an_unsafe_task_id_is_not_found_without_a_call() -> None:
    with pytest.raises(NotFoundError):
        drive(P.retrieve("../v1/files", CREDS), [])


def test_download_queries_again_for_a_fresh_url_without_the_key() -> None:
    task = {"id": "t", "status": "succeeded", "content": {"url": "https://cdn.test/fresh.mp4"}}
    download, calls = drive(P.download("t", "video", CREDS), [reply({"task": task, "base_resp": OK})])
    assert [c.url for c in calls] == ["https://minimax.test/v2/query/video_generation/t"]
    assert download.call is not None
    assert (download.call.url, dict(download.call.headers)) == ("https://cdn.test/fresh.mp4", {})
    running = {"task": {"id": "t", "status": "running"}, "base_resp": OK}
    with pytest.raises(BadRequestError):
        drive(P.download("t", "video", CREDS), [reply(running)])


def test_list_and_delete() -> None:
    tasks = [{"id": "b", "status": "running"}, {"id": "a", "status": "succeeded", "content": {"url": "u"}}]
    page, calls = drive(
        P.list(CREDS, after=None, limit=2, order="desc"),
        [reply({"tasks": tasks, "has_more": True, "base_resp": OK})],
    )
    assert dict(calls[0].params) == {"page_num": "1", "page_size": "2"}
    assert ([j.native_id for j in page.jobs], page.has_more) == (["b", "a"], True)
    for kwargs in ({"after": "a", "order": "desc"}, {"after": None, "order": "asc"}):
        with pytest.raises(BadRequestError):
            drive(P.list(CREDS, limit=2, **kwargs), [])
    deleted, calls = drive(P.delete("t", CREDS), [reply({"task_id": "t", "base_resp": OK})])
    assert deleted is True
    assert (calls[0].method, calls[0].url) == ("DELETE", "https://minimax.test/v2/video_generation/t")
    with pytest.raises(AuthenticationError):
        drive(P.delete("t", CREDS), [reply({"base_resp": {"status_code": 1004, "status_msg": "login fail"}})])


CLIP = SourceVideo(url="https://cdn.example/dance.mp4")


def with_videos(*videos: SourceVideo, model: str = "minimax/MiniMax-H3", **params: Any) -> VideoRequest:
    return replace(req(model, **params), reference_videos=videos)


def test_reference_videos_are_video_url_items_after_the_images() -> None:
    request = with_videos(
        CLIP,
        SourceVideo(url="https://cdn.example/walk.mp4"),
        seconds="6",
        size="1366x768",
        reference_images=[ImageInput(url="https://img.example/face.png")],
    )
    _, calls = drive(P.create(request, CREDS), [reply({"task_id": "t-9", "base_resp": OK})])
    assert calls[0].json["content"] == [
        {"type": "text", "text": "rain sliding down a window"},
        {
            "type": "image_url",
            "image_url": {"url": "https://img.example/face.png"},
            "role": "reference_image",
        },
        {
            "type": "video_url",
            "video_url": {"url": "https://cdn.example/dance.mp4"},
            "role": "reference_video",
        },
        {
            "type": "video_url",
            "video_url": {"url": "https://cdn.example/walk.mp4"},
            "role": "reference_video",
        },
    ]
    assert calls[0].json["ratio"] == "16:9"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (lambda: with_videos(CLIP, CLIP, CLIP, CLIP), "At most 3 reference_videos"),
        (lambda: with_videos(SourceVideo(data=b"\x00\x00\x00\x18ftypmp42")), "https URLs"),
        (lambda: with_videos(SourceVideo(url="http://cdn.example/a.mp4")), "https URLs"),
        (
            lambda: with_videos(CLIP, input_reference=ImageInput(url="https://img.example/first.png")),
            "not both",
        ),
        (lambda: with_videos(CLIP, model="minimax/MiniMax-H3-Max"), "does not take reference_videos"),
    ],
    ids=["four", "bytes", "http", "with-a-frame", "h3-max"],
)
def test_reference_videos_minimax_cannot_take_are_a_400_before_any_call(request_: Any, message: str) -> None:
    with pytest.raises(BadRequestError, match=message) as caught:
        drive(P.create(request_(), CREDS), [])
    assert caught.value.param == "reference_videos"
