"""Runway through the in-process gateway: the official ``openai`` SDK and vidgate's own AsyncClient
create, poll and download from the Runway emulator (over loopback), and the key pays the catalogue
price, written here as a number, exactly once."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from tests.support.gateway_admin import AsyncGatewayAdmin
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import AsyncClient
from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.runway.emulator import create_app as runway_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API is scheduled:DeprecationWarning")

MASTER = "sk-runway-gateway-master"
KEY = "runway-gateway-secret"


@dataclass
class Recorder:
    """The emulator app, with every request it received recorded as ``METHOD /path``."""

    app: Starlette
    seen: list[str] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def emulator(render_cache: Path) -> Iterator[tuple[str, Recorder]]:
    settings = EmulatorSettings(api_key=KEY, processing_seconds=0.3, cache_dir=render_cache)
    recorder = Recorder(runway_emulator(settings))
    with live_server(recorder) as url:
        yield url, recorder


@dataclass(frozen=True)
class Gateway(AsyncGatewayAdmin):
    app: Starlette
    upstream: Recorder

    def auth(self, secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}

    def sdk(self, secret: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            base_url="http://gateway.test/v1",
            api_key=secret,
            # openai types http_client as httpx2's client; an httpx client is what this runs with.
            http_client=httpx.AsyncClient(  # type: ignore[arg-type]
                transport=httpx.ASGITransport(app=self.app), base_url="http://gateway.test"
            ),
            max_retries=0,
        )


@pytest.fixture
async def gateway(emulator: tuple[str, Recorder]) -> AsyncIterator[Gateway]:
    url, recorder = emulator

    def entry(name: str, model: str, **price: str) -> dict[str, Any]:
        params = {"model": model, "api_key": KEY, "api_base": url, **price}
        return {"model_name": name, "litellm_params": params}

    config = parse_config(
        {
            "model_list": [
                entry("gen4.5", "runway/gen4.5"),
                entry("gen4_turbo", "runway/gen4_turbo"),
                entry("veo3.1_fast", "runway/veo3.1_fast"),
                entry("hailuo3", "runway/hailuo3"),
                entry("hailuo3-own-price", "runway/hailuo3", output_cost_per_video="0.9"),
                entry("seedance2", "runway/seedance2"),
            ],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    app = create_app(config, stores=MemoryStores(), run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield Gateway(client, MASTER, app, recorder)


def png(width: int = 1280, height: int = 720) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (220, 120, 40)).save(out, format="PNG")
    return out.getvalue()


async def test_openai_sdk_creates_polls_and_downloads_and_pays_once(gateway: Gateway) -> None:
    key = await gateway.new_key()
    sdk = gateway.sdk(key)
    video = await sdk.videos.create(model="gen4.5", prompt="a paper boat", seconds="4", size="720x1280")
    assert video.status == "queued"
    done = await sdk.videos.poll(video.id, poll_interval_ms=50)
    assert (done.status, done.progress) == ("completed", 100)
    content = await sdk.videos.download_content(video.id)
    info = probe(content.content)
    assert (info.width, info.height, info.codec) == (720, 1280, "h264")
    assert info.duration == pytest.approx(4, abs=0.05)
    again = await sdk.videos.retrieve(video.id)
    await sdk.videos.download_content(video.id)
    # gen4.5: 12 credits/s = $0.12/s x 4 s
    assert again.model_dump()["usage"]["cost"] == 0.48
    assert await gateway.spend(key) == (0.48, [0.48])
    # the caller never sees Runway's signed URL
    assert "_output" not in again.model_dump_json()


async def test_image_with_audio_off_through_vidgates_own_sdk(gateway: Gateway) -> None:
    key = await gateway.new_key()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), base_url="http://gateway.test")
    async with AsyncClient(
        api_key=key, api_base="http://gateway.test", gateway=True, http_client=http
    ) as client:
        video = await client.videos.create(
            model="veo3.1_fast",
            prompt="the harbour at dawn",
            seconds="4",
            size="1280x720",
            input_reference=("first.png", png(), "image/png"),
            generate_audio=False,
        )
        done = await client.videos.wait(video.id, timeout=60, poll_interval=0.05)
        assert done.status == "completed"
        data = await client.videos.content(video.id)
    info = probe(bytes(data))
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(4, abs=0.05)
    # veo3.1_fast without audio: 10 credits/s = $0.10/s x 4 s
    assert await gateway.spend(key) == (0.4, [0.4])
    assert "POST /v1/image_to_video" in gateway.upstream.seen


async def test_an_image_only_model_without_an_image_is_a_400_before_any_call(gateway: Gateway) -> None:
    key = await gateway.new_key()
    before = list(gateway.upstream.seen)
    reply = await gateway.client.post(
        "/v1/videos",
        json={"model": "gen4_turbo", "prompt": "waves", "seconds": "5", "size": "1280x720"},
        headers=gateway.auth(key),
    )
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == "input_reference"
    assert gateway.upstream.seen == before
    assert await gateway.spend(key) == (0.0, [])


async def test_native_fields_cannot_arrive_through_extra_body(gateway: Gateway) -> None:
    key = await gateway.new_key()
    before = list(gateway.upstream.seen)
    body = {"model": "gen4.5", "prompt": "p", "seconds": "2", "size": "1280x720", "extra_body": {}}
    for native in ("ratio", "promptImage", "outputFormat", "draft"):
        body["extra_body"] = {native: "x"}
        reply = await gateway.client.post("/v1/videos", json=body, headers=gateway.auth(key))
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]["param"] == f"extra_body.{native}"
    assert gateway.upstream.seen == before


async def test_delete_reaches_runways_task_delete(gateway: Gateway) -> None:
    key = await gateway.new_key()
    sdk = gateway.sdk(key)
    data_url = "data:image/png;base64," + base64.b64encode(png(960, 960)).decode()
    video = await sdk.videos.create(
        model="gen4_turbo",
        prompt="spinning top",
        seconds="2",  # type: ignore[arg-type]
        size="960x960",  # type: ignore[arg-type]
        extra_body={"input_reference": {"image_url": data_url}},
    )
    done = await sdk.videos.poll(video.id, poll_interval_ms=50)
    assert done.status == "completed"
    deleted = await sdk.videos.delete(video.id)
    assert deleted.deleted
    assert any(line.startswith("DELETE /v1/tasks/") for line in gateway.upstream.seen)
    with pytest.raises(openai.NotFoundError):
        await sdk.videos.retrieve(video.id)
    # gen4_turbo: 5 credits/s = $0.05/s x 2 s
    assert await gateway.spend(key) == (0.1, [0.1])


async def test_hailuo3_at_its_catalogue_price_and_reference_videos_at_the_deployments(
    gateway: Gateway,
) -> None:
    """hailuo3 $0.10/s (Runway resale, secondary) x 5 s = $0.50; reference videos only on the deployment
    with its own price ($0.90 a video), refused before any call on the catalogue-priced one."""
    key = await gateway.new_key()
    sdk = gateway.sdk(key)
    sizes: dict[str, Any] = {"seconds": "5", "size": "1366x768"}  # not among Sora's typed values
    video = await sdk.videos.create(model="hailuo3", prompt="a lighthouse in fog", **sizes)
    done = await sdk.videos.poll(video.id, poll_interval_ms=50)
    assert done.status == "completed"
    info = probe((await sdk.videos.download_content(video.id)).content)
    assert (info.width, info.height) == (1366, 768)
    assert await gateway.spend(key) == (0.5, [0.5])
    clip = {"type": "video_url", "video_url": {"url": "https://cdn.example.com/dancer.mp4"}}
    before = list(gateway.upstream.seen)
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.videos.create(
            model="hailuo3", prompt="Video 1 dances", extra_body={"input_references": [clip]}
        )
    assert refused.value.body["param"] == "input_references"  # type: ignore[index]
    assert gateway.upstream.seen == before
    video = await sdk.videos.create(
        model="hailuo3-own-price", prompt="Video 1 dances", extra_body={"input_references": [clip]}, **sizes
    )
    assert (await sdk.videos.poll(video.id, poll_interval_ms=50)).status == "completed"
    await sdk.videos.retrieve(video.id)
    assert await gateway.spend(key) == (1.4, [0.9, 0.5])  # newest first


async def test_seedance_reference_images_at_the_catalogue_price(gateway: Gateway) -> None:
    """seedance2 $0.36/s (Runway resale, secondary; one rate whatever the input) x 4 s = $1.44 with two
    reference images (input_references); hailuo3's reference images only on a self-priced deployment."""
    key = await gateway.new_key()
    sdk = gateway.sdk(key)
    data_url = "data:image/png;base64," + base64.b64encode(png()).decode()
    refs = [
        {"type": "image_url", "image_url": {"url": data_url}},
        {"type": "image_url", "image_url": {"url": "https://cdn.example.com/hero.png"}},
    ]
    start = len(gateway.upstream.seen)
    video = await sdk.videos.create(
        model="seedance2",
        prompt="the hero from Image 1 on a beach",
        seconds="4",
        size="1280x720",
        extra_body={"input_references": refs},
    )
    assert gateway.upstream.seen[start] == "POST /v1/text_to_video"  # references: text_to_video only
    assert (await sdk.videos.poll(video.id, poll_interval_ms=50)).status == "completed"
    info = probe((await sdk.videos.download_content(video.id)).content)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(4, abs=0.05)
    await sdk.videos.retrieve(video.id)
    assert await gateway.spend(key) == (1.44, [1.44])
    before = list(gateway.upstream.seen)
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.videos.create(
            model="hailuo3", prompt="Image 1 waves", extra_body={"input_references": refs}
        )
    assert refused.value.body["param"] == "input_references"  # type: ignore[index]
    assert "sets its own price" in refused.value.body["message"]  # type: ignore[index]
    assert gateway.upstream.seen == before
