"""Issue 4's checks: the official ``google-genai`` 2.34.0, and seed 001's plain ``requests`` script,
against the gateway's Google-native pass-through over loopback.

The gateway runs with its real SQLite stores and poller; its deployments are the Gemini and Vertex AI
emulators. google-genai points at it with ``http_options.base_url`` and a vidgate key as its API key
(Gemini), or as its OAuth token with a project/location of its own (Vertex mode).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google.oauth2.credentials
import httpx
import pytest
from google import genai
from google.genai import errors, types
from tests.support.genai_versions import gemini_api_veo_judge
from tests.support.google_gateway import (
    PRICE,
    google_config,
    google_emulators,
    key_spend,
    master_headers,
    new_key,
)
from tests.support.images import image_bytes
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.server.app import create_app

pytestmark = pytest.mark.slow
SEEDS_DIR = Path(os.environ.get("VIDGATE_SEEDS_DIR") or Path(__file__).parents[3] / "shared" / "seeds")
RUNNER = Path(__file__).parents[1] / "support" / "seed_runner.py"
POLLS = 400


@dataclass
class Gateway:
    url: str

    def gemini(self, key: str) -> genai.Client:
        return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=f"{self.url}/gemini"))

    def vertex(self, key: str) -> genai.Client:
        token = google.oauth2.credentials.Credentials(token=key)
        return genai.Client(
            vertexai=True,
            project="team-project",
            location="us-east1",
            credentials=token,
            http_options=types.HttpOptions(base_url=f"{self.url}/vertex_ai"),
        )


@pytest.fixture(scope="module")
def gateway(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    base = tmp_path_factory.mktemp("google-e2e")
    with google_emulators(render_cache) as (gemini_url, vertex_url):
        config = google_config(
            gemini_url,
            vertex_url,
            database_url=f"sqlite+aiosqlite:///{base / 'vidgate.db'}",
            content_dir=str(base / "content"),
        )
        with live_server(create_app(config)) as url:
            yield Gateway(url)


def finish(client: genai.Client, op: types.GenerateVideosOperation) -> types.GenerateVideosOperation:
    for _ in range(POLLS):
        if op.done:
            return op
        time.sleep(0.1)
        op = client.operations.get(op)
    raise AssertionError(f"{op.name} never finished")


def first_video(op: types.GenerateVideosOperation) -> types.Video:
    assert op.error is None, op.error
    assert op.result is not None
    assert op.result.generated_videos
    video = op.result.generated_videos[0].video
    assert video is not None
    return video


@gemini_api_veo_judge
def test_text_to_video_poll_and_download(gateway: Gateway) -> None:
    client = gateway.gemini(new_key(gateway.url))
    op = client.models.generate_videos(
        model="veo-fast",
        source=types.GenerateVideosSource(prompt="A red fox in fresh snow"),
        config=types.GenerateVideosConfig(duration_seconds=4, aspect_ratio="16:9"),
    )
    assert op.name is not None
    assert op.name.startswith("models/veo-fast/operations/")
    video = first_video(finish(client, op))
    assert video.uri is not None
    assert video.uri.startswith("https://generativelanguage.googleapis.com/v1beta/files/")
    data = client.files.download(file=video)
    assert video.video_bytes == data
    info = probe(data)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(4, abs=0.1)


@gemini_api_veo_judge
def test_image_to_video(gateway: Gateway, tmp_path: Path) -> None:
    client = gateway.gemini(new_key(gateway.url))
    image = types.Image(image_bytes=image_bytes(640, 360, "png"), mime_type="image/png")
    op = client.models.generate_videos(
        model="veo-3.0-fast-generate-001",  # the provider's own model id works as well as the public name
        source=types.GenerateVideosSource(prompt="The scene comes alive", image=image),
        config=types.GenerateVideosConfig(duration_seconds=4),
    )
    video = first_video(finish(client, op))
    destination = tmp_path / "from-image.mp4"
    client.files.download(file=video, destination=str(destination))  # streamed to disk by the SDK
    assert probe(destination).frames > 0


@gemini_api_veo_judge
def test_wrong_key_and_bad_duration_raise_client_errors(gateway: Gateway) -> None:
    wrong = gateway.gemini("sk-not-a-vidgate-key")
    with pytest.raises(errors.ClientError) as bad_key:
        wrong.models.generate_videos(model="veo-fast", source=types.GenerateVideosSource(prompt="a fox"))
    assert bad_key.value.code == 400
    assert bad_key.value.status == "INVALID_ARGUMENT"
    client = gateway.gemini(new_key(gateway.url))
    with pytest.raises(errors.ClientError) as bad_duration:
        client.models.generate_videos(
            model="veo-fast",
            source=types.GenerateVideosSource(prompt="a fox"),
            config=types.GenerateVideosConfig(duration_seconds=30),
        )
    assert bad_duration.value.code == 400
    assert "durationSeconds" in (bad_duration.value.message or "")


@gemini_api_veo_judge
def test_another_key_cannot_poll_or_download(gateway: Gateway) -> None:
    owner = gateway.gemini(new_key(gateway.url))
    other = gateway.gemini(new_key(gateway.url))
    op = owner.models.generate_videos(
        model="veo-fast",
        source=types.GenerateVideosSource(prompt="a private heron"),
        config=types.GenerateVideosConfig(duration_seconds=4),
    )
    with pytest.raises(errors.ClientError) as poll:
        other.operations.get(op)
    assert poll.value.code == 404
    video = first_video(finish(owner, op))
    with pytest.raises(errors.ClientError) as download:
        other.files.download(file=video)
    assert download.value.code == 404


@gemini_api_veo_judge
def test_spend_is_the_catalogue_price_charged_once(gateway: Gateway) -> None:
    secret = new_key(gateway.url, max_budget=5)
    client = gateway.gemini(secret)
    op = finish(
        client,
        client.models.generate_videos(
            model="veo-fast",
            source=types.GenerateVideosSource(prompt="a slow river"),
            config=types.GenerateVideosConfig(duration_seconds=6),
        ),
    )
    for _ in range(15):
        op = client.operations.get(op)
    client.files.download(file=first_video(op))
    price = PRICE["veo-fast"] * 6
    info = key_spend(gateway.url, secret)
    assert info["spend"] == pytest.approx(price, abs=1e-9)
    assert info["reserved"] == 0
    logs = httpx.get(f"{gateway.url}/spend/logs", params={"key": secret}, headers=master_headers()).json()
    assert [(entry["request_id"], entry["spend"]) for entry in logs] == [
        (op.name.rpartition("/")[2] if op.name else None, pytest.approx(price))
    ]


def test_vertex_mode(gateway: Gateway) -> None:
    """google-genai in Vertex mode composes ``{base_url}/v1beta1/projects/{p}/locations/{l}/publishers/
    google/models/{m}:predictLongRunning`` and polls with ``:fetchPredictOperation``; videos come inline."""
    secret = new_key(gateway.url)
    client = gateway.vertex(secret)
    op = client.models.generate_videos(
        model="veo-vertex",
        source=types.GenerateVideosSource(prompt="A lighthouse at dusk"),
        config=types.GenerateVideosConfig(duration_seconds=4, number_of_videos=2, generate_audio=False),
    )
    assert op.name is not None
    assert op.name.startswith("projects/team-project/locations/us-east1/publishers/google/models/veo-vertex/")
    done = finish(client, op)
    assert done.result is not None
    assert done.result.generated_videos is not None
    videos = [g.video for g in done.result.generated_videos]
    assert len(videos) == 2
    for video in videos:
        assert video is not None
        assert video.video_bytes is not None
        assert probe(video.video_bytes).frames > 0
    assert key_spend(gateway.url, secret)["spend"] == pytest.approx(PRICE["veo-vertex"] * 4 * 2)
    stranger_client = gateway.vertex(
        new_key(gateway.url)
    )  # kept referenced: a dropped Client closes its pool
    with pytest.raises(errors.ClientError) as stranger:
        stranger_client.operations.get(op)
    assert stranger.value.code == 404
    impostor = gateway.vertex("sk-not-a-vidgate-key")
    with pytest.raises(errors.ClientError) as unauthenticated:
        impostor.models.generate_videos(model="veo-vertex", source=types.GenerateVideosSource(prompt="a fox"))
    assert (unauthenticated.value.code, unauthenticated.value.status) == (401, "UNAUTHENTICATED")


# ---- seed 001: the plain-requests script, unchanged except BASE_URL and API_KEY -------------------

# The seed page lost the whitespace its code had (``defgenerate_video``, no indentation inside
# blocks). This is that script with only whitespace restored; ``test_seed_001`` proves it equals the
# seed's block once whitespace is ignored, so the seed itself is what runs.
SEED_001 = """import requests
import time
import json

# Configuration
BASE_URL ="http://localhost:4000/gemini/v1beta"
API_KEY ="anything"# Use "anything" as the key

headers ={
"x-goog-api-key": API_KEY,
"Content-Type":"application/json"
}

# Step 1: Initiate video generation
def generate_video(prompt):
    url =f"{BASE_URL}/models/veo-3.0-generate-preview:predictLongRunning"
    payload ={
"instances":[{
"prompt": prompt
}]
}

    response = requests.post(url, headers=headers, json=payload)
    response.raise_for_status()

    data = response.json()
    return data.get("name")# Operation name

# Step 2: Poll for completion
def wait_for_completion(operation_name):
    operation_url =f"{BASE_URL}/{operation_name}"

    while True:
        response = requests.get(operation_url, headers=headers)
        response.raise_for_status()

        data = response.json()

        if data.get("done",False):
            # Extract video URI
            video_uri = data["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
            return video_uri

        time.sleep(10)# Wait 10 seconds before next poll

# Step 3: Download video
def download_video(video_uri, filename="generated_video.mp4"):
    # Replace Google URL with LiteLLM proxy URL
    litellm_url = video_uri.replace(
"https://generativelanguage.googleapis.com/v1beta",
        BASE_URL
)

    response = requests.get(litellm_url, headers=headers, stream=True)
    response.raise_for_status()

    with open(filename,'wb')as f:
        for chunk in response.iter_content(chunk_size=8192):
            if chunk:
                f.write(chunk)

    return filename

# Complete workflow
prompt ="A cat playing with a ball of yarn in a sunny garden"

print("Generating video...")
operation_name = generate_video(prompt)

print("Waiting for completion...")
video_uri = wait_for_completion(operation_name)

print("Downloading video...")
filename = download_video(video_uri)

print(f"Video saved as: {filename}")
"""


def seed_001_block() -> str:
    [path] = sorted(SEEDS_DIR.glob("001_*.txt"))
    match = re.search(r"^```[a-z]*\n(.*?)^```$", path.read_text(encoding="utf-8"), re.S | re.M)
    assert match is not None
    return match.group(1)


def _no_whitespace(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_seed_001(gateway: Gateway, tmp_path: Path) -> None:
    assert _no_whitespace(SEED_001) == _no_whitespace(seed_001_block())
    secret = new_key(gateway.url, max_budget=10)
    script = SEED_001.replace('"http://localhost:4000/gemini/v1beta"', f'"{gateway.url}/gemini/v1beta"', 1)
    script = script.replace('API_KEY ="anything"', f'API_KEY ="{secret}"', 1)
    changed = [(a, b) for a, b in zip(SEED_001.splitlines(), script.splitlines(), strict=True) if a != b]
    assert [a.split("=")[0].strip() for a, _ in changed] == ["BASE_URL", "API_KEY"]
    (tmp_path / "seed_001.py").write_text(script, encoding="utf-8")
    env = {**os.environ, "VIDGATE_SEED_MAX_SLEEP": "0.2"}
    run = subprocess.run(
        [sys.executable, str(RUNNER), "seed_001.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Video saved as: generated_video.mp4" in run.stdout
    info = probe(tmp_path / "generated_video.mp4")
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(8, abs=0.1)
    spend: dict[str, Any] = key_spend(gateway.url, secret)
    assert spend["spend"] == pytest.approx(PRICE["veo-3"] * 8)  # Veo's default duration, charged once
    assert spend["reserved"] == 0


def test_vertex_express_mode(gateway: Gateway) -> None:
    """Vertex "express mode" (an API key, no project): ``{base_url}/v1beta1/publishers/google/models/...``."""
    client = genai.Client(
        vertexai=True,
        api_key=new_key(gateway.url),
        http_options=types.HttpOptions(base_url=f"{gateway.url}/vertex_ai"),
    )
    op = client.models.generate_videos(
        model="veo-vertex",
        source=types.GenerateVideosSource(prompt="A paper boat"),
        config=types.GenerateVideosConfig(duration_seconds=4),
    )
    assert op.name is not None
    assert op.name.startswith("publishers/google/models/veo-vertex/operations/")
    video = first_video(finish(client, op))
    assert video.video_bytes is not None
    assert probe(video.video_bytes).frames > 0
