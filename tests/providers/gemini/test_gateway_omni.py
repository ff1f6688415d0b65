"""Gemini Omni through the gateway's /v1/videos with the official ``openai`` SDK: create, poll, remix
(``previous_interaction_id`` upstream), download both; the key pays the settled token price once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.gemini.emulator import create_app as gemini_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

MASTER = "sk-omni-master"
UPSTREAM_KEY = "gemini-omni-upstream"


@pytest.fixture(scope="module")
def upstream(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(gemini_emulator(settings)) as url:
        yield url


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # openai deprecates the Videos API


@pytest.fixture
async def gateway(upstream: str) -> AsyncIterator[httpx.AsyncClient]:
    config = parse_config(
        {
            "model_list": [
                {
                    "model_name": "omni",
                    "litellm_params": {
                        "model": "gemini/gemini-omni-1.2-flash",
                        "api_key": UPSTREAM_KEY,
                        "api_base": upstream,
                    },
                }
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


def sdk(client: httpx.AsyncClient, secret: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url="http://gateway.test/v1",
        api_key=secret,
        http_client=client,  # type: ignore[arg-type]
        max_retries=0,
    )


async def key_info(client: httpx.AsyncClient, secret: str) -> dict[str, Any]:
    reply = await client.get(
        "/key/info", params={"key": secret}, headers={"Authorization": f"Bearer {MASTER}"}
    )
    info: dict[str, Any] = reply.json()["info"]
    return info


async def finished(api: openai.AsyncOpenAI, video_id: str) -> Any:
    for _ in range(400):
        video = await api.videos.retrieve(video_id)
        if video.status in ("completed", "failed"):
            return video
        await asyncio.sleep(0.05)
    raise AssertionError(f"{video_id} never finished")


async def test_openai_sdk_creates_remixes_and_downloads_an_omni_video_paying_the_settled_tokens(
    gateway: httpx.AsyncClient,
) -> None:
    reply = await gateway.post("/key/generate", json={}, headers={"Authorization": f"Bearer {MASTER}"})
    secret = reply.json()["key"]
    api = sdk(gateway, secret)
    created = await api.videos.create(model="omni", prompt="a red fox", seconds="4", size="1280x720")
    # Reserved: 5,792 tokens/s x 4 s = 23,168 tokens x $12/1M = $0.278016 (the estimate shown).
    assert created.status == "queued"
    usage: Any = created.to_dict()["usage"]  # the create's answer: the reservation, an estimate
    assert (usage["cost"], usage["cost_is_estimate"]) == (0.278016, True)
    info = await key_info(gateway, secret)
    assert info["spend"] == 0
    first = await finished(api, created.id)
    assert first.status == "completed", first
    remix = await api.videos.remix(created.id, prompt="now at night")
    assert remix.remixed_from_video_id == created.id
    second = await finished(api, remix.id)
    assert second.status == "completed", second
    videos = [await api.videos.download_content(v.id) for v in (first, second)]
    for content in videos:
        video = probe(content.content)
        assert (video.width, video.height) == (1280, 720)
        assert video.duration == pytest.approx(4.0, abs=0.1)
    # Settled from the reported usage: 5,760 tokens/s x 4 s = 23,040 tokens x $12/1M = $0.27648 per
    # video, two videos = $0.55296.
    info = await key_info(gateway, secret)
    assert info["spend"] == pytest.approx(0.55296, abs=1e-9)
    for video_id in (created.id, remix.id):
        settled = await gateway.get(f"/v1/videos/{video_id}", headers={"Authorization": f"Bearer {secret}"})
        assert (settled.json()["usage"]["cost"], settled.json()["usage"]["cost_is_estimate"]) == (
            0.27648,
            False,
        )
    again = await finished(api, remix.id)  # reading a finished job again charges nothing more
    assert again.status == "completed"
    info = await key_info(gateway, secret)
    assert info["spend"] == pytest.approx(0.55296, abs=1e-9)
