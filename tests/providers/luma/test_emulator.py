"""The Luma emulator judged by the official ``lumaai`` SDK (1.21.0), plus its Agents API dialect.

``lumaai`` 1.21.0 speaks the legacy Dream Machine API only (base ``/dream-machine/v1``, create is ``POST
/generations/video`` with ``generation_type``); the Agents API (``/v1/generations`` with ``type``) has no
SDK yet, so it is checked over httpx with the same Generation shape. See ARCHITECTURE.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import lumaai
import pytest
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.providers.luma.emulator import create_app

KEY = "luma-api-emulator-key"
POLLS = 200


@pytest.fixture(scope="module")
def base(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def short_lived(render_cache: Path) -> Iterator[str]:
    """Asset URLs valid for 1 s."""
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.2, cache_dir=render_cache)
    with live_server(create_app(settings, url_ttl=1.0)) as url:
        yield url


def sdk(base: str, key: str = KEY) -> lumaai.LumaAI:
    return lumaai.LumaAI(auth_token=key, base_url=f"{base}/dream-machine/v1", max_retries=0)


def wait(client: lumaai.LumaAI, generation_id: str) -> Any:
    for _ in range(POLLS):
        generation = client.generations.get(generation_id)
        if generation.state in ("completed", "failed"):
            return generation
        time.sleep(0.05)
    raise AssertionError(f"generation {generation_id} did not finish within {POLLS} polls")


def test_the_sdk_creates_polls_and_downloads(base: str) -> None:
    client = sdk(base)
    generation = client.generations.create(
        model="ray-3.2",  # type: ignore[arg-type]  # the SDK's literal lists ray-2 and ray-flash-2 only
        prompt="a lighthouse at dusk",
        duration="5s",
        resolution="540p",
        aspect_ratio="16:9",
    )
    assert generation.id is not None
    assert generation.state == "queued"
    done = wait(client, generation.id)
    assert done.state == "completed"
    assert done.assets is not None
    assert done.assets.video
    info = probe(httpx.get(done.assets.video).content)
    assert (info.width, info.height, info.codec) == (960, 540, "h264")
    assert info.duration == pytest.approx(5.0, abs=0.05)


def test_the_sdk_lists_and_deletes(base: str) -> None:
    client = sdk(base)
    made = client.generations.create(model="ray-3.2", prompt="a kite")  # type: ignore[arg-type]
    assert made.id is not None
    page = client.generations.list(limit=1)
    assert [g.id for g in page.generations] == [made.id]
    assert page.limit == 1
    assert page.offset == 0
    client.generations.delete(made.id)
    with pytest.raises(lumaai.NotFoundError):
        client.generations.get(made.id)


def test_the_sdk_raises_its_own_errors(base: str) -> None:
    with pytest.raises(lumaai.AuthenticationError):
        sdk(base, key="luma-api-wrong").generations.get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(lumaai.NotFoundError):
        sdk(base).generations.get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(lumaai.UnprocessableEntityError):
        sdk(base).generations.create(model="ray-3.2", prompt="x", duration="7s")  # type: ignore[arg-type]


def test_failed_and_moderated_generations_carry_a_reason(base: str) -> None:
    client = sdk(base)
    for token, word in (("fail", "failed"), ("filtered", "moderation")):
        made = client.generations.create(model="ray-3.2", prompt=f"a storm [fault:{token}]")  # type: ignore[arg-type]
        assert made.id is not None
        done = wait(client, made.id)
        assert done.state == "failed"
        assert done.failure_reason is not None
        assert word in done.failure_reason


def agents(base: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{base}/v1{path}", headers={"Authorization": f"Bearer {KEY}"}, **kwargs)


def test_the_agents_api_dialect(base: str) -> None:
    body = {"type": "video", "model": "ray-3.2", "prompt": "a fox", "duration": "9s", "resolution": "720p"}
    created = agents(base, "POST", "/generations", json={**body, "aspect_ratio": "9:16"})
    assert created.status_code == 201
    assert created.headers["x-api-version"] == "2026-04-01"
    generation_id = created.json()["id"]
    for _ in range(POLLS):
        state = agents(base, "GET", f"/generations/{generation_id}").json()
        if state["state"] in ("completed", "failed"):
            break
        time.sleep(0.05)
    assert state["state"] == "completed"
    info = probe(httpx.get(state["assets"]["video"]).content)
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == pytest.approx(9.0, abs=0.05)
    listed = agents(base, "GET", "/generations", params={"limit": 10}).json()
    assert generation_id in [g["id"] for g in listed["generations"]]
    assert agents(base, "DELETE", f"/generations/{generation_id}").status_code == 204
    assert agents(base, "GET", f"/generations/{generation_id}").status_code == 404


def test_the_agents_api_refuses_a_missing_type(base: str) -> None:
    refused = agents(base, "POST", "/generations", json={"model": "ray-3.2", "prompt": "a fox"})
    assert refused.status_code == 422
    assert "type" in refused.json()["detail"]


def test_asset_urls_expire_and_a_new_get_signs_a_fresh_one(short_lived: str) -> None:
    client = sdk(short_lived)
    made = client.generations.create(model="ray-3.2", prompt="a clock", resolution="540p")  # type: ignore[arg-type]
    assert made.id is not None
    first = wait(client, made.id).assets.video
    time.sleep(2.1)  # the URL's expiry is whole seconds: wait past it
    assert httpx.get(first).status_code == 403
    fresh = client.generations.get(made.id).assets
    assert fresh is not None
    assert fresh.video
    assert httpx.get(fresh.video).status_code == 200
