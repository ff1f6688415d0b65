"""Gemini Omni edits and extensions through the gateway, sent by the official ``openai`` package: an
extension of a video id (``previous_interaction_id`` upstream, the source ran on the same deployment)
and an edit of an uploaded MP4 (the video as an input block), each charged the settled tokens once.

Prices by hand: gemini-omni-1.2-flash $12 per 1M output tokens (LiteLLM's map, field-2026-12.md §4.1);
the emulator reports 5,760 tokens per generated second (an extension: the added seconds only)."""

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

MASTER = "sk-omni-edits-master"
UPSTREAM_KEY = "gemini-omni-edits-upstream"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # openai deprecates the Videos API


@pytest.fixture(scope="module")
def upstream(render_cache: Path) -> Iterator[str]:
    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=0.3, cache_dir=render_cache)
    with live_server(gemini_emulator(settings)) as url:
        yield url


@pytest.fixture
async def gateway(upstream: str) -> AsyncIterator[httpx.AsyncClient]:
    params = {"model": "gemini/gemini-omni-1.2-flash", "api_key": UPSTREAM_KEY, "api_base": upstream}
    config = parse_config(
        {
            "model_list": [{"model_name": "omni", "litellm_params": params}],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    app = create_app(config, stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client


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


async def test_openai_sdk_extends_and_edits_omni_videos_paying_the_settled_tokens(
    gateway: httpx.AsyncClient,
) -> None:
    reply = await gateway.post("/key/generate", json={}, headers={"Authorization": f"Bearer {MASTER}"})
    secret = reply.json()["key"]
    api = openai.AsyncOpenAI(
        base_url="http://gateway.test/v1",
        api_key=secret,
        http_client=gateway,  # type: ignore[arg-type]
        max_retries=0,
    )
    created = await api.videos.create(model="omni", prompt="a red fox", seconds="4", size="1280x720")
    assert (await finished(api, created.id)).status == "completed"
    clip = (await api.videos.download_content(created.id)).content
    extended = await api.post(
        "/videos/extensions",
        body={"prompt": "the fox runs on", "seconds": "3", "video": {"id": created.id}},
        cast_to=openai.types.Video,
    )
    assert (await finished(api, extended.id)).status == "completed"
    longer = probe((await api.videos.download_content(extended.id)).content)
    assert longer.duration == pytest.approx(7.0, abs=0.1)  # 4 s + 3 s
    edited = await api.videos.edit(
        prompt="make it winter", video=("fox.mp4", clip, "video/mp4"), extra_body={"model": "omni"}
    )
    assert (await finished(api, edited.id)).status == "completed"
    assert probe((await api.videos.download_content(edited.id)).content).duration == pytest.approx(
        4.0, abs=0.1
    )
    # 5,760 tokens/s x $12/1M: 4 s source $0.27648 + 3 s added $0.20736 + 4 s edit $0.27648 = $0.76032
    assert await spend(gateway, secret) == pytest.approx(0.76032, abs=1e-9)
