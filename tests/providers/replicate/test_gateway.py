"""Replicate through the gateway over loopback, judged by the official ``openai`` package and vidgate's
SDK: create, poll and download a decodable MP4, with the key's spend equal to the price written here,
once.

Prices by hand: google/veo-3.1 on Replicate is $0.20/s without audio (models.yaml, secondary), so 4 s
with ``generate_audio`` false = $0.80, and $0.40/s with audio (the default): 4 s = $1.60; the open model
``minimax/h3-lite`` is priced by its deployment at $0.06/s: 2 s = $0.12; a pinned community version at
$0.30 per video.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from tests.support.gateway_admin import GatewayAdmin
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import Client
from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.replicate.emulator import create_app as replicate_app
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
MASTER = "sk-replicate-gateway-master"
UPSTREAM_TOKEN = "r8_upstream_token"
VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
MAX_POLLS = 400  # x POLL_PAUSE: a bound, not a timing assertion
POLL_PAUSE = 0.05


@dataclass(frozen=True)
class Gateway(GatewayAdmin):
    upstream: Any  # the Replicate emulator (its predictions, to see what arrived)

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0)


def config(upstream: str) -> dict[str, Any]:
    def entry(name: str, model: str, **extra: Any) -> dict[str, Any]:
        params = {"model": f"replicate/{model}", "api_key": UPSTREAM_TOKEN, "api_base": upstream, **extra}
        return {"model_name": name, "litellm_params": params}

    return {
        "model_list": [
            entry("veo", "google/veo-3.1"),
            entry("h3-lite", "minimax/h3-lite", output_cost_per_second="0.06"),
            entry("pinned", f"someone/video-model:{VERSION}", output_cost_per_video="0.30"),
        ],
        "general_settings": {"master_key": MASTER},
    }


@pytest.fixture(scope="module")
def gateway(render_cache: Path) -> Iterator[Gateway]:
    settings = EmulatorSettings(api_key=UPSTREAM_TOKEN, processing_seconds=0.3, cache_dir=render_cache)
    upstream_app = replicate_app(settings)
    with live_server(upstream_app) as upstream:
        app = create_app(parse_config(config(upstream), environ={}), stores=MemoryStores())
        with live_server(app) as url:
            yield Gateway(url, MASTER, upstream_app.state.emulator)


def finished(client: openai.OpenAI, video_id: str) -> Any:
    for _ in range(MAX_POLLS):
        video = client.videos.retrieve(video_id)
        if video.status in ("completed", "failed"):
            return video
        time.sleep(POLL_PAUSE)
    raise AssertionError("the video did not finish")


def sent(gateway: Gateway, prompt: str) -> list[dict[str, Any]]:
    return [p.job.extra for p in gateway.upstream.predictions.values() if p.job.prompt == prompt]


def test_openai_sdk_create_poll_download_and_spend_once(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    video = client.videos.create(
        model="veo",
        prompt="a replicate cat without sound",
        seconds="4",
        size="720x1280",
        extra_body={"generate_audio": False},
    )
    assert video.status in ("queued", "in_progress")
    done = finished(client, video.id)
    assert done.status == "completed"
    info = probe(client.videos.download_content(video.id).content)
    assert (info.width, info.height, info.codec) == (720, 1280, "h264")
    assert info.duration == pytest.approx(4.0, abs=0.05)
    assert gateway.spent(key) == 0.80
    assert finished(client, video.id).status == "completed"  # read again: charged once
    assert gateway.spent(key) == 0.80
    (inp,) = sent(gateway, "a replicate cat without sound")
    assert (inp["duration"], inp["resolution"], inp["aspect_ratio"], inp["generate_audio"]) == (
        4,
        "720p",
        "9:16",
        False,
    )


def test_open_model_priced_per_second(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    video = client.videos.create(
        model="h3-lite",
        prompt="an h3 lite clip",
        seconds="2",  # type: ignore[arg-type]
        size="854x480",  # type: ignore[arg-type]
        extra_body={"extra_body": {"prompt_optimizer": "off"}},
    )
    assert finished(client, video.id).status == "completed"
    assert probe(client.videos.download_content(video.id).content).width == 854
    assert gateway.spent(key) == 0.12
    assert sent(gateway, "an h3 lite clip")[0]["prompt_optimizer"] == "off"


def test_vidgate_sdk_on_a_pinned_version_priced_per_video(gateway: Gateway, tmp_path: Path) -> None:
    key = gateway.new_key()
    with Client(api_base=gateway.url, api_key=key, gateway=True) as client:
        video = client.videos.create("pinned", "a pinned version clip", seconds="1", size="720x720")
        done = client.videos.wait(video.id, timeout=60)
        assert done.status == "completed"
        path = client.videos.stream_content(video.id, tmp_path / "v.mp4")
    assert probe(path).width == 720
    assert gateway.spent(key) == 0.30


def test_a_failed_prediction_is_not_charged(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    video = client.videos.create(model="h3-lite", prompt="a broken clip [fault:fail]", seconds="1")  # type: ignore[arg-type]
    done = finished(client, video.id)
    assert done.status == "failed"
    assert gateway.spent(key) == 0.0
