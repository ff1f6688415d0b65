"""The Google-native routes over HTTP: keys as Google's clients send them, Google's error envelope and
statuses, ownership (404), Range on file downloads, Vertex's fetchPredictOperation, and the same jobs
seen through ``/v1/videos``. The gateway app runs in-process; its deployments are the emulators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.google_gateway import GEMINI_KEY, MASTER, google_config, google_emulators
from tests.support.media import probe

from vidgate.gateway.config import parse_config
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

FAST = "/gemini/v1beta/models/veo-fast:predictLongRunning"
VERTEX = "/vertex_ai/v1beta1/projects/p1/locations/us-east1/publishers/google/models/veo-vertex"


def goog(secret: str) -> dict[str, str]:
    return {"x-goog-api-key": secret}


def veo(prompt: str = "a red fox", **parameters: Any) -> dict[str, Any]:
    return {"instances": [{"prompt": prompt}], "parameters": {"durationSeconds": 4, **parameters}}


@pytest.fixture(scope="module")
def emulators(render_cache: Path) -> Iterator[tuple[str, str]]:
    with google_emulators(render_cache) as urls:
        yield urls


@pytest.fixture
async def client(emulators: tuple[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(google_config(*emulators), stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


async def new_key(client: httpx.AsyncClient, **fields: Any) -> str:
    reply = await client.post("/key/generate", json=fields, headers={"Authorization": f"Bearer {MASTER}"})
    assert reply.status_code == 200, reply.text
    secret: str = reply.json()["key"]
    return secret


async def done(client: httpx.AsyncClient, secret: str, name: str) -> dict[str, Any]:
    for _ in range(400):
        reply = await client.get(f"/gemini/v1beta/{name}", headers=goog(secret))
        assert reply.status_code == 200, reply.text
        op: dict[str, Any] = reply.json()
        if op.get("done"):
            return op
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} never finished")


def google_error(reply: httpx.Response, code: int, status: str) -> dict[str, Any]:
    assert reply.status_code == code, reply.text
    error: dict[str, Any] = reply.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    assert set(error) >= {"code", "message", "status"}
    return error


async def test_the_key_as_google_clients_send_it(client: httpx.AsyncClient) -> None:
    secret = await new_key(client)
    for kwargs in (
        {"headers": goog(secret)},
        {"params": {"key": secret}},
        {"headers": {"Authorization": f"Bearer {secret}"}},
    ):
        reply = await client.post(FAST, json=veo(), **kwargs)  # type: ignore[arg-type]
        assert reply.status_code == 200, reply.text
        assert reply.json()["name"].startswith("models/veo-fast/operations/video_")
    v1 = await client.post(FAST.replace("v1beta", "v1"), json=veo(), headers=goog(secret))
    assert v1.status_code == 200


async def test_errors_in_googles_envelope(client: httpx.AsyncClient) -> None:
    secret = await new_key(client, max_budget=0.5)
    error = google_error(
        await client.post(FAST, json=veo(), headers=goog("sk-wrong")), 400, "INVALID_ARGUMENT"
    )
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    google_error(await client.post(FAST, json=veo()), 403, "PERMISSION_DENIED")
    bad = google_error(
        await client.post(FAST, json=veo(durationSeconds=20), headers=goog(secret)), 400, "INVALID_ARGUMENT"
    )
    assert "between 4 and 8" in bad["message"]
    violation = next(d for d in bad["details"] if d["@type"].endswith("BadRequest"))
    assert violation["fieldViolations"][0]["field"] == "durationSeconds"
    budget = google_error(
        await client.post(FAST, json=veo(), headers=goog(secret)), 429, "RESOURCE_EXHAUSTED"
    )
    assert "budget" in budget["message"].lower()
    unknown = "/gemini/v1beta/models/veo-9:predictLongRunning"
    google_error(await client.post(unknown, json=veo(), headers=goog(secret)), 404, "NOT_FOUND")
    google_error(await client.post(FAST, content=b"{not json", headers=goog(secret)), 400, "INVALID_ARGUMENT")
    google_error(await client.get("/gemini/v1beta/tunedModels", headers=goog(secret)), 404, "NOT_FOUND")
    google_error(
        await client.post(FAST.replace("v1beta", "v2"), json=veo(), headers=goog(secret)), 404, "NOT_FOUND"
    )
    google_error(await client.post(VERTEX + ":predictLongRunning", json=veo()), 401, "UNAUTHENTICATED")
    openai_shape = await client.get("/v1/videos/video_x", headers={"Authorization": "Bearer sk-wrong"})
    assert set(openai_shape.json()["error"]) == {"message", "type", "param", "code"}  # /v1 keeps OpenAI's


async def test_provider_refusing_the_gateways_key_is_not_the_callers_fault(
    emulators: tuple[str, str],
) -> None:
    entry = {
        "model": "gemini/veo-3.0-fast-generate-001",
        "allow_retired": True,
        "api_key": "not-" + GEMINI_KEY,
        "api_base": emulators[0],
    }
    config = parse_config(
        {
            "model_list": [{"model_name": "veo-fast", "litellm_params": entry}],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    app = create_app(config, stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            secret = await new_key(client, max_budget=5)
            error = google_error(await client.post(FAST, json=veo(), headers=goog(secret)), 500, "INTERNAL")
            assert "gateway's credentials" in error["message"]
            info = await client.get(
                "/key/info", params={"key": secret}, headers={"Authorization": f"Bearer {MASTER}"}
            )
            assert info.json()["info"]["reserved"] == 0


async def test_poll_and_download_with_range(client: httpx.AsyncClient) -> None:
    secret = await new_key(client)
    created = await client.post(FAST, json=veo(), headers=goog(secret))
    op = await done(client, secret, created.json()["name"])
    uri = op["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
    assert uri.startswith("https://generativelanguage.googleapis.com/v1beta/files/")
    path = uri.removeprefix("https://generativelanguage.googleapis.com")
    whole = await client.get(f"/gemini{path}", headers=goog(secret))
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert probe(whole.content).frames > 0
    part = await client.get(f"/gemini{path}", headers={**goog(secret), "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.content == whole.content[100:200]
    tail = await client.get(f"/gemini{path}", headers={**goog(secret), "Range": "bytes=-50"})
    assert (tail.status_code, tail.content) == (206, whole.content[-50:])
    beyond = await client.get(
        f"/gemini{path}", headers={**goog(secret), "Range": f"bytes={len(whole.content)}-"}
    )
    assert beyond.status_code == 416
    resumed = await client.get(
        f"/gemini{path}", headers={**goog(secret), "Range": "bytes=100-", "If-Range": whole.headers["etag"]}
    )
    assert (resumed.status_code, resumed.content) == (206, whole.content[100:])
    restart = await client.get(
        f"/gemini{path}", headers={**goog(secret), "Range": "bytes=100-", "If-Range": '"x"'}
    )
    assert (restart.status_code, restart.content) == (200, whole.content)
    head = await client.head(f"/gemini{path}", headers=goog(secret))
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(whole.content))
    no_alt = await client.get(f"/gemini{path.split('?')[0]}", headers=goog(secret))
    google_error(no_alt, 400, "INVALID_ARGUMENT")


async def test_another_key_gets_404(client: httpx.AsyncClient) -> None:
    owner, other = await new_key(client), await new_key(client)
    name = (await client.post(FAST, json=veo(), headers=goog(owner))).json()["name"]
    op = await done(client, owner, name)
    path = op["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"].split("/v1beta")[1]
    google_error(await client.get(f"/gemini/v1beta/{name}", headers=goog(other)), 404, "NOT_FOUND")
    google_error(await client.get(f"/gemini/v1beta{path}", headers=goog(other)), 404, "NOT_FOUND")
    video_id = name.rpartition("/")[2]
    assert (
        await client.get(f"/v1/videos/{video_id}", headers={"Authorization": f"Bearer {other}"})
    ).status_code == 404


async def test_pass_through_jobs_are_videos_of_the_same_key(client: httpx.AsyncClient) -> None:
    secret = await new_key(client)
    name = (await client.post(FAST, json=veo("a heron"), headers=goog(secret))).json()["name"]
    await done(client, secret, name)
    video = (
        await client.get(
            f"/v1/videos/{name.rpartition('/')[2]}", headers={"Authorization": f"Bearer {secret}"}
        )
    ).json()
    assert (video["status"], video["prompt"], video["seconds"], video["model"]) == (
        "completed",
        "a heron",
        "4",
        "veo-fast",
    )
    assert video["usage"]["cost"] == pytest.approx(0.6)
    content = await client.get(
        f"/v1/videos/{video['id']}/content", headers={"Authorization": f"Bearer {secret}"}
    )
    assert probe(content.content).frames > 0


async def test_vertex_routes(client: httpx.AsyncClient) -> None:
    secret = await new_key(client)
    bearer = {"Authorization": f"Bearer {secret}"}
    created = await client.post(VERTEX + ":predictLongRunning", json=veo(sampleCount=1), headers=bearer)
    assert created.status_code == 200, created.text
    name = created.json()["name"]
    assert name.startswith(
        "projects/p1/locations/us-east1/publishers/google/models/veo-vertex/operations/video_"
    )
    for _ in range(400):
        reply = await client.post(
            VERTEX + ":fetchPredictOperation", json={"operationName": name}, headers=bearer
        )
        assert reply.status_code == 200, reply.text
        if reply.json().get("done"):
            break
        await asyncio.sleep(0.05)
    [video] = reply.json()["response"]["videos"]
    assert video["mimeType"] == "video/mp4"
    assert len(video["bytesBase64Encoded"]) > 1000
    express = "/vertex_ai/v1/publishers/google/models/veo-vertex"
    quick = await client.post(express + ":predictLongRunning", json=veo(), headers=goog(secret))
    assert quick.json()["name"].startswith("publishers/google/models/veo-vertex/operations/video_")
    missing = await client.post(express + ":fetchPredictOperation", json={}, headers=goog(secret))
    google_error(missing, 400, "INVALID_ARGUMENT")
    other = await new_key(client)
    stranger = await client.post(
        VERTEX + ":fetchPredictOperation", json={"operationName": name}, headers=goog(other)
    )
    google_error(stranger, 404, "NOT_FOUND")


async def test_pass_through_creates_count_as_submitted_jobs(client: httpx.AsyncClient) -> None:
    """``vidgate_jobs_submitted_total`` counts Google-native creates too, by public model name (also
    when the client names the provider's model id)."""
    secret = await new_key(client)
    assert (await client.post(FAST, json=veo(), headers=goog(secret))).status_code == 200
    bearer = {"Authorization": f"Bearer {secret}"}
    vertex = await client.post(f"{VERTEX}:predictLongRunning", json=veo(), headers=bearer)
    assert vertex.status_code == 200, vertex.text
    native = VERTEX.replace("veo-vertex", "veo-3.0-fast-generate-001")
    assert (await client.post(f"{native}:predictLongRunning", json=veo(), headers=bearer)).status_code == 200
    text = (await client.get("/metrics")).text
    assert 'vidgate_jobs_submitted_total{model="veo-fast"} 1.0' in text
    assert 'vidgate_jobs_submitted_total{model="veo-vertex"} 2.0' in text


async def test_a_done_operation_deleted_through_v1_videos_is_gone_at_once(client: httpx.AsyncClient) -> None:
    secret = await new_key(client)
    name = (await client.post(FAST, json=veo("a wren"), headers=goog(secret))).json()["name"]
    first = await done(client, secret, name)
    again = await client.get(f"/gemini/v1beta/{name}", headers=goog(secret))  # from the finished cache
    assert again.json() == first
    other_name = name.replace("models/veo-fast/", "models/veo-3.0-fast-generate-001/")
    other = await client.get(f"/gemini/v1beta/{other_name}", headers=goog(secret))
    assert other.json()["name"] == other_name  # the name as the client wrote it, not the cached one
    deleted = await client.delete(
        f"/v1/videos/{name.rpartition('/')[2]}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert deleted.status_code == 200, deleted.text
    google_error(await client.get(f"/gemini/v1beta/{name}", headers=goog(secret)), 404, "NOT_FOUND")


async def test_public_base_url_makes_file_uris_reachable_as_given(emulators: tuple[str, str]) -> None:
    """The Veo doc's ``fetch(uri + "&key=KEY")`` pattern: with ``public_base_url`` the URI is the
    gateway's own route, so the key and the request go to the gateway, not to Google."""
    config = google_config(*emulators, public_base_url="http://gateway.test/")
    app = create_app(config, stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            secret = await new_key(http)
            created = await http.post(FAST, json=veo(), headers=goog(secret))
            op = await done(http, secret, created.json()["name"])
            uri = op["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
            assert uri.startswith("http://gateway.test/gemini/v1beta/files/")
            assert uri.endswith(":download?alt=media")
            video = await http.get(uri + "&key=" + secret)
            assert video.status_code == 200, video.text
            assert probe(video.content).duration == pytest.approx(4.0, abs=0.1)
            other = await new_key(http)
            google_error(await http.get(uri + "&key=" + other), 404, "NOT_FOUND")
