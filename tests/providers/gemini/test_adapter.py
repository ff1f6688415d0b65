"""The gemini adapter's flows against recorded replies: exact wire requests, §7.1 states, error mapping."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import validate
from vidgate.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOperationError,
)
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model, models_for_provider
from vidgate.providers.gemini.adapter import GeminiProvider
from vidgate.providers.registry import get_provider
from vidgate.types import ImageInput, VideoRequest

PNG = image_bytes(64, 36, "png")  # a real one: validation reads its header
JPEG = image_bytes(64, 36, "jpeg")
B64_PNG = base64.b64encode(PNG).decode()
B64_JPEG = base64.b64encode(JPEG).decode()
CREDS = Credentials(api_key="g-key")
ROOT = "https://generativelanguage.googleapis.com/v1beta"
OP = "models/veo-3.1-generate-preview/operations/abc123xyz"
FILE_URI = "https://generativelanguage.googleapis.com/v1beta/files/f1le0id:download?alt=media"
P = GeminiProvider()


def ok(body: Any) -> HttpReply:
    return HttpReply(200, {"content-type": "application/json"}, json.dumps(body).encode())


def err(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpReply:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpReply(status, dict(headers or {}), content)


def request(model: str = "gemini/veo-3.1-generate-preview", **params: Any) -> VideoRequest:
    spec = find_model(model)
    assert spec is not None
    params.setdefault("prompt", "a cat")
    return validate(spec, **params)


def create_body(req: VideoRequest, creds: Credentials = CREDS) -> tuple[dict[str, Any], str]:
    job, calls = drive(P.create(req, creds), [ok({"name": OP})])
    assert job.native_id == OP
    assert len(calls) == 1
    assert calls[0].method == "POST"
    assert calls[0].retry_safe is False
    assert calls[0].headers["x-goog-api-key"] == creds.api_key
    return calls[0].json, calls[0].url


def done(response: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": OP,
        "done": True,
        "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": response,
        },
    }


# ---- create -------------------------------------------------------------------------------------


def test_registry_and_capabilities() -> None:
    assert isinstance(get_provider("gemini"), GeminiProvider)
    # Capabilities are declared once, per model, in the catalogue rows: Veo rows have no remix/list/delete.
    rows = models_for_provider("gemini")
    assert rows
    veo = [row for row in rows if not row.model.startswith("gemini-omni-")]
    omni = [row for row in rows if row.model.startswith("gemini-omni-")]
    assert not any(row.has(f) for row in veo for f in ("remix", "list", "delete"))
    assert all(row.has("remix") and row.has("delete") and not row.has("list") for row in omni)


def test_text_to_video_body_and_job() -> None:
    req = request(seconds=4, size="1280x720")
    job, calls = drive(P.create(req, CREDS), [ok({"name": OP})])
    assert calls[0].url == f"{ROOT}/models/veo-3.1-generate-preview:predictLongRunning"
    assert calls[0].json == {
        "instances": [{"prompt": "a cat"}],
        "parameters": {"aspectRatio": "16:9", "resolution": "720p", "durationSeconds": 4, "sampleCount": 1},
    }
    assert (job.status, job.progress, job.model) == ("queued", 0, "veo-3.1-generate-preview")
    assert (job.prompt, job.size, job.seconds) == ("a cat", "1280x720", "4")


def test_image_to_video_with_options() -> None:
    req = request(
        seconds=8,
        size="1080x1920",
        input_reference=ImageInput(data=PNG),
        negative_prompt="blurry",
        person_generation="allow_adult",
        seed=42,
    )
    body, _ = create_body(req)
    assert body == {
        "instances": [{"prompt": "a cat", "image": {"bytesBase64Encoded": B64_PNG, "mimeType": "image/png"}}],
        "parameters": {
            "aspectRatio": "9:16",
            "resolution": "1080p",
            "durationSeconds": 8,
            "sampleCount": 1,
            "negativePrompt": "blurry",
            "personGeneration": "allow_adult",
            "seed": 42,
        },
    }


def test_first_and_last_frame() -> None:
    req = request(
        seconds=6,
        input_reference=ImageInput(data=PNG, mime_type="image/png"),
        last_frame=ImageInput(data=JPEG, filename="end.jpg"),
    )
    body, _ = create_body(req)
    assert body["instances"] == [
        {
            "prompt": "a cat",
            "image": {"bytesBase64Encoded": B64_PNG, "mimeType": "image/png"},
            "lastFrame": {"bytesBase64Encoded": B64_JPEG, "mimeType": "image/jpeg"},
        }
    ]


def test_reference_images() -> None:
    req = request(seconds=8, reference_images=[ImageInput(data=PNG), ImageInput(data=JPEG)])
    body, _ = create_body(req)
    assert body["instances"][0]["referenceImages"] == [
        {"image": {"bytesBase64Encoded": B64_PNG, "mimeType": "image/png"}, "referenceType": "asset"},
        {"image": {"bytesBase64Encoded": B64_JPEG, "mimeType": "image/jpeg"}, "referenceType": "asset"},
    ]
    assert body["parameters"]["durationSeconds"] == 8


def test_veo2_sends_no_resolution_and_sample_count() -> None:
    req = request("gemini/veo-2.0-generate-001", seconds=5, size="720x1280", n=2)
    body, url = create_body(req)
    assert url == f"{ROOT}/models/veo-2.0-generate-001:predictLongRunning"
    assert body["parameters"] == {"aspectRatio": "9:16", "durationSeconds": 5, "sampleCount": 2}


def test_data_url_is_decoded() -> None:
    url = "data:image/jpeg;base64," + B64_JPEG
    body, _ = create_body(request(seconds=4, input_reference=ImageInput(url=url)))
    assert body["instances"][0]["image"] == {"bytesBase64Encoded": B64_JPEG, "mimeType": "image/jpeg"}


@pytest.mark.parametrize(
    ("image", "fragment"),
    [
        (ImageInput(url="https://example.com/cat.png"), "cannot fetch images by URL"),
        (ImageInput(url="gs://bucket/cat.png"), "cannot fetch images by URL"),
        (ImageInput(file_id="file-123"), "file id"),
        (ImageInput(data=b"GIF89a" + b"\0" * 10), "unsupported image type"),
        (ImageInput(url="data:image/png;base64,!!!"), "not valid base64"),
    ],
)
def test_unusable_images_are_rejected_before_any_call(image: ImageInput, fragment: str) -> None:
    with pytest.raises(BadRequestError) as caught:  # by validation (a GIF) or by the adapter
        next(P.create(request(seconds=4, input_reference=image), CREDS))
    assert caught.value.param == "input_reference"
    assert fragment in caught.value.message


def test_extra_body_goes_to_parameters_and_webhook_to_top_level() -> None:
    hook = {"uris": ["https://example.com/hook"]}
    body, _ = create_body(request(seconds=4, extra_body={"enhancePrompt": False, "webhookConfig": hook}))
    assert body["parameters"]["enhancePrompt"] is False
    assert body["webhookConfig"] == hook
    assert "webhookConfig" not in body["parameters"]


def test_generate_audio_is_rejected() -> None:
    req = VideoRequest(
        model="veo-3.1-generate-preview",
        prompt="x",
        seconds=4,
        size="1280x720",
        aspect_ratio="16:9",
        resolution="720p",
        generate_audio=False,
    )
    with pytest.raises(BadRequestError) as caught:
        next(P.create(req, CREDS))
    assert caught.value.param == "generate_audio"


@pytest.mark.parametrize(
    ("base", "version", "root"),
    [
        ("http://127.0.0.1:9000", None, "http://127.0.0.1:9000/v1beta"),
        ("http://127.0.0.1:9000/", None, "http://127.0.0.1:9000/v1beta"),
        ("http://gw.local/gemini/v1beta", None, "http://gw.local/gemini/v1beta"),
        ("http://gw.local/gemini", "v1", "http://gw.local/gemini/v1"),
    ],
)
def test_api_base_is_the_host_root(base: str, version: str | None, root: str) -> None:
    creds = Credentials(api_key="k", api_base=base, api_version=version)
    _, url = create_body(request(seconds=4), creds)
    assert url == f"{root}/models/veo-3.1-generate-preview:predictLongRunning"


def test_missing_key_is_an_authentication_error() -> None:
    with pytest.raises(AuthenticationError):
        next(P.create(request(seconds=4), Credentials()))


def test_extra_headers_are_sent() -> None:
    creds = Credentials(api_key="k", extra_headers={"x-trace": "1"})
    _, calls = drive(P.create(request(seconds=4), creds), [ok({"name": OP})])
    assert calls[0].headers == {"x-trace": "1", "x-goog-api-key": "k"}


def test_unsupported_operations_are_declared_absent() -> None:
    for flow in (
        P.remix(OP, "again", CREDS),
        P.list(CREDS, after=None, limit=10, order="desc"),
        P.delete(OP, CREDS),
    ):
        with pytest.raises(UnsupportedOperationError) as caught:
            next(flow)
        assert caught.value.provider == "gemini"


# ---- retrieve: every §7.1 state -----------------------------------------------------------------


def retrieve(op: dict[str, Any]) -> Any:
    job, calls = drive(P.retrieve(OP, CREDS), [ok(op)])
    assert calls[0].method == "GET"
    assert calls[0].url == f"{ROOT}/{OP}"
    assert calls[0].headers["x-goog-api-key"] == "g-key"
    return job


def test_running_without_done_field() -> None:
    job = retrieve({"name": OP})
    assert (job.status, job.progress, job.model) == ("in_progress", 10, "veo-3.1-generate-preview")
    assert job.prompt is None
    assert job.size is None
    assert job.seconds is None


@pytest.mark.parametrize(
    ("metadata", "progress"), [({"progressPercent": 33.7}, 33), ({"progress": "12.5"}, 12)]
)
def test_running_with_fractional_progress(metadata: dict[str, Any], progress: int) -> None:
    job = retrieve({"name": OP, "done": False, "metadata": metadata})
    assert (job.status, job.progress) == ("in_progress", progress)


def test_done_with_samples_is_completed() -> None:
    job = retrieve(
        done({"generatedSamples": [{"video": {"uri": FILE_URI}}, {"video": {"uri": FILE_URI + "2"}}]})
    )
    assert (job.status, job.progress, job.error) == ("completed", 100, None)
    assert job.outputs == (FILE_URI, FILE_URI + "2")


def test_done_with_error_is_failed() -> None:
    job = retrieve({"name": OP, "done": True, "error": {"code": 3, "message": "The prompt was blocked."}})
    assert job.status == "failed"
    assert job.error is not None
    assert (job.error.code, job.error.message) == ("invalid_argument", "The prompt was blocked.")


def test_done_filtered_is_failed_with_reason() -> None:
    reason = "Veo could not generate 1 videos based on the prompt provided. Support codes: 1"
    job = retrieve(done({"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [reason]}))
    assert job.status == "failed"
    assert job.error is not None
    assert (job.error.code, job.error.message) == ("moderation_blocked", reason)


def test_done_with_nothing_is_failed() -> None:
    job = retrieve(done({}))
    assert job.status == "failed"
    assert job.error is not None
    assert job.error.code == "no_output"


def test_partially_filtered_with_a_sample_is_completed() -> None:
    job = retrieve(done({"generatedSamples": [{"video": {"uri": FILE_URI}}], "raiMediaFilteredCount": 1}))
    assert job.status == "completed"


def test_inline_bytes_are_kept_out_of_raw() -> None:
    encoded = base64.b64encode(b"\0" * 300).decode()
    job = retrieve(
        done({"generatedSamples": [{"video": {"encodedVideo": encoded, "encoding": "video/mp4"}}]})
    )
    assert job.outputs == ("inline:0",)
    assert encoded not in json.dumps(job.raw)


def test_bad_operation_name_is_rejected_before_any_call() -> None:
    for name in ("video_123", "models/x/operations/../../files/y", "models/x/operations/a?key=z"):
        with pytest.raises(BadRequestError):
            next(P.retrieve(name, CREDS))


# ---- download -----------------------------------------------------------------------------------


def test_download_rebuilds_the_file_uri_on_the_configured_base() -> None:
    creds = Credentials(api_key="k", api_base="http://127.0.0.1:9000")
    dl, calls = drive(
        P.download(OP, "video", creds), [ok(done({"generatedSamples": [{"video": {"uri": FILE_URI}}]}))]
    )
    assert calls[0].url == f"http://127.0.0.1:9000/v1beta/{OP}"
    assert dl.media_type == "video/mp4"
    assert dl.data is None
    assert dl.call is not None
    assert dl.call.method == "GET"
    assert dl.call.url == "http://127.0.0.1:9000/v1beta/files/f1le0id:download"
    assert dict(dl.call.params) == {"alt": "media"}
    assert dl.call.headers["x-goog-api-key"] == "k"
    assert dl.call.follow_redirects is True


def test_download_of_a_non_file_uri_uses_it_as_is() -> None:
    uri = "https://storage.example.com/signed/video.mp4?sig=1"
    dl, _ = drive(P.download(OP, "video", CREDS), [ok(done({"generatedSamples": [{"video": {"uri": uri}}]}))])
    assert dl.call is not None
    assert dl.call.url == uri


def test_download_of_inline_bytes() -> None:
    video = b"\0\0\0\x18ftypmp42" + b"x" * 50
    sample = {"video": {"encodedVideo": base64.b64encode(video).decode(), "encoding": "video/mp4"}}
    dl, _ = drive(P.download(OP, "video", CREDS), [ok(done({"generatedSamples": [sample]}))])
    assert (dl.data, dl.call, dl.media_type) == (video, None, "video/mp4")


@pytest.mark.parametrize("variant", ["thumbnail", "spritesheet", "poster"])
def test_download_variants_other_than_video_are_rejected_before_any_call(variant: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        next(P.download(OP, variant, CREDS))
    assert caught.value.param == "variant"
    assert f"'{variant}'" in caught.value.message
    assert "'video'" in caught.value.message


def test_download_of_an_unfinished_or_failed_operation() -> None:
    with pytest.raises(BadRequestError, match="not ready"):
        drive(P.download(OP, "video", CREDS), [ok({"name": OP})])
    with pytest.raises(BadRequestError, match="blocked"):
        drive(P.download(OP, "video", CREDS), [ok(done({"raiMediaFilteredReasons": ["blocked by safety"]}))])


# ---- errors -------------------------------------------------------------------------------------


def envelope(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def test_bad_key_is_400_on_gemini_and_maps_to_authentication_error() -> None:
    body = envelope(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
            }
        ],
    )
    with pytest.raises(AuthenticationError) as caught:
        drive(P.create(request(seconds=4), CREDS), [err(400, body)], P.error_for)
    assert caught.value.provider == "gemini"
    assert "API key not valid" in caught.value.message


def test_invalid_argument_names_the_param() -> None:
    message = (
        "The number value for `durationSeconds` is out of bound. "
        "Please provide a value between 4 and 8, inclusive."
    )
    error = P.error_for(err(400, envelope(400, "INVALID_ARGUMENT", message)))
    assert type(error) is BadRequestError
    assert (error.param, error.code, error.message) == ("seconds", "invalid_argument", message)


def test_field_violations_name_the_param() -> None:
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "instances[0].image", "description": "bad"}],
        }
    ]
    error = P.error_for(
        err(400, envelope(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", details))
    )
    assert error.param == "input_reference"


def test_rate_limit_with_retry_info() -> None:
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.5s"}]
    error = P.error_for(err(429, envelope(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", details)))
    assert isinstance(error, RateLimitError)
    assert (error.retry_after, error.code) == (2.5, "resource_exhausted")


def test_rate_limit_with_retry_after_header_only() -> None:
    error = P.error_for(err(429, envelope(429, "RESOURCE_EXHAUSTED", "Slow down."), {"retry-after": "3"}))
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 3.0


@pytest.mark.parametrize(
    ("status", "name", "cls"),
    [
        (403, "PERMISSION_DENIED", PermissionDeniedError),
        (404, "NOT_FOUND", NotFoundError),
        (500, "INTERNAL", InternalServerError),
        (503, "UNAVAILABLE", ServiceUnavailableError),
        (401, "UNAUTHENTICATED", AuthenticationError),
    ],
)
def test_statuses_map_to_the_tree(status: int, name: str, cls: type[Exception]) -> None:
    error = P.error_for(err(status, envelope(status, name, "nope")))
    assert type(error) is cls
    assert error.message == "nope"


def test_non_json_error_body() -> None:
    error = P.error_for(err(502, b"<html>Bad Gateway</html>"))
    assert isinstance(error, APIConnectionError)
    assert "Bad Gateway" in error.message


def test_not_found_is_thrown_into_the_retrieve_flow() -> None:
    with pytest.raises(NotFoundError):
        drive(
            P.retrieve(OP, CREDS), [err(404, envelope(404, "NOT_FOUND", "Operation not found."))], P.error_for
        )


# ---- Veo 3.1 GA ids -----------------------------------------------------------------------------


def test_veo_3_1_ga_rows_are_live_and_offer_4k_frames_and_references() -> None:
    """The GA ids replace the previews shut on 2026-10-22 (field-2026-12.md §4.1)."""
    ga = find_model("gemini/veo-3.1-generate-001")
    fast = find_model("gemini/veo-3.1-fast-generate-001")
    assert ga is not None
    assert fast is not None
    assert (ga.retires_on, fast.retires_on) == (None, None)
    assert set(ga.sizes.values()) == set(fast.sizes.values()) == {"720p", "1080p", "4k"}
    assert {"image_input", "last_frame", "reference_images"} <= ga.features
    assert {"image_input", "last_frame"} <= fast.features
    assert "reference_images" not in fast.features


def test_veo_3_1_ga_4k_with_first_last_frame_and_references() -> None:
    req = request(
        "gemini/veo-3.1-generate-001",
        seconds=8,
        size="3840x2160",
        input_reference=ImageInput(data=PNG),
        last_frame=ImageInput(data=JPEG),
        reference_images=[ImageInput(data=PNG)],
    )
    body, url = create_body(req)
    assert url == f"{ROOT}/models/veo-3.1-generate-001:predictLongRunning"
    assert body == {
        "instances": [
            {
                "prompt": "a cat",
                "image": {"bytesBase64Encoded": B64_PNG, "mimeType": "image/png"},
                "lastFrame": {"bytesBase64Encoded": B64_JPEG, "mimeType": "image/jpeg"},
                "referenceImages": [
                    {
                        "image": {"bytesBase64Encoded": B64_PNG, "mimeType": "image/png"},
                        "referenceType": "asset",
                    }
                ],
            }
        ],
        "parameters": {"aspectRatio": "16:9", "resolution": "4k", "durationSeconds": 8, "sampleCount": 1},
    }


def test_veo_3_1_fast_ga_refuses_reference_images_and_short_4k() -> None:
    with pytest.raises(BadRequestError) as refs:
        request("gemini/veo-3.1-fast-generate-001", reference_images=[ImageInput(data=PNG)])
    assert refs.value.param == "reference_images"
    with pytest.raises(BadRequestError) as short:
        request("gemini/veo-3.1-fast-generate-001", seconds=4, size="2160x3840")
    assert short.value.param == "seconds"
