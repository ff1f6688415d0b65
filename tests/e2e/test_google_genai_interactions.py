"""google-genai 3.x's ``client.interactions`` (Gemini Omni) against the gateway's Interactions
pass-through over loopback, with a vidgate key: create in the background, poll, download, edit through
``previous_interaction_id``, cancel, delete; the key pays the settled token price once; the SDK's own
error classes for a bad key, a bad duration, another key's interaction.

The gateway runs with its SQLite stores and poller; its deployments are the Gemini API and Vertex AI
emulators. ``public_base_url`` is set (https), so the file URIs it returns are the gateway's, and
google-genai (which takes only the id of an https file URI) downloads them from its own base URL.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google.oauth2.credentials
import httpx
import pytest
from google import genai
from google.genai import types
from google.genai._interactions_errors import BadRequestError, NotFoundError
from google.genai.interactions import Interaction
from tests.support.google_gateway import google_emulators, key_spend, new_key, omni_config
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.server.app import create_app

pytestmark = pytest.mark.slow
PUBLIC = "https://vidgate.example"
FORMAT: Any = {"type": "video", "aspect_ratio": "9:16", "resolution": "360p", "duration": "3s"}
# gemini-omni-1.2-flash: $12 per 1M output tokens. The emulator reports 5,760 tokens per second of
# video; the catalogue reserves 5,792 per second. A 3 s video: settled 17,280 tokens, reserved 17,376.
SETTLED_3S = 0.20736
RESERVED_3S = 0.208512


@dataclass
class Gateway:
    url: str

    def gemini(self, key: str) -> genai.Client:
        return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=f"{self.url}/gemini"))

    def vertex(self, key: str) -> genai.Client:
        return genai.Client(
            vertexai=True,
            project="team-project",
            location="global",
            credentials=google.oauth2.credentials.Credentials(token=key),
            http_options=types.HttpOptions(base_url=f"{self.url}/vertex_ai"),
        )


@pytest.fixture(scope="module")
def gateway(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    base = tmp_path_factory.mktemp("genai-interactions")
    with google_emulators(render_cache) as (gemini_url, vertex_url):
        config = omni_config(
            gemini_url,
            vertex_url,
            database_url=f"sqlite+aiosqlite:///{base / 'vidgate.db'}",
            content_dir=str(base / "content"),
            public_base_url=PUBLIC,
        )
        with live_server(create_app(config)) as url:
            yield Gateway(url)


def create(client: genai.Client, **fields: Any) -> Any:
    """``client.interactions.create`` in the background (the only mode the gateway runs)."""
    created = client.interactions.create(background=True, **fields)
    assert isinstance(created, Interaction)
    assert created.id is not None
    return created


def wait(client: genai.Client, interaction_id: str) -> Any:
    for _ in range(400):
        found = client.interactions.get(interaction_id)
        if found.status not in ("queued", "in_progress"):
            return found
        time.sleep(0.05)
    raise AssertionError(f"{interaction_id} never finished")


def test_create_poll_download_edit_delete(gateway: Gateway) -> None:
    secret = new_key(gateway.url)
    client = gateway.gemini(secret)
    created = create(
        client,
        model="omni",
        input="a red fox",
        response_format={**FORMAT, "delivery": "uri"},
        generation_config={"video_config": {"task": "text_to_video"}},
    )
    assert created.id is not None
    assert created.id.startswith("video_")
    assert created.status == "queued"
    done = wait(client, created.id)
    assert done.status == "completed"
    assert done.usage is not None
    assert done.usage.total_output_tokens == 5760 * 3
    assert done.output_video.uri.startswith(f"{PUBLIC}/gemini/v1beta/files/")
    data = client.files.download(file=done.output_video.uri)
    info = probe(data)
    assert (info.width, info.height) == (360, 640)
    assert info.duration == pytest.approx(3.0, abs=0.1)
    same = httpx.get(f"{gateway.url}/v1/videos/{created.id}", headers={"Authorization": f"Bearer {secret}"})
    assert same.json()["status"] == "completed"  # one job, reachable through /v1/videos too
    edited = create(
        client,
        model="omni",
        input="make it night",
        previous_interaction_id=created.id,
        generation_config={"video_config": {"task": "edit"}},
    )
    assert edited.previous_interaction_id == created.id
    assert wait(client, edited.id).status == "completed"
    client.interactions.delete(edited.id)
    with pytest.raises(NotFoundError):
        client.interactions.get(edited.id)


def test_reference_videos_as_the_sdk_sends_them(gateway: Gateway) -> None:
    """google-genai's content blocks (one ``user_input`` step holding text and ``video`` blocks) with
    ``reference_to_video``: accepted, priced at the token bound alone (no per-input-video price)."""
    secret = new_key(gateway.url, max_budget=5)
    client = gateway.gemini(secret)
    created = create(
        client,
        model="omni",
        input=[
            {"type": "text", "text": "a red fox, moving like this"},
            {"type": "video", "uri": "https://cdn.example.com/clips/walk.mp4", "mime_type": "video/mp4"},
        ],
        response_format={**FORMAT, "delivery": "uri"},
        generation_config={"video_config": {"task": "reference_to_video"}},
    )
    assert key_spend(gateway.url, secret)["reserved"] == pytest.approx(RESERVED_3S, abs=1e-9)
    assert wait(client, created.id).status == "completed"
    assert key_spend(gateway.url, secret)["spend"] == pytest.approx(SETTLED_3S, abs=1e-9)
    with pytest.raises(BadRequestError):  # a private host, refused before anything is reserved
        create(
            client,
            model="omni",
            input=[
                {"type": "text", "text": "a fox"},
                {"type": "video", "uri": "https://192.168.0.9/clip.mp4"},
            ],
            generation_config={"video_config": {"task": "reference_to_video"}},
        )
    assert key_spend(gateway.url, secret)["reserved"] == 0


def test_the_key_pays_the_settled_token_price_once(gateway: Gateway) -> None:
    secret = new_key(gateway.url, max_budget=5)
    client = gateway.gemini(secret)
    created = create(
        client,
        model="gemini-omni-1.2-flash",  # the provider's own model id works as well as the public name
        input="a slow river",
        response_format={**FORMAT, "delivery": "uri"},
    )
    assert key_spend(gateway.url, secret)["reserved"] == pytest.approx(RESERVED_3S, abs=1e-9)
    done = wait(client, created.id)
    for _ in range(5):
        client.interactions.get(done.id)
    info = key_spend(gateway.url, secret)
    assert info["spend"] == pytest.approx(SETTLED_3S, abs=1e-9)
    assert info["reserved"] == 0


def test_cancel_gives_the_reservation_back(gateway: Gateway) -> None:
    secret = new_key(gateway.url, max_budget=5)
    client = gateway.gemini(secret)
    created = create(client, model="omni", input="a slow cat")
    cancelled = client.interactions.cancel(created.id)
    assert cancelled.status == "cancelled"
    assert client.interactions.get(created.id).status == "cancelled"
    info = key_spend(gateway.url, secret)
    assert (info["spend"], info["reserved"]) == (0, 0)


def test_the_sdks_error_classes(gateway: Gateway) -> None:
    client = gateway.gemini(new_key(gateway.url))
    wrong = gateway.gemini("sk-not-a-vidgate-key")  # kept referenced: the SDK closes its client on delete
    with pytest.raises(BadRequestError) as bad_key:
        wrong.interactions.get("video_" + "0" * 32)
    assert bad_key.value.status_code == 400
    with pytest.raises(NotFoundError):
        client.interactions.get("video_" + "0" * 32)
    with pytest.raises(BadRequestError) as bad_duration:
        client.interactions.create(
            model="omni", input="x", background=True, response_format={**FORMAT, "duration": "99s"}
        )
    assert "response_format.duration" in str(bad_duration.value)
    with pytest.raises(BadRequestError) as foreground:
        client.interactions.create(model="omni", input="x")
    assert "background" in str(foreground.value)
    created = create(client, model="omni", input="a private heron")
    other = gateway.gemini(new_key(gateway.url))
    with pytest.raises(NotFoundError):
        other.interactions.get(created.id)
    with pytest.raises(NotFoundError):
        other.interactions.cancel(created.id)
    with pytest.raises(NotFoundError):
        other.interactions.delete(created.id)


def test_vertex_mode_inline_video(gateway: Gateway) -> None:
    secret = new_key(gateway.url)
    client = gateway.vertex(secret)
    created = create(
        client,
        model="omni-vertex",
        input="a boat",
        response_format={**FORMAT, "delivery": "inline"},
    )
    done = wait(client, created.id)
    assert done.status == "completed"
    raw = done.output_video.data
    data = raw if isinstance(raw, bytes) else base64.b64decode(raw)
    assert (probe(data).width, probe(data).height) == (360, 640)
    assert key_spend(gateway.url, secret)["spend"] == pytest.approx(SETTLED_3S, abs=1e-9)
