"""The Runway adapter's flows against recorded replies (shapes from the runwayml 5.24.0 SDK types)."""

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
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model
from vidgate.providers.runway.adapter import RunwayProvider
from vidgate.types import ImageInput, SourceVideo, VideoRequest

CREDS = Credentials(api_key="key_abc", api_version="2024-11-06")
TASK = "17f20503-6c24-4c16-946b-35dbbce2af2f"
PNG = image_bytes(64, 36, "png")  # a real one: validation reads its header
provider = RunwayProvider()


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpReply:
    return HttpReply(status, headers or {}, json.dumps(body).encode())


def request(model: str, **params: Any) -> VideoRequest:
    spec = find_model(f"runway/{model}")
    assert spec is not None
    return validate(spec, prompt=params.pop("prompt", "a cat"), **params)


def task(status: str, **fields: Any) -> dict[str, Any]:
    return {"id": TASK, "createdAt": "2026-12-06T08:00:00.000Z", "status": status, **fields}


# ---- create ---------------------------------------------------------------------------------------


def test_text_to_video_body_headers_and_job() -> None:
    job, calls = drive(
        provider.create(request("gen4.5", seconds=4, size="720x1280", seed=7), CREDS), [reply({"id": TASK})]
    )
    (call,) = calls
    assert (call.method, call.url) == ("POST", "https://api.dev.runwayml.com/v1/text_to_video")
    assert call.headers["Authorization"] == "Bearer key_abc"
    assert call.headers["X-Runway-Version"] == "2024-11-06"
    assert call.json == {
        "model": "gen4.5",
        "promptText": "a cat",
        "ratio": "720:1280",
        "duration": 4,
        "seed": 7,
    }
    assert not call.retry_safe
    assert (job.native_id, job.status, job.size, job.seconds) == (TASK, "queued", "720x1280", "4")


def test_image_to_video_sends_a_data_uri() -> None:
    req = request("gen4_turbo", input_reference=ImageInput(data=PNG, mime_type="image/png"), size="960x960")
    _, calls = drive(provider.create(req, CREDS), [reply({"id": TASK})])
    assert calls[0].url.endswith("/v1/image_to_video")
    assert calls[0].json["promptImage"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert calls[0].json["ratio"] == "960:960"


def test_first_and_last_frame_and_audio_switch() -> None:
    req = request(
        "veo3.1_fast",
        input_reference=ImageInput(url="https://example.com/a.png"),
        last_frame=ImageInput(data=PNG),
        generate_audio=False,
        negative_prompt="blur",
    )
    _, calls = drive(provider.create(req, CREDS), [reply({"id": TASK})])
    body = calls[0].json
    assert body["promptImage"] == [
        {"uri": "https://example.com/a.png", "position": "first"},
        {"uri": "data:image/png;base64," + base64.b64encode(PNG).decode(), "position": "last"},
    ]
    assert (body["audio"], body["negativePrompt"], body["duration"]) == (False, "blur", 8)


def test_base_url_and_extra_body_beside_the_validated_fields() -> None:
    creds = Credentials(api_key="k", api_base="http://127.0.0.1:9/")
    req = request("gen4.5", extra_body={"contentModeration": {"publicFigureThreshold": "low"}})
    _, calls = drive(provider.create(req, creds), [reply({"id": TASK})])
    assert calls[0].url == "http://127.0.0.1:9/v1/text_to_video"
    assert calls[0].headers["X-Runway-Version"] == "2024-11-06"  # the default when none is configured
    assert calls[0].json["contentModeration"] == {"publicFigureThreshold": "low"}


@pytest.mark.parametrize(
    ("model", "params", "param"),
    [
        ("gen4_turbo", {}, "input_reference"),  # image-to-video only
        ("gemini_omni_flash", {}, "input_reference"),  # image-to-video only
        ("gen4.5", {"size": "1104:832".replace(":", "x")}, "size"),  # text-to-video: two ratios only
        ("gen4.5", {"input_reference": ImageInput(file_id="file-1")}, "input_reference"),
        ("gen4.5", {"input_reference": ImageInput(url="http://insecure/a.png")}, "input_reference"),
        ("gen4.5", {"extra_body": {"ratio": "1280:720"}}, "extra_body.ratio"),
        ("gen4.5", {"extra_body": {"outputFormat": "prores"}}, "extra_body.outputFormat"),
    ],
)
def test_what_the_model_cannot_honour_is_refused_before_any_call(
    model: str, params: dict[str, Any], param: str
) -> None:
    with pytest.raises(BadRequestError) as caught:
        drive(provider.create(request(model, **params), CREDS), [])
    assert caught.value.param == param


def test_gen45_image_to_video_takes_the_wider_ratios() -> None:
    req = request("gen4.5", input_reference=ImageInput(data=PNG), size="1584x672")
    _, calls = drive(provider.create(req, CREDS), [reply({"id": TASK})])
    assert calls[0].json["ratio"] == "1584:672"


def test_missing_key_is_an_authentication_error() -> None:
    with pytest.raises(AuthenticationError):
        drive(provider.create(request("gen4.5"), Credentials()), [])


def test_create_without_an_id_is_a_bad_gateway() -> None:
    with pytest.raises(APIError) as caught:
        drive(provider.create(request("gen4.5"), CREDS), [reply({})])
    assert caught.value.status_code == 502


# ---- retrieve -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("native", "status", "progress"),
    [
        (task("PENDING", estimatedCost={"credits": 60}), "queued", 0),
        (task("THROTTLED", estimatedCost={"credits": 60}), "queued", 0),
        (task("RUNNING", progress=0.437, estimatedCost={"credits": 60}), "in_progress", 43),
        (task("RUNNING", progress=1.0), "in_progress", 99),
        (task("RUNNING"), "in_progress", 0),
        (
            task("SUCCEEDED", output=["https://cdn.example/v.mp4?sig=1"], cost={"credits": 60}),
            "completed",
            100,
        ),
    ],
)
def test_every_live_status_is_mapped(native: dict[str, Any], status: str, progress: int) -> None:
    job, calls = drive(provider.retrieve(TASK, CREDS), [reply(native)])
    assert (calls[0].method, calls[0].url) == ("GET", f"https://api.dev.runwayml.com/v1/tasks/{TASK}")
    assert (job.status, job.progress, job.error) == (status, progress, None)
    assert job.created_at == 1_796_544_000


@pytest.mark.parametrize(
    ("native", "code"),
    [
        (
            task(
                "FAILED", failure="bad output", failureCode="INTERNAL.BAD_OUTPUT.CODE01", cost={"credits": 0}
            ),
            "INTERNAL.BAD_OUTPUT.CODE01",
        ),
        (
            task("FAILED", failure="moderated", failureCode="SAFETY.INPUT.IMAGE", cost={"credits": 0}),
            "moderation_blocked",
        ),
        (task("FAILED", failure="no code", cost={"credits": 0}), "generation_failed"),
        (task("CANCELLED", cost={"credits": 0}), "cancelled"),
    ],
)
def test_failed_and_cancelled_tasks_carry_the_reason(native: dict[str, Any], code: str) -> None:
    job, _ = drive(provider.retrieve(TASK, CREDS), [reply(native)])
    assert job.status == "failed"
    assert job.error is not None
    assert job.error.code == code
    assert job.error.message


@pytest.mark.parametrize(
    ("native", "progress"), [(task("EXPLODED"), 0), (task("UPSCALING", progress=0.5), 50)]
)
def test_a_status_runway_adds_later_keeps_the_job_running(native: dict[str, Any], progress: int) -> None:
    """Like the other task APIs: not a 502 that would fail a paid job or a client's retrieve."""
    job, _ = drive(provider.retrieve(TASK, CREDS), [reply(native)])
    assert (job.status, job.progress, job.error, job.outputs) == ("in_progress", progress, None, ())
    with pytest.raises(BadRequestError):  # nor is it downloadable
        drive(provider.download(TASK, "video", CREDS), [reply(native)])


def test_a_malformed_task_id_is_refused_before_any_call() -> None:
    with pytest.raises(BadRequestError) as caught:
        drive(provider.retrieve("../organization", CREDS), [])
    assert caught.value.param == "video_id"


# ---- download / delete ----------------------------------------------------------------------------


def test_download_reads_the_task_again_for_a_fresh_url_without_the_secret() -> None:
    fresh = "https://cdn.example/out.mp4?Expires=2&Signature=new"
    download, calls = drive(
        provider.download(TASK, "video", CREDS), [reply(task("SUCCEEDED", output=[fresh]))]
    )
    assert calls[0].url.endswith(f"/v1/tasks/{TASK}")
    assert download.call is not None
    assert download.call.url == fresh
    assert "Authorization" not in download.call.headers
    assert download.media_type == "video/mp4"


def test_download_of_an_unfinished_task_or_another_variant_is_refused() -> None:
    with pytest.raises(BadRequestError) as caught:
        drive(provider.download(TASK, "video", CREDS), [reply(task("RUNNING", progress=0.5))])
    assert caught.value.code == "video_not_ready"
    with pytest.raises(BadRequestError) as caught:
        drive(provider.download(TASK, "thumbnail", CREDS), [])
    assert caught.value.param == "variant"


def test_delete_is_runways_task_delete() -> None:
    done, calls = drive(provider.delete(TASK, CREDS), [HttpReply(204, {})])
    assert done is True
    assert (calls[0].method, calls[0].url) == ("DELETE", f"https://api.dev.runwayml.com/v1/tasks/{TASK}")


# ---- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, {"error": "Invalid API key."}, AuthenticationError),
        (404, {"error": "Task not found."}, NotFoundError),
        (429, {"error": "Rate limit exceeded."}, RateLimitError),
        (500, {"error": "Internal server error."}, InternalServerError),
    ],
)
def test_error_replies_map_to_the_error_classes(
    status: int, body: dict[str, str], kind: type[APIError]
) -> None:
    error = provider.error_for(reply(body, status, {"retry-after": "3"}))
    assert type(error) is kind
    assert error.message == body["error"]
    assert error.retry_after == 3.0


def test_validation_issues_name_the_field() -> None:
    body = {
        "error": "Validation of body failed",
        "issues": [{"path": ["ratio"], "message": "Invalid enum value."}],
    }
    error = provider.error_for(reply(body, 400))
    assert isinstance(error, BadRequestError)
    assert error.param == "ratio"


def test_a_non_json_error_keeps_the_text() -> None:
    error = provider.error_for(HttpReply(502, {}, b"Bad Gateway"))
    assert "Bad Gateway" in error.message
    assert error.retry_after is None


def test_gemini_omni_flash_is_image_to_video_with_its_first_frame() -> None:
    req = request("gemini_omni_flash", input_reference=ImageInput(data=PNG), size="720x1280", seconds="3")
    _, calls = drive(provider.create(req, CREDS), [reply({"id": TASK})])
    assert calls[0].url.endswith("/v1/image_to_video")
    assert {k: calls[0].json[k] for k in ("model", "ratio", "duration")} == {
        "model": "gemini_omni_flash",
        "ratio": "720:1280",
        "duration": 3,
    }


def test_hailuo3_sends_an_aspect_ratio_and_its_resolution() -> None:
    _, calls = drive(
        provider.create(request("hailuo3", seconds=6, size="768x1366"), CREDS), [reply({"id": TASK})]
    )
    assert calls[0].json == {
        "model": "hailuo3",
        "promptText": "a cat",
        "ratio": "9:16",
        "resolution": "768p",
        "duration": 6,
    }
    with pytest.raises(BadRequestError) as caught:  # the priced resolution is the size's, never extra_body's
        drive(provider.create(request("hailuo3", extra_body={"resolution": "2k"}), CREDS), [])
    assert caught.value.param == "extra_body.resolution"


def test_hailuo3_reference_videos_at_a_deployments_price() -> None:
    """No catalogue price covers them: validated against the row a self-priced deployment serves."""
    spec = find_model("runway/hailuo3")
    assert spec is not None
    clip = SourceVideo(url="https://cdn.example/dancer.mp4")
    with pytest.raises(BadRequestError, match="only a deployment that sets its own price"):
        validate(spec, prompt="Video 1 dances", reference_videos=[clip])
    priced = spec.with_deployment_price()
    req = validate(priced, prompt="Video 1 dances", reference_videos=[clip])
    _, calls = drive(provider.create(req, CREDS), [reply({"id": TASK})])
    assert calls[0].url.endswith("/v1/text_to_video")
    assert calls[0].json["referenceVideos"] == [{"type": "video", "uri": "https://cdn.example/dancer.mp4"}]
    framed = validate(priced, prompt="x", input_reference=ImageInput(data=PNG), reference_videos=[clip])
    with pytest.raises(BadRequestError, match="no reference_videos with an input_reference") as caught:
        drive(provider.create(framed, CREDS), [])
    assert caught.value.param == "reference_videos"


def test_seedance_reference_images_go_to_text_to_video_references() -> None:
    """runwayml 5.24.0's Seedance2 ``references``: ``[{uri}]`` (an https URL, or bytes as a data URI),
    text_to_video only; up to 9 at the row's price."""
    refs = [ImageInput(url="https://cdn.example/hero.png"), ImageInput(data=PNG, mime_type="image/png")]
    _, calls = drive(
        provider.create(request("seedance2", prompt="Image 1 waves", reference_images=refs), CREDS),
        [reply({"id": TASK})],
    )
    assert calls[0].url == "https://api.dev.runwayml.com/v1/text_to_video"
    assert calls[0].json["references"] == [
        {"uri": "https://cdn.example/hero.png"},
        {"uri": "data:image/png;base64," + base64.b64encode(PNG).decode()},
    ]
    assert "promptImage" not in calls[0].json
    framed = request("seedance2_fast", input_reference=ImageInput(data=PNG), reference_images=refs[:1])
    with pytest.raises(BadRequestError, match="no reference_images with an input_reference") as caught:
        drive(provider.create(framed, CREDS), [])
    assert caught.value.param == "reference_images"
    with pytest.raises(BadRequestError, match="At most 9 reference_images") as caught:
        request("seedance2_mini", reference_images=refs[:1] * 10)
    assert caught.value.param == "reference_images"


def test_references_on_a_model_without_them_are_refused_before_any_call() -> None:
    """The gateway checks the row; the adapter still refuses a model whose params have no references."""
    spec = find_model("runway/gen4.5")
    assert spec is not None
    req = replace(validate(spec, prompt="x"), reference_images=(ImageInput(url="https://e/a.png"),))
    with pytest.raises(BadRequestError, match=r"gen4\.5 takes no reference_images") as caught:
        drive(provider.create(req, CREDS), [])
    assert caught.value.param == "reference_images"


def test_hailuo3_reference_images_and_seedance_reference_videos_at_a_deployments_price() -> None:
    hailuo = find_model("runway/hailuo3")
    seedance = find_model("runway/seedance2_5")
    assert hailuo is not None
    assert seedance is not None
    image = ImageInput(url="https://cdn.example/hero.png")
    clip = SourceVideo(url="https://cdn.example/dancer.mp4")
    with pytest.raises(BadRequestError, match="only a deployment that sets its own price") as caught:
        validate(hailuo, prompt="Image 1 waves", reference_images=[image])
    assert caught.value.param == "reference_images"
    with pytest.raises(BadRequestError, match="only a deployment that sets its own price"):
        validate(seedance, prompt="Video 1 dances", reference_videos=[clip])
    req = validate(hailuo.with_deployment_price(), prompt="Image 1 waves", reference_images=[image])
    _, calls = drive(provider.create(req, CREDS), [reply({"id": TASK})])
    assert calls[0].json["references"] == [{"uri": "https://cdn.example/hero.png"}]
    req = validate(
        seedance.with_deployment_price(), prompt="x", reference_images=[image], reference_videos=[clip]
    )
    _, calls = drive(provider.create(req, CREDS), [reply({"id": TASK})])
    assert calls[0].url.endswith("/v1/text_to_video")
    assert calls[0].json["references"] == [{"uri": "https://cdn.example/hero.png"}]
    assert calls[0].json["referenceVideos"] == [{"type": "video", "uri": "https://cdn.example/dancer.mp4"}]
    plain = validate(
        seedance.with_deployment_price(), prompt="x", reference_videos=[SourceVideo(url="http://e/a.mp4")]
    )
    with pytest.raises(BadRequestError, match="https URL") as caught:
        drive(provider.create(plain, CREDS), [])
    assert caught.value.param == "reference_videos"


def test_native_reference_fields_cannot_arrive_through_extra_body() -> None:
    for key, param in (("references", "reference_images"), ("referenceVideos", "reference_videos")):
        req = request("seedance2", extra_body={key: [{"uri": "https://e/a.png"}]})
        with pytest.raises(BadRequestError, match=param):
            drive(provider.create(req, CREDS), [])
