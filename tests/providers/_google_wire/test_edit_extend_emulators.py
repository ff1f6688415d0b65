"""Edits, extensions and reference videos on the Google emulators, judged by google-genai 3.x where it
speaks the call (Vertex ``generate_videos`` with ``source.video``; ``interactions.create`` with
``previous_interaction_id`` or video input blocks), and the adapters over loopback for the Gemini API's
Veo extension (google-genai 3.x has no Veo on the Gemini API)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from google import genai
from google.genai import errors, types
from google.genai._interactions_errors import BadRequestError as InteractionsBadRequest
from google.oauth2.credentials import Credentials as OAuthCredentials
from tests.support.genai_ops import wait
from tests.support.google_loopback import Loopback, fetch, request, run_to_end, serve, sync_runner
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.base import Credentials
from vidgate.providers.gemini.adapter import GeminiProvider
from vidgate.providers.gemini.emulator import create_app as gemini_app
from vidgate.providers.vertex_ai.adapter import VertexProvider
from vidgate.providers.vertex_ai.emulator import create_app as vertex_app
from vidgate.types import SourceVideo

KEY = "edit-extend-key"
PROJECT, LOCATION = "edit-proj", "us-central1"
VEO = "veo-3.1-generate-001"
FORMAT: Any = {"type": "video", "aspect_ratio": "16:9", "resolution": "360p", "duration": "3s"}


@pytest.fixture(scope="module")
def vertex_url(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.2, cache_dir=render_cache)
    with live_server(vertex_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def gemini(render_cache: Path) -> Iterator[Loopback]:
    app = gemini_app(EmulatorSettings(api_key=KEY, processing_seconds=0.2, cache_dir=render_cache))
    with serve(app, lambda url: Credentials(api_key=KEY, api_base=url)) as loopback:
        yield loopback


def vertex_client(url: str) -> genai.Client:
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=OAuthCredentials(token=KEY),
        http_options=types.HttpOptions(base_url=url),
    )


def generated(client: genai.Client, **kwargs: Any) -> types.Video:
    op = wait(client, client.models.generate_videos(model=VEO, **kwargs))
    assert op.error is None
    assert op.response is not None
    assert op.response.generated_videos
    video = op.response.generated_videos[0].video
    assert video is not None
    return video


def clip(interaction: Any) -> bytes:
    """An inline ``output_video`` as bytes (google-genai leaves the base64 text as it came)."""
    raw = interaction.output_video.data
    return raw if isinstance(raw, bytes) else base64.b64decode(raw)


def settled(client: genai.Client, interaction_id: str) -> Any:
    for _ in range(400):
        found = client.interactions.get(interaction_id)
        if found.status in ("failed", "cancelled") or (found.status == "completed" and found.output_video):
            return found
        time.sleep(0.03)
    raise AssertionError(f"{interaction_id} never finished")


# ---- Veo 3.1 extension --------------------------------------------------------------------------


def test_vertex_veo_extension_of_a_gcs_output_and_of_bytes(vertex_url: str) -> None:
    client = vertex_client(vertex_url)
    first = generated(
        client,
        source=types.GenerateVideosSource(prompt="a red fox"),
        config=types.GenerateVideosConfig(duration_seconds=4, output_gcs_uri="gs://edits/runs"),
    )
    assert first.uri is not None
    extended = generated(
        client,
        source=types.GenerateVideosSource(prompt="the fox runs on", video=types.Video(uri=first.uri)),
        config=types.GenerateVideosConfig(duration_seconds=8, resolution="720p"),
    )
    assert extended.video_bytes is not None
    info = probe(extended.video_bytes)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(11.0, abs=0.1)  # 4 s + the 7 s Veo adds
    again = generated(
        client,
        source=types.GenerateVideosSource(
            prompt="and stops", video=types.Video(video_bytes=extended.video_bytes, mime_type="video/mp4")
        ),
        config=types.GenerateVideosConfig(duration_seconds=8),
    )
    assert again.video_bytes is not None
    assert probe(again.video_bytes).duration == pytest.approx(18.0, abs=0.1)


def test_vertex_veo_extension_rules_in_googles_words(vertex_url: str) -> None:
    client = vertex_client(vertex_url)
    unknown = types.Video(uri="gs://edits/nothing.mp4")
    with pytest.raises(errors.ClientError) as missing:
        client.models.generate_videos(model=VEO, source=types.GenerateVideosSource(prompt="x", video=unknown))
    assert (missing.value.code, missing.value.status) == (400, "INVALID_ARGUMENT")
    with pytest.raises(errors.ClientError) as short:
        client.models.generate_videos(
            model=VEO,
            source=types.GenerateVideosSource(prompt="x", video=unknown),
            config=types.GenerateVideosConfig(duration_seconds=4),
        )
    assert "durationSeconds" in str(short.value.message)
    with pytest.raises(errors.ClientError) as lite:
        client.models.generate_videos(
            model="veo-3.1-lite-generate-001", source=types.GenerateVideosSource(prompt="x", video=unknown)
        )
    assert "`video` isn't supported" in str(lite.value.message)


def test_the_vertex_adapter_extends_through_the_emulator(vertex_url: str) -> None:
    creds = Credentials(project=PROJECT, location=LOCATION, access_token=KEY, api_base=vertex_url)
    runner, provider = sync_runner([]), VertexProvider()
    first = run_to_end(
        runner,
        provider,
        request(f"vertex_ai/{VEO}", prompt="a boat", seconds=4, extra_body={"storageUri": "gs://edits/a"}),
        creds,
    )
    assert first.outputs[0].startswith("gs://edits/a/")
    ext = replace(request(f"vertex_ai/{VEO}", prompt="it sails", seconds=8), task="extend")
    job = run_to_end(runner, provider, replace(ext, source_video=SourceVideo(outputs=first.outputs)), creds)
    assert job.status == "completed"
    assert probe(fetch(runner, provider, job.native_id, creds)).duration == pytest.approx(11.0, abs=0.1)


def test_the_gemini_adapter_extends_its_own_file_through_the_emulator(gemini: Loopback) -> None:
    runner, provider = sync_runner([]), GeminiProvider()
    first = run_to_end(runner, provider, request(f"gemini/{VEO}", prompt="a kite", seconds=6), gemini.creds)
    assert first.outputs[0].startswith("https://generativelanguage.googleapis.com/v1beta/files/")
    ext = replace(request(f"gemini/{VEO}", prompt="it climbs", seconds=8), task="extend")
    source = SourceVideo(native_id=first.native_id, seconds=6)  # what the gateway passes: no outputs
    job = run_to_end(runner, provider, replace(ext, source_video=source), gemini.creds)
    assert job.status == "completed"
    info = probe(fetch(runner, provider, job.native_id, gemini.creds))
    assert info.duration == pytest.approx(13.0, abs=0.1)


# ---- Gemini Omni --------------------------------------------------------------------------------


def test_omni_extend_by_previous_interaction_and_edit_of_an_input_video(vertex_url: str) -> None:
    client = vertex_client(vertex_url)
    first = client.interactions.create(
        model="gemini-omni-1.2-flash",
        input="a lighthouse",
        background=True,
        response_format={**FORMAT, "delivery": "inline"},
    )
    source = settled(client, first.id)
    assert source.status == "completed"
    extended = client.interactions.create(
        model="gemini-omni-1.2-flash",
        input="the light turns on",
        background=True,
        previous_interaction_id=first.id,
        response_format={**FORMAT, "duration": "4s", "delivery": "inline"},
        generation_config={"video_config": {"task": "extend"}},
    )
    done = settled(client, extended.id)
    assert done.status == "completed"
    assert probe(clip(done)).duration == pytest.approx(7.0, abs=0.1)  # 3 s + 4 s
    assert done.usage.total_output_tokens == 5760 * 4  # the added seconds are billed
    edited: Any = client.interactions.create(
        model="gemini-omni-1.1-flash",
        input=[
            {"type": "text", "text": "make it winter"},
            {"type": "video", "data": base64.b64encode(clip(done)).decode(), "mime_type": "video/mp4"},
        ],
        background=True,
        response_format={**FORMAT, "delivery": "inline"},
        generation_config={"video_config": {"task": "edit"}},
    )
    result = settled(client, edited.id)
    assert result.status == "completed"
    assert probe(clip(result)).duration == pytest.approx(7.0, abs=0.1)  # an edit keeps it


def test_omni_reference_videos_and_refusals(vertex_url: str) -> None:
    client = vertex_client(vertex_url)
    first = client.interactions.create(
        model="gemini-omni-1.2-flash",
        input="a drum",
        background=True,
        response_format={**FORMAT, "delivery": "inline"},
    )
    data = base64.b64encode(clip(settled(client, first.id))).decode()
    video = {"type": "video", "data": data, "mime_type": "video/mp4"}
    made: Any = client.interactions.create(
        model="gemini-omni-1.2-flash",
        input=[{"type": "text", "text": "in this style"}, video, video],
        background=True,
        response_format={**FORMAT, "delivery": "inline"},
        generation_config={"video_config": {"task": "reference_to_video"}},
    )
    assert settled(client, made.id).status == "completed"
    with pytest.raises(InteractionsBadRequest):
        client.interactions.create(
            model="gemini-omni-1.2-flash",
            input=[{"type": "text", "text": "too many"}, video, video, video, video],
            background=True,
            generation_config={"video_config": {"task": "reference_to_video"}},
        )
    with pytest.raises(InteractionsBadRequest):  # the preview row has no extend
        client.interactions.create(
            model="gemini-omni-flash-preview",
            input="more",
            background=True,
            previous_interaction_id=first.id,
            generation_config={"video_config": {"task": "extend"}},
        )
    stored = {**FORMAT, "duration": "15s", "delivery": "uri", "gcs_uri": "gs://edits/omni"}
    previous = first.id
    for _ in range(2):  # 3 s -> 18 s -> 33 s
        step = client.interactions.create(
            model="gemini-omni-1.2-flash",
            input="more",
            background=True,
            previous_interaction_id=previous,
            response_format=stored,
            generation_config={"video_config": {"task": "extend"}},
        )
        assert settled(client, step.id).status == "completed"
        previous = step.id
    with pytest.raises(InteractionsBadRequest) as too_long:  # 33 s + 15 s is over 40 s
        client.interactions.create(
            model="gemini-omni-1.2-flash",
            input="much more",
            background=True,
            previous_interaction_id=previous,
            response_format=stored,
            generation_config={"video_config": {"task": "extend"}},
        )
    assert "40s" in str(too_long.value)


def test_omni_reference_videos_by_url_are_accepted_unread(vertex_url: str) -> None:
    """An https URL of another host is the service's to fetch: the emulator takes it without a network
    call (google-genai 3.x sends the blocks); video input still needs reference_to_video."""
    client = vertex_client(vertex_url)
    made: Any = client.interactions.create(
        model="gemini-omni-1.2-flash",
        input=[
            {"type": "text", "text": "moving like this"},
            {"type": "video", "uri": "https://cdn.example.com/clips/walk.mp4", "mime_type": "video/mp4"},
            {"type": "video", "uri": "https://cdn.example.com/stream"},
        ],
        background=True,
        response_format={**FORMAT, "delivery": "inline"},
        generation_config={"video_config": {"task": "reference_to_video"}},
    )
    assert settled(client, made.id).status == "completed"
    with pytest.raises(InteractionsBadRequest):  # video input on a text_to_video task
        client.interactions.create(
            model="gemini-omni-1.2-flash",
            input=[{"type": "text", "text": "x"}, {"type": "video", "uri": "https://cdn.example.com/a.mp4"}],
            background=True,
            generation_config={"video_config": {"task": "text_to_video"}},
        )
