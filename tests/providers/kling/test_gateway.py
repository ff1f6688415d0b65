"""Kling through the gateway over loopback: the official ``openai`` SDK and vidgate's own SDK create,
poll and download a decodable MP4 of the requested duration and size from the Kling emulator, and the
key's spend is the catalogue price (the with-video rate when a reference video is sent), charged once.
The gateway signs Kling's JWT with its credential hook from the deployment's access and secret keys."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from tests.support.gateway_admin import GatewayAdmin
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import Client
from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.kling.emulator import create_app as kling_emulator
from vidgate.server.app import create_app

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")]
MASTER = "sk-kling-gateway-master"
KEY = "kling-upstream-key-0123456789abcdef"  # the emulator's access key and secret key
POLLS = 300


@pytest.fixture(scope="module")
def gateway(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayAdmin]:
    base = tmp_path_factory.mktemp("kling-gateway")
    settings = EmulatorSettings(
        api_key=KEY, processing_seconds=0.5, poll_after_ms=100, cache_dir=render_cache
    )
    with live_server(kling_emulator(settings)) as upstream:
        params = {"model": "kling/kling-v3-0", "api_key": KEY, "secret_key": KEY, "api_base": upstream}
        omni = {**params, "model": "kling/kling-v3-omni"}
        config = parse_config(
            {
                "model_list": [
                    {"model_name": "kling-fox", "litellm_params": params},
                    {"model_name": "omni", "litellm_params": omni},
                    {
                        "model_name": "omni-own-price",
                        "litellm_params": {**omni, "output_cost_per_second": 0.2},
                    },
                ],
                "general_settings": {
                    "master_key": MASTER,
                    "database_url": f"sqlite+aiosqlite:///{base / 'vidgate.db'}",
                    "content_dir": str(base / "content"),
                },
            },
            environ={},
        )
        with live_server(create_app(config)) as url:
            yield GatewayAdmin(url, MASTER)


def test_openai_sdk_create_poll_download_and_spend(gateway: GatewayAdmin, tmp_path: Path) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    video = client.videos.create(model="kling-fox", prompt="a fox in the snow", seconds="3", size="1280x720")  # type: ignore[arg-type]
    assert (video.status, video.size, video.seconds) == ("queued", "1280x720", "3")
    for _ in range(POLLS):
        video = client.videos.retrieve(video.id)
        if video.status in ("completed", "failed"):
            break
        time.sleep(0.05)
    assert (video.status, video.progress) == ("completed", 100)
    (tmp_path / "v.mp4").write_bytes(client.videos.download_content(video.id).content)
    info = probe(tmp_path / "v.mp4")
    assert (info.width, info.height, info.codec) == (1280, 720, "h264")
    assert info.duration == pytest.approx(3.0, abs=0.05)
    # kling-v3-0 std (720p) with sound: $0.126/s x 3 s = $0.378, charged once.
    assert gateway.spend(key) == (0.378, [0.378])
    client.videos.download_content(video.id)  # a second download charges nothing more
    assert gateway.spend(key) == (0.378, [0.378])


def test_vidgate_sdk_through_the_gateway_with_audio_off(gateway: GatewayAdmin, tmp_path: Path) -> None:
    key = gateway.new_key()
    with Client(api_key=key, api_base=gateway.url) as client:
        video = client.videos.create(
            "kling-fox", "a fox at dusk", seconds="4", size="720x1280", generate_audio=False
        )
        done = client.videos.wait(video.id, timeout=60)
        assert done.status == "completed"
        path = client.videos.stream_content(done.id, tmp_path / "v.mp4")
    info = probe(path)
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == pytest.approx(4.0, abs=0.05)
    # kling-v3-0 std without sound: $0.084/s x 4 s = $0.336.
    assert gateway.spend(key) == (0.336, [0.336])


def _reference_video_clip(client: openai.OpenAI, model: str, tmp_path: Path) -> None:
    """A 5 s std omni video with one reference video, created, polled and downloaded (1280x720, 5 s)."""
    clip = {"type": "video_url", "video_url": {"url": "https://cdn.example.com/camera.mp4"}}
    video = client.videos.create(
        model=model,
        prompt="Based on <<<video_1>>>, the next shot",
        seconds="5",  # type: ignore[arg-type]
        extra_body={"input_references": [clip]},
    )
    for _ in range(POLLS):
        video = client.videos.retrieve(video.id)
        if video.status in ("completed", "failed"):
            break
        time.sleep(0.05)
    assert video.status == "completed"
    (tmp_path / "v.mp4").write_bytes(client.videos.download_content(video.id).content)
    info = probe(tmp_path / "v.mp4")
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(5.0, abs=0.05)


def test_omni_reference_videos_at_the_with_video_rate(gateway: GatewayAdmin, tmp_path: Path) -> None:
    """The catalogue's Video-3O rate with a video input: 5 s std x $0.126 = $0.63, charged once (not the
    row's $0.112/s nor its $0.084/s without audio)."""
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    _reference_video_clip(client, "omni", tmp_path)
    assert gateway.spend(key) == (0.63, [0.63])


def test_a_deployments_own_price_wins_over_the_with_video_rate(gateway: GatewayAdmin, tmp_path: Path) -> None:
    """The deployment priced at $0.20/s charges 5 s x $0.20 = $1.00 once, input video or not."""
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    _reference_video_clip(client, "omni-own-price", tmp_path)
    assert gateway.spend(key) == (1.0, [1.0])
