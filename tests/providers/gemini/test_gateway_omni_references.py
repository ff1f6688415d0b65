"""Reference videos by URL through the gateway on the Gemini emulator: the official ``openai`` package
sends ``input_references`` video items in ``extra_body`` (multipart, as it sends every create); the
upstream Interactions body carries them as video blocks (``uri``); the key pays the settled tokens.
Refusals (a private host, a row without reference videos) come before any upstream call or charge;
under drop_params the dropped field is named in ``x-vidgate-dropped-params``.

Prices by hand: gemini-omni-1.2-flash $12 per 1M output tokens, the preview $17.50 per 1M (LiteLLM's map,
field-2026-12.md §4.1); the emulator reports 5,760 tokens per generated second; the reservation is
5,792 tokens per second. No Omni source names a price per input video, so none is charged."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from starlette.types import Message, Receive, Scope, Send
from tests.support.live import live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.gemini.emulator import create_app as gemini_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

MASTER = "sk-omni-refs-master"
UPSTREAM_KEY = "gemini-omni-refs-upstream"
CLIP = "https://cdn.example.com/clips/walk.mp4"
OTHER = "https://media.example.org/v/42"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # openai deprecates the Videos API


class CreateBodies:
    """Wraps an ASGI app and keeps the JSON body of every ``POST .../interactions`` it receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].endswith("/interactions")
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    self.bodies.append(json.loads(b"".join(chunks)))
            return message

        await self.app(scope, recording, send)


@pytest.fixture(scope="module")
def upstream(render_cache: Path) -> Iterator[tuple[str, CreateBodies]]:
    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=0.3, cache_dir=render_cache)
    recorder = CreateBodies(gemini_emulator(settings))
    with live_server(recorder) as url:
        yield url, recorder


@pytest.fixture
async def gateway(upstream: tuple[str, CreateBodies]) -> AsyncIterator[httpx.AsyncClient]:
    url = upstream[0]

    def params(model: str, **more: Any) -> dict[str, Any]:
        return {"model": f"gemini/{model}", "api_key": UPSTREAM_KEY, "api_base": url, **more}

    config = parse_config(
        {
            "model_list": [
                {"model_name": "omni", "litellm_params": params("gemini-omni-1.2-flash")},
                {
                    "model_name": "preview",
                    "litellm_params": params("gemini-omni-flash-preview", allow_retired=True),
                },
                {
                    "model_name": "preview-drop",
                    "litellm_params": params(
                        "gemini-omni-flash-preview", allow_retired=True, drop_params=True
                    ),
                },
            ],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    app = create_app(config, stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client


async def new_key(client: httpx.AsyncClient) -> str:
    reply = await client.post("/key/generate", json={}, headers={"Authorization": f"Bearer {MASTER}"})
    secret: str = reply.json()["key"]
    return secret


async def spend(client: httpx.AsyncClient, secret: str) -> float:
    reply = await client.get(
        "/key/info", params={"key": secret}, headers={"Authorization": f"Bearer {MASTER}"}
    )
    spent: float = reply.json()["info"]["spend"]
    return spent


async def finished(api: openai.AsyncOpenAI, video_id: str) -> Any:
    for _ in range(400):
        video = await api.videos.retrieve(video_id)
        if video.status in ("completed", "failed"):
            return video
        await asyncio.sleep(0.05)
    raise AssertionError(f"{video_id} never finished")


def video_ref(url: str) -> dict[str, Any]:
    return {"type": "video_url", "video_url": {"url": url}}


async def test_openai_sdk_sends_reference_videos_the_upstream_gets_video_blocks_and_the_key_pays_once(
    gateway: httpx.AsyncClient, upstream: tuple[str, CreateBodies]
) -> None:
    recorder = upstream[1]
    secret = await new_key(gateway)
    api = openai.AsyncOpenAI(
        base_url="http://gateway.test/v1",
        api_key=secret,
        http_client=gateway,  # type: ignore[arg-type]
        max_retries=0,
    )
    before = len(recorder.bodies)
    created = await api.videos.create(
        model="omni",
        prompt="a fox, moving like the reference",
        seconds="4",
        size="1280x720",
        extra_body={"input_references": [video_ref(CLIP), video_ref(OTHER)]},
    )
    assert created.status == "queued"
    usage: Any = created.to_dict()["usage"]
    # Reserved: 5,792 tokens/s x 4 s = 23,168 tokens x $12/1M = $0.278016 (no per-input-video price).
    assert (usage["cost"], usage["cost_is_estimate"]) == (0.278016, True)
    sent = recorder.bodies[before:]
    assert len(sent) == 1
    assert sent[0]["input"] == [
        {
            "type": "user_input",
            "content": [
                {"type": "text", "text": "a fox, moving like the reference"},
                {"type": "video", "uri": CLIP, "mime_type": "video/mp4"},
                {"type": "video", "uri": OTHER},
            ],
        }
    ]
    assert sent[0]["generation_config"]["video_config"]["task"] == "reference_to_video"
    assert (await finished(api, created.id)).status == "completed"
    # Settled: 5,760 tokens/s x 4 s = 23,040 tokens x $12/1M = $0.27648.
    assert await spend(gateway, secret) == pytest.approx(0.27648, abs=1e-9)
    assert (await finished(api, created.id)).status == "completed"
    assert await spend(gateway, secret) == pytest.approx(0.27648, abs=1e-9)


async def test_refusals_come_before_any_upstream_call_or_charge(
    gateway: httpx.AsyncClient, upstream: tuple[str, CreateBodies]
) -> None:
    recorder = upstream[1]
    secret = await new_key(gateway)
    headers = {"Authorization": f"Bearer {secret}"}
    before = len(recorder.bodies)
    cases = [
        ("omni", [video_ref("https://169.254.169.254/latest")], "input_references[0].video_url.url"),
        (
            "omni",
            [video_ref(CLIP), video_ref("http://cdn.example.com/a.mp4")],
            "input_references[1].video_url.url",
        ),
        ("omni", [video_ref(f"{CLIP}?n={i}") for i in range(4)], "input_references"),
        ("preview", [video_ref(CLIP)], "input_references"),
    ]
    for model, refs, param in cases:
        reply = await gateway.post(
            "/v1/videos",
            json={"model": model, "prompt": "a fox", "seconds": "4", "input_references": refs},
            headers=headers,
        )
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]["param"] == param
    form = await gateway.post(  # multipart, flattened as the openai package flattens it
        "/v1/videos",
        files=[
            ("model", (None, "omni")),
            ("prompt", (None, "a fox")),
            ("input_references[][type]", (None, "video_url")),
            ("input_references[][type]", (None, "video_url")),
            ("input_references[][video_url][url]", (None, CLIP)),
            ("input_references[][video_url][url]", (None, "https://localhost/a.mp4")),
        ],
        headers=headers,
    )
    assert form.status_code == 400, form.text
    assert form.json()["error"]["param"] == "input_references[1].video_url.url"
    assert len(recorder.bodies) == before
    assert await spend(gateway, secret) == 0


async def test_drop_params_leaves_the_videos_out_and_says_so(
    gateway: httpx.AsyncClient, upstream: tuple[str, CreateBodies]
) -> None:
    recorder = upstream[1]
    secret = await new_key(gateway)
    before = len(recorder.bodies)
    reply = await gateway.post(
        "/v1/videos",
        json={
            "model": "preview-drop",
            "prompt": "a fox",
            "seconds": "4",
            "input_references": [video_ref(CLIP)],
        },
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-vidgate-dropped-params"] == "input_references"
    sent = recorder.bodies[before:]
    assert len(sent) == 1
    assert sent[0]["input"] == "a fox"  # no video block went upstream
