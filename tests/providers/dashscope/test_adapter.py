"""The dashscope adapter's flows against recorded replies: exact wire requests, every status, errors."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import validate
from vidgate.errors import (
    AuthenticationError,
    BadRequestError,
    ContentPolicyViolationError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from vidgate.gateway.config import ConfigError, parse_config
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.dashscope.adapter import DashScopeProvider
from vidgate.providers.reserved import check_extra_for
from vidgate.types import ImageInput, SourceVideo, VideoRequest

PNG = image_bytes(64, 36, "png")  # a real one: validation reads its header
ROOT = "https://dashscope-intl.aliyuncs.com/api/v1"
CREDS = Credentials(api_key="sk-test", api_base=ROOT)
P = DashScopeProvider()


def reply(body: Any, status: int = 200, **headers: str) -> HttpReply:
    return HttpReply(status, {k.lower(): v for k, v in headers.items()}, json.dumps(body).encode())


def request(model: str = "wan2.7-t2v", **params: Any) -> VideoRequest:
    spec = find_model(f"dashscope/{model}")
    assert spec is not None
    return validate(spec, prompt=params.pop("prompt", "a lantern festival"), **params)


def sent(req: VideoRequest) -> dict[str, Any]:
    accepted = {"request_id": "r-1", "output": {"task_id": "t-1", "task_status": "PENDING"}}
    job, calls = drive(P.create(req, CREDS), [reply(accepted)], P.error_for)
    assert (job.native_id, job.status, job.seconds, job.size) == ("t-1", "queued", str(req.seconds), req.size)
    (call,) = calls
    assert (call.method, call.url, call.retry_safe) == (
        "POST",
        f"{ROOT}/services/aigc/video-generation/video-synthesis",
        False,
    )
    assert call.headers["X-DashScope-Async"] == "enable"
    assert call.headers["Authorization"] == "Bearer sk-test"
    body: dict[str, Any] = call.json
    return body


def test_text_to_video_sends_size_and_duration() -> None:
    body = sent(request(seconds="10", size="720x1280", seed=42, negative_prompt="blur"))
    assert body == {
        "model": "wan2.7-t2v",
        "input": {"prompt": "a lantern festival", "negative_prompt": "blur"},
        "parameters": {"duration": 10, "size": "720*1280", "seed": 42},
    }


def test_default_duration_and_size_are_sent_explicitly() -> None:
    assert sent(request())["parameters"] == {"duration": 5, "size": "1920*1080"}


def test_image_to_video_sends_resolution_and_the_image() -> None:
    image = ImageInput(url="https://example.com/first.png")
    body = sent(request("wan2.7-i2v", input_reference=image, size="1280x720"))
    assert body["input"] == {"prompt": "a lantern festival", "img_url": "https://example.com/first.png"}
    assert body["parameters"] == {"duration": 5, "resolution": "720P"}


def test_first_and_last_frame() -> None:
    first = ImageInput(data=image_bytes(1920, 1080, "png"), mime_type="image/png")  # at the video's size
    last = ImageInput(url="https://example.com/last.png")
    body = sent(request("wan2.7-i2v", input_reference=first, last_frame=last))
    assert body["input"]["first_frame_url"].startswith("data:image/png;base64,")
    assert body["input"]["last_frame_url"] == "https://example.com/last.png"
    assert "img_url" not in body["input"]


def test_reference_images_go_in_reference_urls() -> None:
    refs = [ImageInput(url="https://example.com/a.png"), ImageInput(url="https://example.com/b.png")]
    body = sent(request("happyhorse-1.1-r2v", reference_images=refs, seconds="5"))
    assert body["input"]["reference_urls"] == ["https://example.com/a.png", "https://example.com/b.png"]


def test_extra_body_goes_to_parameters_but_never_a_priced_field() -> None:
    assert sent(request(extra_body={"prompt_extend": False}))["parameters"]["prompt_extend"] is False
    for name in ("img_url", "ratio", "resolution", "duration", "parameters", "audio_setting"):
        with pytest.raises(BadRequestError) as info:
            check_extra_for(P, {name: "x"})
        assert info.value.param == f"extra_body.{name}"


def test_values_a_model_cannot_honour_are_400s_in_validation() -> None:
    prime = find_model("dashscope/wan3.0-video-prime")
    assert prime is not None
    with pytest.raises(BadRequestError) as size:
        validate(prime, prompt="x", size="1280x720")
    assert size.value.param == "size"
    t2v = find_model("dashscope/wan2.7-t2v")
    assert t2v is not None
    with pytest.raises(BadRequestError) as image:
        validate(t2v, prompt="x", input_reference=ImageInput(url="https://e/a.png"))
    assert image.value.param == "input_reference"
    with pytest.raises(BadRequestError) as seconds:
        validate(t2v, prompt="x", seconds="7")
    assert seconds.value.param == "seconds"


# ---- retrieve: every status ------------------------------------------------------------------------


def task(status: str, **output: Any) -> dict[str, Any]:
    return {"request_id": "r", "output": {"task_id": "t-1", "task_status": status, **output}}


def retrieved(body: dict[str, Any]) -> Any:
    job, calls = drive(P.retrieve("t-1", CREDS), [reply(body)], P.error_for)
    assert [c.url for c in calls] == [f"{ROOT}/tasks/t-1"]
    return job


@pytest.mark.parametrize(
    ("native", "status"),
    [
        ("PENDING", "queued"),
        ("SUSPENDED", "queued"),
        ("RUNNING", "in_progress"),
        ("UPSCALING", "in_progress"),
    ],
)
def test_running_statuses(native: str, status: str) -> None:
    """A status DashScope adds later (UPSCALING) keeps polling: not a 404 that would end a paid job."""
    job = retrieved(task(native))
    assert (job.status, job.error, job.outputs) == (status, None, ())


def test_succeeded_carries_the_url_and_duration() -> None:
    body = {
        **task("SUCCEEDED", video_url="https://oss/v.mp4"),
        "usage": {"duration": 5, "video_count": 1, "SR": 720},
    }
    job = retrieved(body)
    assert (job.status, job.progress, job.seconds, job.outputs) == (
        "completed",
        100,
        "5",
        ("https://oss/v.mp4",),
    )


def test_failed_canceled_and_moderated() -> None:
    failed = retrieved(task("FAILED", code="InternalError.Algo", message="boom"))
    assert (failed.status, failed.error.code, failed.error.message) == (
        "failed",
        "InternalError.Algo",
        "boom",
    )
    moderated = retrieved(task("FAILED", code="DataInspectionFailed", message="inappropriate"))
    assert moderated.error.code == "moderation_blocked"
    canceled = retrieved(task("CANCELED"))
    assert (canceled.status, canceled.error.code) == ("failed", "cancelled")


def test_unknown_is_not_found() -> None:
    with pytest.raises(NotFoundError) as info:
        retrieved(task("UNKNOWN"))
    assert info.value.code == "task_not_found"


def test_download_reads_the_task_for_its_url() -> None:
    body = task("SUCCEEDED", video_url="https://oss/v.mp4?Expires=1&Signature=s")
    download, calls = drive(P.download("t-1", "video", CREDS), [reply(body)], P.error_for)
    assert len(calls) == 1
    assert download.call is not None
    assert download.call.url == "https://oss/v.mp4?Expires=1&Signature=s"
    assert "Authorization" not in download.call.headers


# ---- errors, config --------------------------------------------------------------------------------


def test_error_envelopes_map_to_their_classes() -> None:
    bad_key = P.error_for(
        reply({"request_id": "r", "code": "InvalidApiKey", "message": "Invalid API-key provided."}, 401)
    )
    assert isinstance(bad_key, AuthenticationError)
    assert (bad_key.code, bad_key.message) == ("InvalidApiKey", "Invalid API-key provided.")
    limited = P.error_for(
        reply({"code": "Throttling.RateQuota", "message": "slow"}, 429, **{"Retry-After": "2"})
    )
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 2.0
    assert isinstance(
        P.error_for(reply({"code": "DataInspectionFailed", "message": "x"}, 400)), ContentPolicyViolationError
    )
    assert type(P.error_for(reply({"code": "InvalidParameter", "message": "x"}, 400))) is BadRequestError
    assert isinstance(P.error_for(HttpReply(500, {}, b"oops")), InternalServerError)


def entry(**params: Any) -> dict[str, Any]:
    return {"model_name": "wan", "litellm_params": {"model": "dashscope/wan2.7-t2v", **params}}


def test_region_picks_the_endpoint_and_a_workspace_adds_its_header() -> None:
    config = parse_config(
        {"model_list": [entry(region="cn", workspace="ws-1")]}, environ={"DASHSCOPE_API_KEY": "k"}
    )
    creds = config.deployments[0].credentials
    assert creds.api_base == "https://dashscope.aliyuncs.com/api/v1"
    assert creds.extra_headers["X-DashScope-WorkSpace"] == "ws-1"
    default = parse_config({"model_list": [entry()]}, environ={"DASHSCOPE_API_KEY": "k"})
    assert default.deployments[0].credentials.api_base == ROOT
    explicit = "https://ws-1.ap-southeast-1.maas.aliyuncs.com/api/v1"
    chosen = parse_config({"model_list": [entry(api_base=explicit)]}, environ={"DASHSCOPE_API_KEY": "k"})
    assert chosen.deployments[0].credentials.api_base == explicit
    with pytest.raises(ConfigError, match="region"):
        parse_config({"model_list": [entry(region="mars")]}, environ={"DASHSCOPE_API_KEY": "k"})


def item(task_id: str, status: str, model: str = "wan2.7-t2v", **extra: Any) -> dict[str, Any]:
    """A ``data[]`` item shaped like the mocked reply in DashScope's Java SDK tests."""
    return {
        "task_id": task_id,
        "status": status,
        "model_name": model,
        "region": "ap-southeast-1",
        "gmt_create": 1_800_000_000_123,
        **extra,
    }


def page(*items: dict[str, Any], total: int, page_no: int = 1, page_size: int = 2) -> dict[str, Any]:
    return {
        "request_id": "r",
        "data": list(items),
        "total": total,
        "page_no": page_no,
        "page_size": page_size,
    }


def test_list_reads_the_task_list_and_keeps_video_tasks_only() -> None:
    first = page(
        item("t-3", "SUCCEEDED", end_time=1_800_000_090_999),
        item("e-1", "SUCCEEDED", model="text-embedding-async-v2"),
        total=4,
    )
    second = page(item("t-2", "FAILED"), item("t-1", "CANCELED"), total=4, page_no=2)
    result, calls = drive(P.list(CREDS, after=None, limit=2, order="desc"), [reply(first), reply(second)])
    assert [(c.method, c.url, c.params) for c in calls] == [
        ("GET", f"{ROOT}/tasks", {"page_no": "1", "page_size": "2"}),
        ("GET", f"{ROOT}/tasks", {"page_no": "2", "page_size": "2"}),
    ]
    done, failed = result.jobs
    assert (done.native_id, done.status, done.model, done.created_at, done.completed_at) == (
        "t-3",
        "completed",
        "wan2.7-t2v",
        1_800_000_000,
        1_800_000_090,
    )
    assert (failed.native_id, failed.status, failed.error and failed.error.code) == (
        "t-2",
        "failed",
        "generation_failed",
    )
    assert result.has_more is True


def test_list_walks_to_the_cursor_and_stops_at_the_last_page() -> None:
    only = page(item("t-2", "RUNNING"), item("t-1", "PENDING"), total=2)
    result, calls = drive(P.list(CREDS, after="t-2", limit=10, order="desc"), [reply(only)])
    assert [(j.native_id, j.status) for j in result.jobs] == [("t-1", "queued")]
    assert (len(calls), result.has_more) == (1, False)
    with pytest.raises(BadRequestError) as caught:
        drive(P.list(CREDS, after=None, limit=10, order="asc"), [])
    assert caught.value.param == "order"


def test_delete_cancels_a_pending_task() -> None:
    done, calls = drive(P.delete("t-1", CREDS), [reply(task("PENDING")), reply({"request_id": "r"})])
    assert done is True
    assert [(c.method, c.url) for c in calls] == [
        ("GET", f"{ROOT}/tasks/t-1"),
        ("POST", f"{ROOT}/tasks/t-1/cancel"),
    ]


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "CANCELED"])
def test_delete_of_a_finished_task_makes_no_cancel_call(status: str) -> None:
    done, calls = drive(P.delete("t-1", CREDS), [reply(task(status))])
    assert (done, len(calls)) == (True, 1)


def test_delete_of_a_running_task_is_dashscopes_refusal_and_unknown_is_not_found() -> None:
    refusal = {
        "request_id": "r",
        "code": "UnsupportedOperation",
        "message": "Failed to cancel the task, please confirm if the task is in PENDING status.",
    }
    with pytest.raises(BadRequestError) as caught:
        drive(P.delete("t-1", CREDS), [reply(task("RUNNING")), reply(refusal, 400)], P.error_for)
    assert caught.value.code == "UnsupportedOperation"
    with pytest.raises(NotFoundError):
        drive(P.delete("t-1", CREDS), [reply(task("UNKNOWN"))], P.error_for)


def test_reference_videos_are_refused_where_no_row_offers_them() -> None:
    req = replace(
        request("happyhorse-1.1-r2v", reference_images=[ImageInput(url="https://img.example/a.png")]),
        reference_videos=(SourceVideo(url="https://cdn.example/a.mp4"),),
    )
    with pytest.raises(BadRequestError, match="does not take reference_videos") as caught:
        drive(P.create(req, CREDS), [])
    assert caught.value.param == "reference_videos"


def r2v_priced_by_the_deployment(**params: Any) -> VideoRequest:
    """A wan2.7-r2v request validated against the row a deployment with its own price serves."""
    spec = find_model("dashscope/wan2.7-r2v")
    assert spec is not None
    return validate(spec.with_deployment_price(), prompt="Video 1 dances with Image 1", **params)


def test_wan_2_7_reference_videos_go_in_input_media_with_the_images() -> None:
    """dashscope 2.0.2 ``VideoSynthesis``'s ``media`` items: ``{type, url}``, images and videos alike."""
    req = r2v_priced_by_the_deployment(
        reference_images=[ImageInput(url="https://img.example/a.png")],
        reference_videos=[
            SourceVideo(url="https://cdn.example/a.mp4"),
            SourceVideo(url="https://cdn.example/b.mov"),
        ],
        seconds="10",
        size="1280x720",
        seed=7,
    )
    body = sent(req)
    assert body == {
        "model": "wan2.7-r2v",
        "input": {
            "prompt": "Video 1 dances with Image 1",
            "media": [
                {"type": "reference_image", "url": "https://img.example/a.png"},
                {"type": "reference_video", "url": "https://cdn.example/a.mp4"},
                {"type": "reference_video", "url": "https://cdn.example/b.mov"},
            ],
        },
        "parameters": {"duration": 10, "size": "1280*720", "seed": 7},
    }


def test_wan_2_7_makes_at_most_10_seconds_with_a_reference_video() -> None:
    req = r2v_priced_by_the_deployment(
        reference_videos=[SourceVideo(url="https://cdn.example/a.mp4")], seconds="15"
    )
    with pytest.raises(BadRequestError, match="at most 10 s") as caught:
        drive(P.create(req, CREDS), [])
    assert caught.value.param == "seconds"


def test_the_catalogue_row_alone_refuses_reference_videos_naming_the_price() -> None:
    """Validated against the catalogue row (a deployment without its own price): a 400 that says why."""
    spec = find_model("dashscope/wan2.7-r2v")
    assert spec is not None
    with pytest.raises(BadRequestError, match="only a deployment that sets its own price") as caught:
        validate(spec, prompt="x", reference_videos=[SourceVideo(url="https://cdn.example/a.mp4")])
    assert caught.value.param == "reference_videos"
