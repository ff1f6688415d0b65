"""fal through the gateway over loopback, judged by the official ``openai`` package and vidgate's SDK:
create, poll and download a decodable MP4, with the key's spend equal to the price written here, once.

Prices by hand: Luma Ray 3.2 on fal at 540p is $0.10/s (models.yaml, secondary), so 5 s = $0.50; the
open path ``some-owner/new-app`` is priced by its deployment at $0.25 per video, ``other/app`` at
$0.05/s (3 s = $0.15).
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
from vidgate.gateway.config import ConfigError, parse_config
from vidgate.providers.fal.emulator import create_app as fal_app
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
MASTER = "sk-fal-gateway-master"
UPSTREAM_KEY = "fal-upstream-key"
MAX_POLLS = 400  # x POLL_PAUSE: a bound, not a timing assertion
POLL_PAUSE = 0.05


@dataclass(frozen=True)
class Gateway(GatewayAdmin):
    upstream: Any  # the fal emulator (its requests, to see what arrived)

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0)


def config(upstream: str) -> dict[str, Any]:
    def entry(name: str, model: str, **extra: Any) -> dict[str, Any]:
        params = {"model": f"fal/{model}", "api_key": UPSTREAM_KEY, "api_base": upstream, **extra}
        return {"model_name": name, "litellm_params": params}

    return {
        "model_list": [
            entry("ray", "luma/agent/ray/v3.2/text-to-video"),
            entry("new-app", "some-owner/new-app", output_cost_per_video="0.25"),
            entry("per-second-app", "other/app/v2", output_cost_per_second="0.05"),
        ],
        "general_settings": {"master_key": MASTER},
        "router_settings": {},
    }


@pytest.fixture(scope="module")
def gateway(render_cache: Path) -> Iterator[Gateway]:
    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=0.3, cache_dir=render_cache)
    upstream_app = fal_app(settings)
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


def test_openai_sdk_create_poll_download_and_spend_once(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    video = client.videos.create(
        model="ray",
        prompt="a fal cat on a skateboard",
        seconds="5",  # type: ignore[arg-type]
        size="960x540",  # type: ignore[arg-type]
    )
    assert video.status in ("queued", "in_progress")
    done = finished(client, video.id)
    assert done.status == "completed"
    info = probe(client.videos.download_content(video.id).content)
    assert (info.width, info.height, info.codec) == (960, 540, "h264")
    assert info.duration == pytest.approx(5.0, abs=0.05)
    assert gateway.spent(key) == 0.50
    assert finished(client, video.id).status == "completed"  # read again: charged once
    assert gateway.spent(key) == 0.50


def test_open_path_priced_per_video_passes_extra_body_through(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = gateway.client(key)
    video = client.videos.create(
        model="new-app",
        prompt="an open fal app",
        seconds="1",  # type: ignore[arg-type]
        size="854x480",  # type: ignore[arg-type]
        extra_body={"extra_body": {"style": "anime"}},  # multipart: values arrive as strings
    )
    done = finished(client, video.id)
    assert done.status == "completed"
    sent = [q.job.extra for q in gateway.upstream.requests.values() if q.job.prompt == "an open fal app"]
    assert sent == [
        {
            "prompt": "an open fal app",
            "duration": "1",
            "aspect_ratio": "16:9",
            "resolution": "480p",
            "style": "anime",
        }
    ]
    assert probe(client.videos.download_content(video.id).content).width == 854
    assert gateway.spent(key) == 0.25


def test_vidgate_sdk_on_an_open_path_priced_per_second(gateway: Gateway, tmp_path: Path) -> None:
    key = gateway.new_key()
    with Client(api_base=gateway.url, api_key=key, gateway=True) as client:
        video = client.videos.create("per-second-app", "a per-second app", seconds="3", size="720x720")
        done = client.videos.wait(video.id, timeout=60)
        assert done.status == "completed"
        path = client.videos.stream_content(video.id, tmp_path / "v.mp4")
    info = probe(path)
    assert (info.width, info.height) == (720, 720)
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert gateway.spent(key) == 0.15


def test_a_reserved_name_in_extra_body_is_a_400_before_any_call(gateway: Gateway) -> None:
    client = gateway.client(gateway.new_key())
    before = len(gateway.upstream.requests)
    with pytest.raises(openai.BadRequestError) as info:
        client.videos.create(model="new-app", prompt="x", extra_body={"extra_body": {"num_frames": 240}})
    assert info.value.body["param"] == "extra_body.num_frames"  # type: ignore[index]
    assert len(gateway.upstream.requests) == before


def test_an_unlisted_path_needs_a_deployment_price() -> None:
    entry = {"model_name": "x", "litellm_params": {"model": "fal/some/app", "api_key": "k"}}
    with pytest.raises(ConfigError, match="output_cost_per_second or output_cost_per_video"):
        parse_config({"model_list": [entry]}, environ={})
