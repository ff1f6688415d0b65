"""The Interactions routes over HTTP (Gemini API and Vertex AI, scoped and express): Google's error
envelope and statuses for every refusal (an unknown method is Google's 404 "Method not found"),
versions, and an interaction created on one route family read back through ``/v1/videos``. The
gateway app runs in-process; its deployments are the emulators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.google_gateway import anew_key, google_emulators, omni_client, omni_config

from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

GEMINI = "/gemini/v1beta/interactions"
VERTEX = "/vertex_ai/v1beta1/projects/p1/locations/global/interactions"
VERTEX_EXPRESS = "/vertex_ai/v1beta1/interactions"
FORMAT = {"type": "video", "aspect_ratio": "16:9", "resolution": "360p", "duration": "3s"}


def body(model: str = "omni", **fields: Any) -> dict[str, Any]:
    return {"model": model, "input": "a fox", "background": True, "response_format": FORMAT, **fields}


@pytest.fixture(scope="module")
def emulators(render_cache: Path) -> Iterator[tuple[str, str]]:
    with google_emulators(render_cache) as urls:
        yield urls


@pytest.fixture
async def client(emulators: tuple[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with omni_client(emulators) as http:
        yield http


new_key = anew_key


def google_error(reply: httpx.Response, code: int, status: str) -> dict[str, Any]:
    assert reply.status_code == code, reply.text
    error: dict[str, Any] = reply.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    return error


async def finished(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(400):
        reply = await client.get(path, headers=headers)
        assert reply.status_code == 200, reply.text
        found: dict[str, Any] = reply.json()
        if found["status"] not in ("queued", "in_progress"):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never finished")


async def test_gemini_create_get_cancel_delete(client: httpx.AsyncClient) -> None:
    secret = await new_key(client)
    headers = {"x-goog-api-key": secret}
    created = await client.post("/gemini/v1/interactions", json=body(), headers=headers)  # google-genai's v1
    assert created.status_code == 200, created.text
    interaction_id = created.json()["id"]
    same = await client.get(f"/v1/videos/{interaction_id}", headers={"Authorization": f"Bearer {secret}"})
    assert (same.status_code, same.json()["model"]) == (200, "omni")
    done = await finished(client, f"{GEMINI}/{interaction_id}", headers)
    assert done["status"] == "completed"
    cancel = await client.post(f"{GEMINI}/{interaction_id}/cancel", headers=headers)
    assert cancel.json()["status"] == "completed"  # a finished interaction is answered as it is
    deleted = await client.delete(f"{GEMINI}/{interaction_id}", headers=headers)
    assert (deleted.status_code, deleted.json()) == (200, {})
    google_error(await client.get(f"{GEMINI}/{interaction_id}", headers=headers), 404, "NOT_FOUND")


async def test_vertex_scoped_and_express(client: httpx.AsyncClient) -> None:
    secret = await new_key(client)
    bearer = {"Authorization": f"Bearer {secret}"}
    for root in (VERTEX, VERTEX_EXPRESS):
        created = await client.post(root, json=body("omni-vertex"), headers=bearer)
        assert created.status_code == 200, created.text
        done = await finished(client, f"{root}/{created.json()['id']}", bearer)
        assert done["status"] == "completed"
        assert done["output_video"]["data"]  # Vertex's default delivery: inline


async def test_refusals_in_googles_envelope(client: httpx.AsyncClient) -> None:
    secret = await new_key(client)
    headers = {"x-goog-api-key": secret}
    error = google_error(
        await client.post(GEMINI, json=body(background=False), headers=headers), 400, "INVALID_ARGUMENT"
    )
    assert error["details"][0]["fieldViolations"][0]["field"] == "background"
    bad_duration = body(response_format={**FORMAT, "duration": "99s"})
    error = google_error(
        await client.post(GEMINI, json=bad_duration, headers=headers), 400, "INVALID_ARGUMENT"
    )
    assert error["details"][0]["fieldViolations"][0]["field"] == "response_format.duration"
    google_error(await client.post(GEMINI, json=body("nope"), headers=headers), 404, "NOT_FOUND")
    google_error(await client.post(GEMINI, content=b"{", headers=headers), 400, "INVALID_ARGUMENT")
    bad_key = google_error(
        await client.get(f"{GEMINI}/video_x", headers={"x-goog-api-key": "wrong"}), 400, "INVALID_ARGUMENT"
    )
    assert bad_key["details"][0]["reason"] == "API_KEY_INVALID"
    vertex_key = await client.get(f"{VERTEX}/video_x", headers={"Authorization": "Bearer wrong"})
    google_error(vertex_key, 401, "UNAUTHENTICATED")
    google_error(await client.get("/gemini/v9/interactions/video_x", headers=headers), 404, "NOT_FOUND")
    unknown_method = await client.put(f"{GEMINI}/video_x", headers=headers)
    assert "Method not found" in google_error(unknown_method, 404, "NOT_FOUND")["message"]


async def test_guardrails_screen_an_interactions_prompt_before_anything_is_spent(
    emulators: tuple[str, str],
) -> None:
    no_brands = {
        "guardrail_name": "no-brands",
        "litellm_params": {
            "guardrail": "blocklist",
            "mode": "pre_call",
            "default_on": True,
            "blocked_words": ["acme"],
        },
    }
    app = create_app(omni_config(*emulators, guardrails=[no_brands]), stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            secret = await new_key(client)
            headers = {"x-goog-api-key": secret}
            refused = await client.post(GEMINI, json={**body(), "input": "an ACME rocket"}, headers=headers)
            error = google_error(refused, 400, "INVALID_ARGUMENT")
            assert "no-brands" in error["message"]
            bearer = {"Authorization": f"Bearer {secret}"}
            assert (await client.get("/v1/videos", headers=bearer)).json()["data"] == []
            info = await client.get("/key/info", headers=bearer)
            assert (info.json()["info"]["spend"], info.json()["info"]["reserved"]) == (0, 0)
