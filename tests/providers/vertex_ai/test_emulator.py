"""The Vertex emulator judged by google-genai (2.34.0 and 3.6.1) in Vertex mode (and raw HTTP) over loopback.

In Vertex mode with explicit project + location and a custom ``base_url``, google-genai calls
``{base_url}/v1beta1/projects/{p}/locations/{l}/publishers/google/models/{m}:predictLongRunning``, polls
with ``POST .../{m}:fetchPredictOperation``, sends ``Authorization: Bearer {credentials.token}``, and
returns inline ``bytesBase64Encoded`` outputs as ``video.video_bytes`` (``gcsUri`` as ``video.uri``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from google import genai
from google.genai import errors, types
from google.oauth2.credentials import Credentials as OAuthCredentials
from tests.support.genai_ops import wait
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.vertex_ai.emulator import create_app

TOKEN = "ya29.vertex-test-token"
PROJECT, LOCATION, MODEL = "test-proj", "us-central1", "veo-3.1-generate-001"
MODEL_PATH = f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{MODEL}"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def base_url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=TOKEN, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


def vertex_client(base_url: str, token: str = TOKEN) -> genai.Client:
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=OAuthCredentials(token=token),
        http_options=types.HttpOptions(base_url=base_url),
    )


def test_inline_bytes_through_google_genai(base_url: str) -> None:
    client = vertex_client(base_url)
    op = client.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(prompt="a red fox"),
        config=types.GenerateVideosConfig(
            duration_seconds=4, aspect_ratio="16:9", generate_audio=True, seed=3
        ),
    )
    assert op.name is not None
    assert op.name.startswith(f"{MODEL_PATH}/operations/")
    op = wait(client, op)
    assert op.error is None
    assert op.response is not None
    assert op.response.generated_videos
    video = op.response.generated_videos[0].video
    assert video is not None
    assert (video.uri, video.mime_type) == (None, "video/mp4")
    assert video.video_bytes is not None
    info = probe(video.video_bytes)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(4.0, abs=0.1)


def test_gcs_output_fetched_through_the_storage_route(base_url: str) -> None:
    client = vertex_client(base_url)
    op = client.models.generate_videos(
        model=MODEL,
        source=types.GenerateVideosSource(prompt="a red fox"),
        config=types.GenerateVideosConfig(
            duration_seconds=4, aspect_ratio="9:16", output_gcs_uri="gs://vid-bucket/runs", number_of_videos=2
        ),
    )
    op = wait(client, op)
    assert op.response is not None
    assert op.response.generated_videos
    uris = [v.video.uri for v in op.response.generated_videos if v.video is not None]
    assert len(uris) == 2
    for uri in uris:
        assert uri is not None
        assert uri.startswith("gs://vid-bucket/runs/")
        assert uri.endswith(".mp4")
    first = uris[0]
    assert first is not None
    bucket, _, name = first.removeprefix("gs://").partition("/")
    # The emulator renders the object when it is first read: a loaded machine needs more than 5 s.
    with httpx.Client(base_url=base_url, timeout=60) as http:
        path = f"/storage/v1/b/{bucket}/o/{quote(name, safe='')}"
        meta = http.get(path, headers=AUTH).json()
        assert (meta["bucket"], meta["name"], meta["contentType"]) == (bucket, name, "video/mp4")
        media = http.get(path, params={"alt": "media"}, headers=AUTH)
        assert media.headers["content-type"] == "video/mp4"
        assert int(meta["size"]) == len(media.content)
        info = probe(media.content)
        assert (info.width, info.height) == (720, 1280)
        assert http.get(path, params={"alt": "media"}).status_code == 401
        assert http.get(path + "x", params={"alt": "media"}, headers=AUTH).status_code == 404


def test_wrong_token_is_401(base_url: str) -> None:
    client = vertex_client(base_url, token="ya29.wrong")
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_videos(model=MODEL, source=types.GenerateVideosSource(prompt="x"))
    assert (caught.value.code, caught.value.status) == (401, "UNAUTHENTICATED")


def test_unknown_model_operation_and_bad_values(base_url: str) -> None:
    client = vertex_client(base_url)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_videos(model="veo-9", source=types.GenerateVideosSource(prompt="x"))
    assert caught.value.code == 404
    with pytest.raises(errors.ClientError) as caught:
        client.operations.get(
            types.GenerateVideosOperation.model_validate({"name": f"{MODEL_PATH}/operations/nope"})
        )
    assert caught.value.code == 404
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_videos(
            model="veo-2.0-generate-001",
            source=types.GenerateVideosSource(prompt="x"),
            config=types.GenerateVideosConfig(generate_audio=True),
        )
    assert caught.value.code == 400
    assert caught.value.message is not None
    assert "`generateAudio` isn't supported" in caught.value.message
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_videos(
            model=MODEL, source=types.GenerateVideosSource(prompt="x"), config={"number_of_videos": 5}
        )
    assert caught.value.message is not None
    assert "between 1 and 4" in caught.value.message


# ---- raw HTTP -------------------------------------------------------------------------------------


def start(http: httpx.Client, prompt: str, version: str = "v1", **parameters: Any) -> str:
    body = {"instances": [{"prompt": prompt}], "parameters": {"durationSeconds": 4, **parameters}}
    reply = http.post(f"/{version}/{MODEL_PATH}:predictLongRunning", json=body, headers=AUTH)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["name"])


def finish(http: httpx.Client, name: str) -> dict[str, Any]:
    for _ in range(600):
        body: dict[str, Any] = http.post(
            f"/v1/{MODEL_PATH}:fetchPredictOperation", json={"operationName": name}, headers=AUTH
        ).json()
        if body.get("done"):
            return body
        time.sleep(0.02)
    raise AssertionError("never finished")


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url) as c:
        yield c


def test_missing_credentials(http: httpx.Client) -> None:
    reply = http.post(f"/v1/{MODEL_PATH}:predictLongRunning", json={"instances": [{"prompt": "x"}]})
    error = reply.json()["error"]
    assert (reply.status_code, error["status"], error["details"][0]["reason"]) == (
        401,
        "UNAUTHENTICATED",
        "CREDENTIALS_MISSING",
    )


def test_failed_and_filtered(http: httpx.Client) -> None:
    failed = finish(http, start(http, "x [fault:fail]"))
    assert failed["error"]["code"] == 13
    filtered = finish(http, start(http, "x [fault:filtered]", version="v1beta1", sampleCount=2))
    response = filtered["response"]
    assert response["@type"].endswith("GenerateVideoResponse")
    assert response["raiMediaFilteredCount"] == 2
    assert "videos" not in response
    assert response["raiMediaFilteredReasons"][0].startswith("Veo could not generate 2 videos")


def test_poll_of_another_models_path_is_404(http: httpx.Client) -> None:
    name = start(http, "x")
    other = MODEL_PATH.replace(MODEL, "veo-3.1-fast-generate-001")
    reply = http.post(f"/v1/{other}:fetchPredictOperation", json={"operationName": name}, headers=AUTH)
    assert reply.status_code == 404


def test_faults(http: httpx.Client) -> None:
    body = {"instances": [{"prompt": "y [fault:503] [fault:poll-429]"}], "parameters": {"durationSeconds": 4}}
    first = http.post(f"/v1/{MODEL_PATH}:predictLongRunning", json=body, headers=AUTH)
    assert (first.status_code, first.headers["retry-after"]) == (503, "1")
    name = http.post(f"/v1/{MODEL_PATH}:predictLongRunning", json=body, headers=AUTH).json()["name"]
    limited = http.post(f"/v1/{MODEL_PATH}:fetchPredictOperation", json={"operationName": name}, headers=AUTH)
    assert (limited.status_code, limited.json()["error"]["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert finish(http, name)["done"] is True


def test_gcs_image_input_is_rejected(http: httpx.Client) -> None:
    body = {
        "instances": [{"prompt": "x", "image": {"gcsUri": "gs://b/missing.png", "mimeType": "image/png"}}]
    }
    reply = http.post(f"/v1/{MODEL_PATH}:predictLongRunning", json=body, headers=AUTH)
    assert reply.status_code == 400
    assert "gs://b/missing.png" in reply.json()["error"]["message"]
