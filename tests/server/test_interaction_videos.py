"""Video inputs on the Interactions pass-through over HTTP: reference videos (an https URL, inline data)
forwarded as sent and priced at the row's token bound (Omni has no per-input-video price); an input
video as the source of an extension or an edit, priced at the added or the source's seconds; refusals in
Google's envelope before any charge; ``upscale`` refused saying why; a finished interaction answered
from the in-memory cache of finished jobs until it is deleted."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.google_gateway import MASTER, anew_key, google_emulators, omni_client, omni_config

from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

GEMINI = "/gemini/v1beta/interactions"
VERTEX = "/vertex_ai/v1beta1/projects/p1/locations/global/interactions"
FORMAT = {"type": "video", "aspect_ratio": "16:9", "resolution": "360p", "duration": "3s"}
CLIP = "https://cdn.example.com/clips/walk.mp4"
# gemini-omni-1.2-flash at $12 per 1M output tokens (LiteLLM's map): 3 s reserve 5,792 x 3 tokens =
# $0.208512; the emulator reports 5,760 x 3 tokens = $0.20736. No per-input-video price.
RESERVED_3S = 0.208512
SETTLED_3S = 0.20736


def body(*videos: dict[str, Any], task: str = "reference_to_video", model: str = "omni") -> dict[str, Any]:
    return {
        "model": model,
        "input": [{"type": "text", "text": "a fox, moving like this"}, *videos],
        "background": True,
        "response_format": FORMAT,
        "generation_config": {"video_config": {"task": task}},
    }


@pytest.fixture(scope="module")
def emulators(render_cache: Path) -> Iterator[tuple[str, str]]:
    with google_emulators(render_cache) as urls:
        yield urls


@pytest.fixture
async def client(emulators: tuple[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with omni_client(emulators) as http:
        yield http


new_key = anew_key


async def key_money(client: httpx.AsyncClient, secret: str) -> tuple[float, float]:
    """(spend, reserved) in USD."""
    reply = await client.get(
        "/key/info", params={"key": secret}, headers={"Authorization": f"Bearer {MASTER}"}
    )
    info = reply.json()["info"]
    return info["spend"], info["reserved"]


async def spend(client: httpx.AsyncClient, secret: str) -> float:
    return (await key_money(client, secret))[0]


async def finished(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(400):
        reply = await client.get(path, headers=headers)
        assert reply.status_code == 200, reply.text
        found: dict[str, Any] = reply.json()
        if found["status"] not in ("queued", "in_progress"):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never finished")


def clip_bytes(render_cache: Path) -> bytes:
    from vidgate.render import RenderSpec, render

    return render(
        RenderSpec(prompt="clip", seconds=1, width=640, height=360), cache_dir=render_cache
    ).video.read_bytes()


async def test_reference_videos_by_url_and_data_are_forwarded_and_priced_at_the_token_bound(
    client: httpx.AsyncClient, render_cache: Path
) -> None:
    secret = await new_key(client)
    headers = {"x-goog-api-key": secret}
    inline = base64.b64encode(clip_bytes(render_cache)).decode("ascii")
    created = await client.post(
        GEMINI,
        json=body(
            {"type": "video", "uri": CLIP, "mime_type": "video/mp4"},
            {"type": "video", "data": inline, "mime_type": "video/mp4"},
        ),
        headers=headers,
    )
    assert created.status_code == 200, created.text
    interaction = created.json()
    assert interaction["status"] == "queued"
    video = await client.get(f"/v1/videos/{interaction['id']}", headers={"Authorization": f"Bearer {secret}"})
    assert (video.json()["usage"]["cost"], video.json()["usage"]["cost_is_estimate"]) == (RESERVED_3S, True)
    done = await finished(client, f"{GEMINI}/{interaction['id']}", headers)
    assert done["status"] == "completed", done
    assert done["usage"]["total_output_tokens"] == 5760 * 3
    assert await spend(client, secret) == pytest.approx(SETTLED_3S, abs=1e-9)


async def test_vertex_takes_https_video_uris_too(client: httpx.AsyncClient) -> None:
    secret = await new_key(client)
    reply = await client.post(
        VERTEX,
        json=body({"type": "video", "uri": CLIP}, model="omni-vertex"),
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize(
    ("raw", "param", "words"),
    [
        (body({"type": "video", "uri": "https://127.0.0.1/a.mp4"}), "input[1].uri", "private"),
        (body({"type": "video", "uri": "http://cdn.example.com/a.mp4"}), "input[1].uri", "https://"),
        (body(*[{"type": "video", "uri": f"{CLIP}?n={i}"} for i in range(4)]), "input", "At most 3"),
        (body({"type": "video", "uri": CLIP}, task="image_to_video"), "input", "reference_to_video"),
        (
            body({"type": "video", "uri": CLIP}, task="upscale"),
            "generation_config.video_config.task",
            "bills",
        ),
    ],
)
async def test_refusals_come_in_googles_envelope_before_any_charge(
    client: httpx.AsyncClient, raw: dict[str, Any], param: str, words: str
) -> None:
    secret = await new_key(client)
    reply = await client.post(GEMINI, json=raw, headers={"x-goog-api-key": secret})
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["status"], words in error["message"]) == ("INVALID_ARGUMENT", True)
    violations = [v for d in error.get("details", []) for v in d.get("fieldViolations", [])]
    assert [v["field"] for v in violations] == [param], error
    assert await key_money(client, secret) == (0, 0.0)
    listed = await client.get("/v1/videos", headers={"Authorization": f"Bearer {secret}"})
    assert listed.json()["data"] == []


async def test_a_finished_interaction_is_answered_from_the_cache_until_deleted(
    emulators: tuple[str, str],
) -> None:
    app = create_app(omni_config(*emulators), stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            secret = await new_key(client)
            headers = {"x-goog-api-key": secret}
            uri = {**FORMAT, "delivery": "uri"}
            raw = {"model": "omni", "input": "a fox", "background": True, "response_format": uri}
            created = (await client.post(GEMINI, json=raw, headers=headers)).json()
            path = f"{GEMINI}/{created['id']}"
            state = app.state.vidgate
            owner = (await state.service.authenticate(secret)).owner_id
            assert state.finished.get(owner, created["id"], view="interaction") is None
            done = await finished(client, path, headers)
            assert done["status"] == "completed"
            cached = state.finished.get(owner, created["id"], view="interaction")
            assert cached is not None
            assert (await client.get(path, headers=headers)).content == cached.body
            other = await new_key(client)  # an entry is found only under its owner
            assert (await client.get(path, headers={"x-goog-api-key": other})).status_code == 404
            assert (await client.delete(path, headers=headers)).status_code == 200
            assert state.finished.get(owner, created["id"], view="interaction") is None
            assert (await client.get(path, headers=headers)).status_code == 404


async def test_an_input_video_as_the_source_of_an_extension_and_an_edit(
    client: httpx.AsyncClient, render_cache: Path
) -> None:
    """No ``previous_interaction_id``: the extension is priced at its duration (3 s), the edit at the
    source's length (1 s: 5,792 tokens reserved = $0.069504; 5,760 reported = $0.06912); an edit asking
    for another duration is refused."""
    secret = await new_key(client)
    headers = {"x-goog-api-key": secret}
    source = {
        "type": "video",
        "data": base64.b64encode(clip_bytes(render_cache)).decode(),
        "mime_type": "video/mp4",
    }
    extended = await client.post(GEMINI, json=body(source, task="extend"), headers=headers)
    assert extended.status_code == 200, extended.text
    assert (await key_money(client, secret)) == (0, RESERVED_3S)
    assert (await finished(client, f"{GEMINI}/{extended.json()['id']}", headers))["status"] == "completed"
    assert await spend(client, secret) == pytest.approx(SETTLED_3S, abs=1e-9)
    longer = await client.post(GEMINI, json=body(source, task="edit"), headers=headers)  # "3s" of 1 s
    assert longer.status_code == 400, longer.text
    assert "response_format.duration" in longer.text
    edit = {**body(source, task="edit"), "response_format": {**FORMAT, "duration": "1s"}}
    edited = await client.post(GEMINI, json=edit, headers=headers)
    assert edited.status_code == 200, edited.text
    assert (await key_money(client, secret))[1] == pytest.approx(0.069504, abs=1e-9)
    assert (await finished(client, f"{GEMINI}/{edited.json()['id']}", headers))["status"] == "completed"
    spent, reserved = await key_money(client, secret)
    assert spent == pytest.approx(0.27648, abs=1e-9)  # $0.20736 + $0.06912
    assert reserved == 0
    by_url = await client.post(
        GEMINI, json=body({"type": "video", "uri": CLIP}, task="edit"), headers=headers
    )
    assert by_url.status_code == 400, by_url.text
