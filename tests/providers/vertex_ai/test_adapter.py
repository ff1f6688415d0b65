"""The vertex_ai adapter's flows against recorded replies: endpoints, bodies, §7.1 states, outputs, errors."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tests.support.images import image_bytes

from vidgate.catalog import validate
from vidgate.errors import AuthenticationError, BadRequestError, RateLimitError, UnsupportedOperationError
from vidgate.providers.base import Credentials, HttpReply, drive
from vidgate.providers.catalogue import find_model, models_for_provider
from vidgate.providers.registry import get_provider
from vidgate.providers.vertex_ai.adapter import VertexProvider
from vidgate.types import ImageInput, VideoRequest

PNG = image_bytes(64, 36, "png")  # a real one: validation reads its header
B64_PNG = base64.b64encode(PNG).decode()
CREDS = Credentials(project="my-proj", location="us-central1", access_token="ya29.token")
MODEL_PATH = "projects/my-proj/locations/us-central1/publishers/google/models/veo-3.1-generate-001"
ROOT = "https://us-central1-aiplatform.googleapis.com/v1"
OP = f"{MODEL_PATH}/operations/1b2c3d4e-0000-4aba-bb34-3e1ccb8afcc8"
P = VertexProvider()


def ok(body: Any) -> HttpReply:
    return HttpReply(200, {"content-type": "application/json"}, json.dumps(body).encode())


def request(model: str = "vertex_ai/veo-3.1-generate-001", **params: Any) -> VideoRequest:
    spec = find_model(model)
    assert spec is not None
    params.setdefault("prompt", "a cat")
    return validate(spec, **params)


def create(req: VideoRequest, creds: Credentials = CREDS) -> tuple[dict[str, Any], str]:
    job, calls = drive(P.create(req, creds), [ok({"name": OP})])
    assert (job.native_id, job.status) == (OP, "queued")
    assert calls[0].method == "POST"
    assert calls[0].retry_safe is False
    assert calls[0].headers["Authorization"] == f"Bearer {creds.access_token}"
    return calls[0].json, calls[0].url


def done(response: dict[str, Any]) -> dict[str, Any]:
    body = {"@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse", **response}
    return {"name": OP, "done": True, "response": body}


def test_registry_and_capabilities() -> None:
    assert isinstance(get_provider("vertex_ai"), VertexProvider)
    assert isinstance(get_provider("vertex"), VertexProvider)
    rows = models_for_provider("vertex_ai")
    assert rows
    veo = [row for row in rows if not row.model.startswith("gemini-omni-")]
    omni = [row for row in rows if row.model.startswith("gemini-omni-")]
    assert not any(row.has(f) for row in veo for f in ("remix", "list", "delete"))
    assert all(row.has("remix") and row.has("delete") and not row.has("list") for row in omni)


def test_text_to_video_body_with_audio_default() -> None:
    body, url = create(request(seconds=4, size="1280x720"))
    assert url == f"{ROOT}/{MODEL_PATH}:predictLongRunning"
    assert body == {
        "instances": [{"prompt": "a cat"}],
        "parameters": {
            "aspectRatio": "16:9",
            "resolution": "720p",
            "durationSeconds": 4,
            "sampleCount": 1,
            "generateAudio": True,
        },
    }


def test_all_options() -> None:
    req = request(
        seconds=8,
        size="2160x3840",
        input_reference=ImageInput(data=PNG),
        last_frame=ImageInput(url="gs://bucket/end.png"),
        negative_prompt="blur",
        person_generation="dont_allow",
        seed=7,
        n=4,
        generate_audio=False,
        extra_body={"storageUri": "gs://bucket/out", "labels": {"team": "a"}},
    )
    body, _ = create(req)
    assert body == {
        "instances": [
            {
                "prompt": "a cat",
                "image": {"bytesBase64Encoded": B64_PNG, "mimeType": "image/png"},
                "lastFrame": {"gcsUri": "gs://bucket/end.png", "mimeType": "image/png"},
            }
        ],
        "parameters": {
            "aspectRatio": "9:16",
            "resolution": "4k",
            "durationSeconds": 8,
            "sampleCount": 4,
            "negativePrompt": "blur",
            "personGeneration": "dont_allow",
            "seed": 7,
            "generateAudio": False,
            "storageUri": "gs://bucket/out",
        },
        "labels": {"team": "a"},
    }


def test_reference_images() -> None:
    body, _ = create(request(seconds=8, reference_images=[ImageInput(data=PNG)]))
    assert body["instances"][0]["referenceImages"] == [
        {"image": {"bytesBase64Encoded": B64_PNG, "mimeType": "image/png"}, "referenceType": "asset"}
    ]


def test_veo2_has_no_resolution_nor_audio() -> None:
    body, url = create(request("vertex_ai/veo-2.0-generate-001", seconds=7, n=3, seed=1))
    assert (
        url
        == f"{ROOT}/{MODEL_PATH.replace('veo-3.1-generate-001', 'veo-2.0-generate-001')}:predictLongRunning"
    )
    assert body["parameters"] == {"aspectRatio": "16:9", "durationSeconds": 7, "sampleCount": 3, "seed": 1}


@pytest.mark.parametrize(
    ("image", "fragment"),
    [
        (ImageInput(url="https://x.test/a.png"), "cannot fetch images by URL"),
        (ImageInput(data=image_bytes(64, 36, "webp")), "unsupported image type 'image/webp'"),
        (ImageInput(url="gs://bucket/no-extension"), "give the mime type"),
    ],
)
def test_unusable_images_rejected_before_any_call(image: ImageInput, fragment: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        next(P.create(request(seconds=4, input_reference=image), CREDS))
    assert caught.value.param == "input_reference"
    assert fragment in caught.value.message


@pytest.mark.parametrize(
    ("location", "root"),
    [
        ("us-central1", "https://us-central1-aiplatform.googleapis.com/v1"),
        ("global", "https://aiplatform.googleapis.com/v1"),
        ("eu", "https://aiplatform.eu.rep.googleapis.com/v1"),
    ],
)
def test_default_endpoint_per_location(location: str, root: str) -> None:
    creds = Credentials(project="p", location=location, access_token="t")
    _, url = create(request(seconds=4), creds)
    model_path = f"projects/p/locations/{location}/publishers/google/models/veo-3.1-generate-001"
    assert url == f"{root}/{model_path}:predictLongRunning"


def test_custom_base_and_version() -> None:
    creds = Credentials(
        project="p", location="l1", access_token="t", api_base="http://127.0.0.1:7/", api_version="v1beta1"
    )
    _, url = create(request(seconds=4), creds)
    assert url.startswith("http://127.0.0.1:7/v1beta1/projects/p/locations/l1/publishers/google/models/")


@pytest.mark.parametrize(
    ("creds", "param"),
    [
        (Credentials(location="us-central1", access_token="t"), "vertex_project"),
        (Credentials(project="p", access_token="t"), "vertex_location"),
        (Credentials(project="p/../x", location="us-central1", access_token="t"), "vertex_project"),
    ],
)
def test_missing_or_bad_settings_are_named(creds: Credentials, param: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        next(P.create(request(seconds=4), creds))
    assert caught.value.param == param


def test_missing_token_says_how_to_get_one() -> None:
    with pytest.raises(AuthenticationError, match="VERTEXAI_ACCESS_TOKEN"):
        next(P.create(request(seconds=4), Credentials(project="p", location="us-central1")))


def test_unsupported_operations() -> None:
    for flow in (
        P.remix(OP, "x", CREDS),
        P.list(CREDS, after=None, limit=1, order="asc"),
        P.delete(OP, CREDS),
    ):
        with pytest.raises(UnsupportedOperationError):
            next(flow)


# ---- polling ------------------------------------------------------------------------------------


def retrieve(op: dict[str, Any]) -> Any:
    job, calls = drive(P.retrieve(OP, CREDS), [ok(op)])
    assert calls[0].method == "POST"
    assert calls[0].url == f"{ROOT}/{MODEL_PATH}:fetchPredictOperation"
    assert calls[0].json == {"operationName": OP}
    return job


def test_running() -> None:
    job = retrieve({"name": OP})
    assert (job.status, job.model) == ("in_progress", "veo-3.1-generate-001")
    assert retrieve({"name": OP, "done": False, "metadata": {"progressPercent": 0.5}}).progress == 0


def test_inline_output_is_completed() -> None:
    job = retrieve(
        done(
            {"raiMediaFilteredCount": 0, "videos": [{"bytesBase64Encoded": "AAAA", "mimeType": "video/mp4"}]}
        )
    )
    assert (job.status, job.outputs) == ("completed", ("inline:0",))
    assert "AAAA" not in json.dumps(job.raw)


def test_gcs_output_is_completed() -> None:
    uri = "gs://bucket/out/123/sample_0.mp4"
    job = retrieve(done({"videos": [{"gcsUri": uri, "mimeType": "video/mp4"}]}))
    assert (job.status, job.outputs) == ("completed", (uri,))


def test_filtered_and_failed() -> None:
    filtered = retrieve(
        done({"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["Support codes: 42237218"]})
    )
    assert filtered.status == "failed"
    assert filtered.error is not None
    assert (filtered.error.code, filtered.error.message) == ("moderation_blocked", "Support codes: 42237218")
    failed = retrieve({"name": OP, "done": True, "error": {"code": 13, "message": "Internal error."}})
    assert failed.error is not None
    assert (failed.status, failed.error.code) == ("failed", "internal")


def test_bad_operation_name_is_rejected() -> None:
    with pytest.raises(BadRequestError):
        next(P.retrieve("models/veo/operations/1", CREDS))


# ---- download -----------------------------------------------------------------------------------


def test_download_inline_bytes() -> None:
    video = b"\0\0\0\x18ftypmp42" + b"v" * 40
    op = done({"videos": [{"bytesBase64Encoded": base64.b64encode(video).decode(), "mimeType": "video/mp4"}]})
    dl, calls = drive(P.download(OP, "video", CREDS), [ok(op)])
    assert calls[0].url.endswith(":fetchPredictOperation")
    assert (dl.data, dl.call) == (video, None)


@pytest.mark.parametrize(
    ("api_base", "storage"),
    [
        (None, "https://storage.googleapis.com"),
        ("https://us-central1-aiplatform.googleapis.com", "https://storage.googleapis.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ],
)
def test_download_gcs_object_through_the_json_api(api_base: str | None, storage: str) -> None:
    creds = Credentials(project="my-proj", location="us-central1", access_token="tok", api_base=api_base)
    op = done({"videos": [{"gcsUri": "gs://my-bucket/out dir/op1/sample_0.mp4", "mimeType": "video/mp4"}]})
    dl, _ = drive(P.download(OP, "video", creds), [ok(op)])
    assert dl.call is not None
    assert dl.call.url == f"{storage}/storage/v1/b/my-bucket/o/out%20dir%2Fop1%2Fsample_0.mp4"
    assert dict(dl.call.params) == {"alt": "media"}
    assert dl.call.headers["Authorization"] == "Bearer tok"


def test_download_thumbnail_is_rejected() -> None:
    with pytest.raises(BadRequestError) as caught:
        next(P.download(OP, "thumbnail", CREDS))
    assert caught.value.param == "variant"


# ---- errors -------------------------------------------------------------------------------------


def test_error_mapping() -> None:
    unauth = {
        "error": {
            "code": 401,
            "message": "Request had invalid authentication credentials.",
            "status": "UNAUTHENTICATED",
        }
    }
    with pytest.raises(AuthenticationError):
        drive(
            P.create(request(seconds=4), CREDS),
            [HttpReply(401, {}, json.dumps(unauth).encode())],
            P.error_for,
        )
    quota = {
        "error": {
            "code": 429,
            "message": "Quota exceeded for aiplatform.googleapis.com.",
            "status": "RESOURCE_EXHAUSTED",
        }
    }
    error = P.error_for(HttpReply(429, {"retry-after": "4"}, json.dumps(quota).encode()))
    assert isinstance(error, RateLimitError)
    assert (error.retry_after, error.provider) == (4.0, "vertex_ai")


# ---- Veo 3.1 GA ids -----------------------------------------------------------------------------


def test_veo_3_1_lite_ga_has_no_4k_nor_audio_switch() -> None:
    lite = find_model("vertex_ai/veo-3.1-lite-generate-001")
    assert lite is not None
    assert lite.retires_on is None
    assert set(lite.sizes.values()) == {"720p", "1080p"}
    body, url = create(request("vertex_ai/veo-3.1-lite-generate-001", seconds=8, size="1080x1920"))
    assert url == (
        f"{ROOT}/projects/my-proj/locations/us-central1/publishers/google/models/"
        "veo-3.1-lite-generate-001:predictLongRunning"
    )
    assert body["parameters"] == {
        "aspectRatio": "9:16",
        "resolution": "1080p",
        "durationSeconds": 8,
        "sampleCount": 1,
    }
    with pytest.raises(BadRequestError) as four_k:
        request("vertex_ai/veo-3.1-lite-generate-001", size="3840x2160")
    assert four_k.value.param == "size"


def test_veo_3_1_ga_output_to_storage_uri() -> None:
    """``storageUri`` (a ``gs://`` prefix) makes Vertex write objects instead of answering inline."""
    body, _ = create(
        request(
            "vertex_ai/veo-3.1-fast-generate-001",
            seconds=8,
            size="3840x2160",
            extra_body={"storageUri": "gs://b/out"},
        )
    )
    assert body["parameters"]["storageUri"] == "gs://b/out"
    assert body["parameters"]["resolution"] == "4k"
