"""The Gemini emulator judged by the official google-genai client over loopback (2.34.0: 3.x has no Veo
on the Gemini API, see tests/support/genai_versions.py) and by raw HTTP."""

from __future__ import annotations

import asyncio
import base64
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from google import genai
from google.genai import errors, types
from PIL import Image
from tests.support.genai_ops import wait
from tests.support.genai_versions import gemini_api_veo_judge
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.gemini.emulator import create_app

KEY = "gemini-test-key"
MODEL = "veo-3.1-generate-preview"
pytestmark = pytest.mark.filterwarnings("ignore:The generate_videos method with prompt:DeprecationWarning")


def png(width: int = 64, height: int = 36) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def base_url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> genai.Client:
    return genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=base_url))


def generated(op: types.GenerateVideosOperation) -> list[types.GeneratedVideo]:
    assert op.error is None
    assert op.response is not None
    assert op.response.generated_videos
    return op.response.generated_videos


# ---- google-genai -------------------------------------------------------------------------------


@gemini_api_veo_judge
def test_text_to_video_generate_poll_download(client: genai.Client) -> None:
    op = client.models.generate_videos(
        model=MODEL,
        prompt="a red fox",
        config=types.GenerateVideosConfig(duration_seconds=4, aspect_ratio="16:9"),
    )
    assert op.name is not None
    assert op.name.startswith(f"models/{MODEL}/operations/")
    video = generated(wait(client, op))[0].video
    assert video is not None
    assert video.uri is not None
    assert video.uri.startswith("https://generativelanguage.googleapis.com/v1beta/files/")
    data = client.files.download(file=video)
    assert video.video_bytes == data
    info = probe(data)
    assert (info.width, info.height, info.codec) == (1280, 720, "h264")
    assert info.duration == pytest.approx(4.0, abs=0.1)


@gemini_api_veo_judge
def test_image_to_video_portrait(client: genai.Client) -> None:
    op = client.models.generate_videos(
        model=MODEL,
        prompt="the picture comes alive",
        image=types.Image(image_bytes=png(), mime_type="image/png"),
        config=types.GenerateVideosConfig(duration_seconds=4, aspect_ratio="9:16", resolution="720p"),
    )
    video = generated(wait(client, op))[0]
    info = probe(client.files.download(file=video))
    assert (info.width, info.height) == (720, 1280)


@gemini_api_veo_judge
def test_source_form_with_two_samples_on_veo2(client: genai.Client) -> None:
    op = client.models.generate_videos(
        model="veo-2.0-generate-001",
        source=types.GenerateVideosSource(prompt="two waves"),
        config=types.GenerateVideosConfig(number_of_videos=2, duration_seconds=5),
    )
    videos = generated(wait(client, op))
    assert len(videos) == 2
    first, second = (client.files.download(file=v) for v in videos)
    assert first != second  # each sample is its own render
    assert probe(first).duration == pytest.approx(5.0, abs=0.1)


@gemini_api_veo_judge
async def test_async_client(client: genai.Client) -> None:
    op = await client.aio.models.generate_videos(
        model=MODEL, source=types.GenerateVideosSource(prompt="async"), config={"duration_seconds": 4}
    )
    for _ in range(600):
        if op.done:
            break
        await asyncio.sleep(0.02)
        op = await client.aio.operations.get(op)
    video = generated(op)[0]
    assert probe(await client.aio.files.download(file=video)).width == 1280


@gemini_api_veo_judge
def test_wrong_key_is_a_client_error(base_url: str) -> None:
    wrong = genai.Client(api_key="not-the-key", http_options=types.HttpOptions(base_url=base_url))
    with pytest.raises(errors.ClientError) as caught:
        wrong.models.generate_videos(model=MODEL, prompt="x")
    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.message == "API key not valid. Please pass a valid API key."


@gemini_api_veo_judge
def test_duration_out_of_bound(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_videos(
            model=MODEL, prompt="x", config=types.GenerateVideosConfig(duration_seconds=20)
        )
    assert caught.value.code == 400
    assert caught.value.message == (
        "The number value for `durationSeconds` is out of bound. "
        "Please provide a value between 4 and 8, inclusive."
    )


@gemini_api_veo_judge
def test_unknown_operation_and_model(client: genai.Client) -> None:
    unknown = types.GenerateVideosOperation.model_validate(
        {"name": f"models/{MODEL}/operations/doesnotexist1"}
    )
    with pytest.raises(errors.ClientError) as caught:
        client.operations.get(unknown)
    assert (caught.value.code, caught.value.status) == (404, "NOT_FOUND")
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_videos(model="veo-9-imaginary", prompt="x")
    assert caught.value.code == 404


# ---- raw HTTP: auth, ownership, storage, validation, outcomes, faults ------------------------------


def create(http: httpx.Client, body: dict[str, Any], model: str = MODEL, key: str = KEY) -> httpx.Response:
    return http.post(f"/v1beta/models/{model}:predictLongRunning", json=body, headers={"x-goog-api-key": key})


def finish(http: httpx.Client, name: str, key: str = KEY) -> dict[str, Any]:
    for _ in range(600):
        body: dict[str, Any] = http.get(f"/v1beta/{name}", params={"key": key}).json()
        if body.get("done"):
            return body
        assert set(body) == {"name"}  # running: proto3 JSON leaves out done=false
        time.sleep(0.02)
    raise AssertionError("never finished")


def text(prompt: str, **parameters: Any) -> dict[str, Any]:
    return {"instances": [{"prompt": prompt}], "parameters": {"durationSeconds": 4, **parameters}}


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url) as c:
        yield c


def test_query_key_and_ranged_storage(http: httpx.Client) -> None:
    name = http.post(
        f"/v1beta/models/{MODEL}:predictLongRunning", params={"key": KEY}, json=text("q")
    ).json()["name"]
    done = finish(http, name)
    assert done["response"]["@type"].endswith("PredictLongRunningResponse")
    uri = done["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
    redirect = http.get(uri.removeprefix("https://generativelanguage.googleapis.com") + f"&key={KEY}")
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(str(http.base_url).rstrip("/") + "/_storage/")
    part = http.get(location, headers={"range": "bytes=0-99"})
    assert (part.status_code, len(part.content), part.headers["content-type"]) == (206, 100, "video/mp4")
    whole = http.get(location)
    assert whole.content[:100] == part.content
    assert whole.content[4:8] == b"ftyp"
    assert http.get(location.replace("/_storage/", "/_storage/x")).status_code == 404


def test_operations_and_files_belong_to_their_key(render_cache: Path) -> None:
    settings = EmulatorSettings(api_key=None, processing_seconds=0.05, cache_dir=render_cache)
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        name = create(http, text("mine"), key="alice").json()["name"]
        done = finish(http, name, key="alice")
        path = done["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"].removeprefix(
            "https://generativelanguage.googleapis.com"
        )
        stolen = http.get(f"/v1beta/{name}", headers={"x-goog-api-key": "bob"})
        assert (stolen.status_code, stolen.json()["error"]["status"]) == (404, "NOT_FOUND")
        assert http.get(path, headers={"x-goog-api-key": "bob"}).status_code == 403
        assert http.get(path, headers={"x-goog-api-key": "alice"}).status_code == 302


def test_missing_key_is_403(http: httpx.Client) -> None:
    reply = http.post(f"/v1beta/models/{MODEL}:predictLongRunning", json=text("x"))
    assert (reply.status_code, reply.json()["error"]["status"]) == (403, "PERMISSION_DENIED")


def test_seed_001_requests_script_flow(base_url: str) -> None:
    """Seed 001 (plain requests): minimal body, default duration, URI prefix swapped, redirect followed."""
    root = f"{base_url}/v1beta"
    headers = {"x-goog-api-key": KEY, "Content-Type": "application/json"}
    created = requests.post(
        f"{root}/models/veo-3.0-generate-preview:predictLongRunning",
        headers=headers,
        json={"instances": [{"prompt": "A cat playing with a ball of yarn"}]},
        timeout=30,
    )
    created.raise_for_status()
    name = created.json().get("name")
    for _ in range(600):
        data = requests.get(f"{root}/{name}", headers=headers, timeout=30).json()
        if data.get("done", False):
            break
        time.sleep(0.02)
    video_uri = data["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
    response = requests.get(
        video_uri.replace("https://generativelanguage.googleapis.com/v1beta", root),
        headers=headers,
        stream=True,
        timeout=30,
    )
    response.raise_for_status()
    info = probe(b"".join(response.iter_content(chunk_size=8192)))
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(8.0, abs=0.1)  # veo-3.0-generate-preview: 8 s only


@pytest.mark.parametrize(
    ("model", "parameters", "instance", "message"),
    [
        ("veo-2.0-generate-001", {"resolution": "720p"}, {}, "`resolution` isn't supported by this model."),
        (MODEL, {"generateAudio": True}, {}, "`generateAudio` isn't supported by this model."),
        (MODEL, {"sampleCount": 2}, {}, "The number value for `sampleCount` is out of bound."),
        (MODEL, {"aspectRatio": "4:3"}, {}, "`aspectRatio` '4:3' isn't supported"),
        (MODEL, {"resolution": "1080p"}, {}, "`durationSeconds` must be 8 when `resolution` is 1080p."),
        (MODEL, {"durationSeconds": 5}, {}, "`durationSeconds` 5 isn't supported by this model."),
        (
            "veo-3.0-generate-001",
            {"resolution": "1080p", "aspectRatio": "9:16", "durationSeconds": 8},
            {},
            "`resolution` 1080p isn't supported with `aspectRatio` 9:16",
        ),
        (
            MODEL,
            {"personGeneration": "allow_all"},
            {"image": {"bytesBase64Encoded": "iVBORw0KGgo=", "mimeType": "image/png"}},
            "allow_all",
        ),
        (
            MODEL,
            {},
            {"image": {"gcsUri": "gs://b/i.png", "mimeType": "image/png"}},
            "`gcsUri` isn't supported",
        ),
        (MODEL, {}, {"image": {"bytesBase64Encoded": "@@@", "mimeType": "image/png"}}, "invalid base64"),
        ("veo-3.1-fast-generate-preview", {}, {"referenceImages": []}, "`referenceImages` isn't supported"),
        (MODEL, {"seed": -1}, {}, "The number value for `seed` is out of bound."),
    ],
)
def test_validation_in_googles_wording(
    http: httpx.Client, model: str, parameters: dict[str, Any], instance: dict[str, Any], message: str
) -> None:
    body = {"instances": [{"prompt": "x", **instance}], "parameters": {"durationSeconds": 4, **parameters}}
    reply = create(http, body, model=model)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert message in error["message"]


def test_inline_data_image_form_is_accepted(http: httpx.Client) -> None:
    image = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png()).decode()}}
    reply = create(
        http, {"instances": [{"prompt": "x", "image": image}], "parameters": {"durationSeconds": 4}}
    )
    assert reply.status_code == 200


def test_failed_and_filtered_outcomes(http: httpx.Client) -> None:
    failed = finish(http, create(http, text("doomed [fault:fail]")).json()["name"])
    assert failed["error"]["code"] == 13
    assert "response" not in failed
    filtered = finish(http, create(http, text("unsafe [fault:filtered]")).json()["name"])
    result = filtered["response"]["generateVideoResponse"]
    assert result["raiMediaFilteredCount"] == 1
    assert result["raiMediaFilteredReasons"][0].startswith("Veo could not generate 1 videos")
    assert "generatedSamples" not in result


def test_transient_faults_then_success(http: httpx.Client) -> None:
    body = text("busy [fault:429] [fault:poll-503] [fault:download-503]")
    limited = create(http, body)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "1")
    error = limited.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["details"][0]["retryDelay"] == "1s"
    name = create(http, body).json()["name"]
    unavailable = http.get(f"/v1beta/{name}", headers={"x-goog-api-key": KEY})
    assert (unavailable.status_code, unavailable.json()["error"]["status"]) == (503, "UNAVAILABLE")
    done = finish(http, name)
    path = done["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"].split(".com", 1)[
        1
    ]
    assert http.get(path, headers={"x-goog-api-key": KEY}).status_code == 503
    assert http.get(path, headers={"x-goog-api-key": KEY}).status_code == 302


def test_dropped_poll_connection(http: httpx.Client) -> None:
    name = create(http, text("flaky [fault:drop]")).json()["name"]
    with pytest.raises(httpx.HTTPError):
        http.get(f"/v1beta/{name}", headers={"x-goog-api-key": KEY})
    assert finish(http, name)["done"] is True


def test_unknown_path_is_a_google_404(http: httpx.Client) -> None:
    reply = http.get("/v1beta/nothing/here", headers={"x-goog-api-key": KEY})
    assert (reply.status_code, reply.json()["error"]["status"]) == (404, "NOT_FOUND")
