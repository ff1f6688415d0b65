"""The Interactions emulators judged by google-genai 3.x (``client.interactions``) over loopback:
create in the background, poll, download (Gemini file URI / Vertex inline bytes), edit through
``previous_interaction_id``, cancel, delete, and the SDK's own error classes for a bad key and an
unknown interaction. google-genai 3.x calls the Gemini API's ``/v1/interactions`` and Vertex's
``/v1beta1/projects/{p}/locations/{l}/interactions``."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google import genai
from google.genai import types
from google.genai._interactions_errors import BadRequestError, NotFoundError
from google.oauth2.credentials import Credentials as OAuthCredentials
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.gemini.emulator import create_app as gemini_app
from vidgate.providers.vertex_ai.emulator import create_app as vertex_app

KEY = "genai3-key"
FORMAT: Any = {"type": "video", "aspect_ratio": "9:16", "resolution": "360p", "duration": "3s"}


@pytest.fixture(scope="module")
def gemini_url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(gemini_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def vertex_url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(vertex_app(settings)) as url:
        yield url


def gemini(url: str, key: str = KEY) -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=url))


def vertex(url: str) -> genai.Client:
    return genai.Client(
        vertexai=True,
        project="omni-proj",
        location="global",
        credentials=OAuthCredentials(token=KEY),
        http_options=types.HttpOptions(base_url=url),
    )


def wait(client: genai.Client, interaction_id: str, *, needs_output: bool = True) -> Any:
    for _ in range(300):
        found = client.interactions.get(interaction_id)
        if found.status == "completed" and (found.output_video is not None or not needs_output):
            return found
        if found.status in ("failed", "cancelled"):
            return found
        time.sleep(0.05)
    raise AssertionError(f"{interaction_id} never finished")


def test_gemini_create_poll_download_edit_delete(gemini_url: str) -> None:
    client = gemini(gemini_url)
    created = client.interactions.create(
        model="gemini-omni-1.2-flash",
        input="a red fox",
        background=True,
        response_format={**FORMAT, "delivery": "uri"},
        generation_config={"video_config": {"task": "text_to_video"}},
    )
    assert created.id.startswith("v1_")
    assert created.status in ("queued", "in_progress")
    done = wait(client, created.id)
    assert done.status == "completed"
    assert done.usage is not None
    assert done.usage.total_output_tokens == 5760 * 3
    assert done.output_video.uri.startswith("https://generativelanguage.googleapis.com/v1beta/files/")
    data = client.files.download(file=done.output_video.uri)
    info = probe(data)
    assert (info.width, info.height) == (360, 640)
    assert info.duration == pytest.approx(3.0, abs=0.1)
    edited = client.interactions.create(
        model="gemini-omni-1.2-flash",
        input="make it night",
        background=True,
        previous_interaction_id=created.id,
        generation_config={"video_config": {"task": "edit"}},
    )
    assert edited.previous_interaction_id == created.id
    assert wait(client, edited.id).status == "completed"
    client.interactions.delete(edited.id)
    with pytest.raises(NotFoundError):
        client.interactions.get(edited.id)


def test_gemini_cancel_and_the_sdks_error_classes(gemini_url: str) -> None:
    client = gemini(gemini_url)
    wrong = gemini(gemini_url, key="wrong")  # kept referenced: the SDK closes its HTTP client on delete
    with pytest.raises(BadRequestError) as bad_key:
        wrong.interactions.get("v1_x")
    assert bad_key.value.status_code == 400
    with pytest.raises(NotFoundError):
        client.interactions.get("v1_unknown")
    with pytest.raises(BadRequestError):
        client.interactions.create(
            model="gemini-omni-1.2-flash",
            input="x",
            background=True,
            response_format={**FORMAT, "duration": "99s"},
        )
    created = client.interactions.create(model="gemini-omni-1.2-flash", input="a slow cat", background=True)
    assert created.id is not None
    cancelled = client.interactions.cancel(created.id)
    assert cancelled.status in ("cancelled", "completed")


def test_vertex_inline_bytes(vertex_url: str) -> None:
    client = vertex(vertex_url)
    created = client.interactions.create(
        model="gemini-omni-1.2-flash",
        input="a boat",
        background=True,
        response_format={**FORMAT, "delivery": "inline"},
    )
    done = wait(client, created.id)
    assert done.status == "completed"
    raw = done.output_video.data
    data = raw if isinstance(raw, bytes) else base64.b64decode(raw)
    assert (probe(data).width, probe(data).height) == (360, 640)
