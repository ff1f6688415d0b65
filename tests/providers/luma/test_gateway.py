"""Through the gateway: the official ``openai`` SDK and vidgate's own SDK create, poll and download
from the Luma emulator, and the key is charged the catalogue price once.

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
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import Client
from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.luma.emulator import create_app as luma_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
MASTER = "sk-luma-gateway-master"
UPSTREAM_KEY = "luma-api-upstream-key"


@dataclass
class Gateway:
    url: str

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = httpx.request(
            method, self.url + path, headers={"Authorization": f"Bearer {MASTER}"}, **kwargs
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    def new_key(self) -> str:
        key: str = self.admin("POST", "/key/generate", json={})["key"]
        return key

    def spend(self, key: str) -> tuple[float, int]:
        info = self.admin("GET", "/key/info", params={"key": key})
        logs = self.admin("GET", "/spend/logs", params={"api_key": key})
        return info["info"]["spend"], len(logs)


@pytest.fixture(scope="module")
def gateway(render_cache: Path) -> Iterator[Gateway]:
    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=0.5, cache_dir=render_cache)
    with live_server(luma_emulator(settings)) as upstream:
        params = {"model": "luma/ray-3.2", "api_key": UPSTREAM_KEY, "api_base": f"{upstream}/v1"}
        config = parse_config(
            {
                "model_list": [{"model_name": "ray", "litellm_params": params}],
                "general_settings": {"master_key": MASTER},
            },
            environ={},
        )
        with live_server(create_app(config, stores=MemoryStores())) as url:
            yield Gateway(url)


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
    assert gateway.spend(key) == (0.5, 1)  # $0.10/s x 5 s


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
    assert gateway.spend(key) == (1.8, 1)  # $0.20/s x 9 s
