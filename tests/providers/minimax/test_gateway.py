"""MiniMax through the gateway over loopback: the official ``openai`` SDK and vidgate's own SDK create,
poll and download a decodable MP4 of the requested duration and size from the MiniMax emulator; the key's
spend is the catalogue price (per second plus the per-image surcharge), charged once; a failure MiniMax
sends as HTTP 200 reaches the client as the right error and charges nothing.

Reference videos: the official ``openai`` package sends ``input_references`` video items in
``extra_body``; the gateway reads them as ``reference_videos`` by URL and the adapter maps them (H3
only); a row without them is a 400 before any upstream call or charge. MiniMax-H3 768P $0.08/s
(field-2026-12.md §4.2); no source gives a per-reference-video surcharge, so 4 s cost $0.32."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from tests.support.gateway_admin import GatewayAdmin
from tests.support.images import image_bytes
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import Client
from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.minimax.emulator import create_app as minimax_emulator
from vidgate.server.app import create_app

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")]
MASTER = "sk-minimax-gateway-master"
KEY = "minimax-upstream-key"
POLLS = 300
CLIP = {"type": "video_url", "video_url": {"url": "https://cdn.example.com/dance.mp4"}}


Gateway = GatewayAdmin  # the gateway under test, reached with its master key


@pytest.fixture(scope="module")
def gateway(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    base = tmp_path_factory.mktemp("minimax-gateway")
    settings = EmulatorSettings(
        api_key=KEY, processing_seconds=0.5, poll_after_ms=100, cache_dir=render_cache
    )
    with live_server(minimax_emulator(settings)) as upstream:

        def entry(name: str, model: str) -> dict[str, Any]:
            params = {"model": f"minimax/{model}", "api_key": KEY, "api_base": upstream}
            return {"model_name": name, "litellm_params": params}

        config = parse_config(
            {
                "model_list": [entry("hailuo", "MiniMax-H3"), entry("hailuo-max", "MiniMax-H3-Max")],
                "general_settings": {
                    "master_key": MASTER,
                    "database_url": f"sqlite+aiosqlite:///{base / 'vidgate.db'}",
                    "content_dir": str(base / "content"),
                },
            },
            environ={},
        )
        with live_server(create_app(config)) as url:
            yield Gateway(url, MASTER)


def test_openai_sdk_first_frame_create_poll_download_and_spend(gateway: Gateway, tmp_path: Path) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    frame = image_bytes(1366, 768, "png")
    video = client.videos.create(
        model="hailuo",
        prompt="the kite rises over the dunes",
        seconds="4",
        size="1366x768",  # type: ignore[arg-type]
        input_reference=("frame.png", frame, "image/png"),
    )
    assert (video.size, video.seconds) == ("1366x768", "4")
    for _ in range(POLLS):
        video = client.videos.retrieve(video.id)
        if video.status in ("completed", "failed"):
            break
        time.sleep(0.05)
    assert (video.status, video.progress) == ("completed", 100)
    (tmp_path / "v.mp4").write_bytes(client.videos.download_content(video.id).content)
    info = probe(tmp_path / "v.mp4")
    assert (info.width, info.height, info.codec) == (1366, 768, "h264")
    assert info.duration == pytest.approx(4.0, abs=0.05)
    # MiniMax-H3 768P: $0.08/s x 4 s + $0.04 for the one input image = $0.36, charged once.
    assert gateway.spend(key) == (0.36, [0.36])
    client.videos.download_content(video.id)
    assert gateway.spend(key) == (0.36, [0.36])


def test_vidgate_sdk_through_the_gateway(gateway: Gateway, tmp_path: Path) -> None:
    key = gateway.new_key()
    with Client(api_key=key, api_base=gateway.url) as client:
        video = client.videos.create("hailuo-max", "a fox at dusk", seconds="5", size="480x854")
        done = client.videos.wait(video.id, timeout=60)
        assert done.status == "completed"
        path = client.videos.stream_content(done.id, tmp_path / "v.mp4")
    info = probe(path)
    assert (info.width, info.height) == (480, 854)
    assert info.duration == pytest.approx(5.0, abs=0.05)
    # MiniMax-H3-Max 480P: $0.05/s x 5 s = $0.25.
    assert gateway.spend(key) == (0.25, [0.25])


def test_an_http_200_failure_is_the_right_error_and_costs_nothing(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.RateLimitError) as info:
        client.videos.create(model="hailuo", prompt="no money left [minimax:1008]", seconds="4")
    assert "insufficient balance" in str(info.value)
    with pytest.raises(openai.BadRequestError):
        client.videos.create(model="hailuo", prompt="blocked words [minimax:1026]", seconds="4")
    assert gateway.spend(key) == (0.0, [])


def test_openai_sdk_reference_video_create_and_spend(gateway: GatewayAdmin) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    video = client.videos.create(
        model="hailuo",
        prompt="the dancer from Video 1, in the rain",
        seconds="4",
        extra_body={"input_references": [CLIP]},
    )
    for _ in range(300):
        video = client.videos.retrieve(video.id)
        if video.status in ("completed", "failed"):
            break
        time.sleep(0.05)
    assert video.status == "completed", video
    assert gateway.spend(key) == (0.32, [0.32])
    with pytest.raises(openai.BadRequestError) as refused:
        client.videos.create(model="hailuo-max", prompt="a fox", extra_body={"input_references": [CLIP]})
    assert refused.value.body["param"] == "input_references"  # type: ignore[index]
    assert gateway.spend(key) == (0.32, [0.32])
