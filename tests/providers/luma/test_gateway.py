"""Through the gateway: the official ``openai`` SDK and vidgate's own SDK create, poll and download
from the Luma emulator, and reframe a video (``POST /v1/videos/edits`` with ``size``, vidgate's
extension, sent upstream as ``video_reframe``); the key is charged the catalogue price once per video.
A model that cannot reframe (``local-1``) refuses another size with a 400 naming ``size``.

Prices are written out by hand, never read from the catalogue: Ray 3.2 $0.10/s at 540p and $0.20/s at
720p (fal.ai's resale price, a secondary source: field-2026-12.md, issue 10).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from tests.support.gateway_admin import GatewayAdmin
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import Client
from vidgate.emulators.common import EmulatorSettings
from vidgate.errors import BadRequestError
from vidgate.gateway.config import parse_config
from vidgate.providers.luma.emulator import create_app as luma_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
MASTER = "sk-luma-gateway-master"
UPSTREAM_KEY = "luma-api-upstream-key"


@dataclass(frozen=True)
class Gateway(GatewayAdmin):
    upstream: str = ""  # the Luma emulator's root


@pytest.fixture(scope="module")
def gateway(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=0.5, cache_dir=render_cache)
    local_root = tmp_path_factory.mktemp("local")
    (local_root / "renders").symlink_to(render_cache, target_is_directory=True)
    with live_server(luma_emulator(settings)) as upstream:
        params = {"model": "luma/ray-3.2", "api_key": UPSTREAM_KEY, "api_base": f"{upstream}/v1"}
        local = {"model": "local/local-1", "api_base": str(local_root)}  # edits, but cannot reframe
        config = parse_config(
            {
                "model_list": [
                    {"model_name": "ray", "litellm_params": params},
                    {"model_name": "local-1", "litellm_params": local},
                ],
                "general_settings": {"master_key": MASTER},
            },
            environ={},
        )
        with live_server(create_app(config, stores=MemoryStores())) as url:
            yield Gateway(url, MASTER, upstream)


def generations(gateway: Gateway) -> list[dict[str, Any]]:
    """What the Luma emulator was asked for (newest first), read over its own list route."""
    reply = httpx.get(
        f"{gateway.upstream}/v1/generations", headers={"Authorization": f"Bearer {UPSTREAM_KEY}"}
    )
    assert reply.status_code == 200, reply.text
    listed: list[dict[str, Any]] = reply.json()["generations"]
    return listed


def test_openai_sdk_creates_polls_and_downloads_and_is_charged_once(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    video = client.videos.create(
        model="ray",
        prompt="a paper boat on a pond",
        seconds="5",  # type: ignore[arg-type]  # the openai package types Sora's values only
        size="960x540",  # type: ignore[arg-type]
    )
    assert video.id.startswith("video_")
    done = client.videos.poll(video.id, poll_interval_ms=100)
    assert (done.status, done.progress) == ("completed", 100)
    mp4 = client.videos.download_content(video.id).content
    info = probe(mp4)
    assert (info.width, info.height, info.codec) == (960, 540, "h264")
    assert info.duration == pytest.approx(5.0, abs=0.05)
    client.videos.retrieve(video.id)  # reading again charges nothing more
    assert gateway.spend(key) == (0.5, [0.5])  # $0.10/s x 5 s


def test_vidgate_sdk_creates_polls_downloads_and_deletes(gateway: Gateway) -> None:
    key = gateway.new_key()
    with Client(api_key=key, api_base=gateway.url, gateway=True) as client:
        video = client.videos.create("ray", "the boat sails away", seconds="9", size="720x1280")
        done = client.videos.wait(video.id, timeout=60, poll_interval=0.1)
        assert done.status == "completed"
        data = client.videos.content(video.id)
        client.videos.delete(video.id)
    info = probe(data.content)
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == pytest.approx(9.0, abs=0.05)
    assert gateway.spend(key) == (1.8, [1.8])  # $0.20/s x 9 s


def test_openai_sdk_reframes_a_luma_video_through_edits_and_is_charged_once(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    source = client.videos.create(
        model="ray",
        prompt="a lighthouse at dusk",
        seconds="5",  # type: ignore[arg-type]  # the openai package types Sora's values only
        size="960x540",  # type: ignore[arg-type]
    )
    assert client.videos.poll(source.id, poll_interval_ms=100).status == "completed"
    # openai 3.63.0 refuses ``video={"id": ...}`` in ``videos.edit`` client-side (its multipart encoder
    # wants a file), and Luma edits only its own generations (it reads them by URL): the id goes as
    # JSON through the package's own request method, ``size`` beside it as ``extra_body`` would put it.
    reframed = client.post(
        "/videos/edits",
        body={"prompt": "keep the lighthouse in the middle", "video": {"id": source.id}, "size": "540x960"},
        cast_to=openai.types.Video,
    )
    assert (reframed.model, reframed.seconds, reframed.size) == ("ray", "5", "540x960")
    done = client.videos.poll(reframed.id, poll_interval_ms=100)
    assert done.status == "completed"
    info = probe(client.videos.download_content(reframed.id).content)
    assert (info.width, info.height) == (540, 960)
    assert info.duration == pytest.approx(5.0, abs=0.05)
    upstream = [g for g in generations(gateway) if g["generation_type"] == "video_reframe"]
    assert len(upstream) == 1
    sent = upstream[0]["request"]
    assert {k: v for k, v in sent.items() if k != "media"} == {
        "type": "video_reframe",
        "model": "ray-3.2",
        "prompt": "keep the lighthouse in the middle",
        "aspect_ratio": "9:16",
    }
    assert "/files/" in sent["media"]["url"]  # the source generation's asset, read fresh upstream
    client.videos.retrieve(reframed.id)
    # the source and the reframe, 5 s each at 540p x $0.10/s, each charged once
    assert gateway.spend(key) == (1.0, [0.5, 0.5])


def test_vidgate_sdk_reframes_and_another_resolution_is_a_400_naming_size(gateway: Gateway) -> None:
    key = gateway.new_key()
    with Client(api_key=key, api_base=gateway.url, gateway=True) as client:
        source = client.videos.create("ray", "a harbour at noon", seconds="5", size="1280x720")
        assert client.videos.wait(source.id, timeout=60, poll_interval=0.1).status == "completed"
        with pytest.raises(BadRequestError) as caught:  # Luma keeps the source's 720p
            client.videos.edit(prompt="upright", video={"id": source.id}, size="1080x1920")
        assert caught.value.param == "size"
        assert "'720x1280'" in caught.value.message
        square = client.videos.edit(prompt="square it", video={"id": source.id}, size="720x720")
        assert square.size == "720x720"
        assert client.videos.wait(square.id, timeout=60, poll_interval=0.1).status == "completed"
        info = probe(client.videos.content(square.id).content)
    assert (info.width, info.height) == (720, 720)
    assert gateway.spend(key) == (2.0, [1.0, 1.0])  # 5 s at 720p x $0.20/s, twice


def test_a_model_that_cannot_reframe_is_a_400_naming_size(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    source = client.videos.create(
        model="ray",
        prompt="a pier in fog",
        seconds="5",  # type: ignore[arg-type]
        size="1280x720",
    )
    assert client.videos.poll(source.id, poll_interval_ms=100).status == "completed"
    clip = client.videos.download_content(source.id).content
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.edit(
            prompt="upright",
            video=("pier.mp4", clip, "video/mp4"),
            extra_body={"model": "local-1", "size": "720x1280"},
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "size"
    assert error["message"] == (
        "Invalid 'size': '720x1280'. local-1 keeps the source video's size (1280x720); it cannot "
        "reframe. Supported values are: '1280x720'."
    )
    assert gateway.spend(key) == (1.0, [1.0])  # the source only: 5 s at 720p x $0.20/s
