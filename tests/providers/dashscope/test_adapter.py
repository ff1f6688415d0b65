"""The dashscope adapter's flows against recorded replies: exact wire requests, every status, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

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
from vidgate.types import ImageInput, VideoRequest

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
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
    first = ImageInput(data=PNG, mime_type="image/png")
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
    [("PENDING", "queued"), ("SUSPENDED", "queued"), ("RUNNING", "in_progress")],
)
def test_running_statuses(native: str, status: str) -> None:
    assert retrieved(task(native)).status == status


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
