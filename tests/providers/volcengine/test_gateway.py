"""Seedance on Volcengine through the gateway: the official ``openai`` package and vidgate's own SDK
create, poll and download a decodable MP4 from the Ark emulator; the key is charged the catalogue price
(written here by hand) exactly once, and the gateway serves its own copy, never Ark's URL. Seedance 2.0
fast has no catalogue price: its deployment sets $0.07/s, and that is what the key pays."""

from __future__ import annotations

import time
from collections.abc import Iterator
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
from vidgate.providers.volcengine.emulator import create_app as ark_emulator
from vidgate.server.app import create_app

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.slow]
MASTER = "sk-seedance-master"
ARK_KEY = "ark-upstream-key"
MAX_POLLS = 300


@pytest.fixture(scope="module")
def gateway(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = EmulatorSettings(api_key=ARK_KEY, processing_seconds=0.5, cache_dir=render_cache)
    base = tmp_path_factory.mktemp("seedance-gateway")
    with live_server(ark_emulator(settings)) as upstream:
        config = parse_config(
            {
                "model_list": [
                    {
                        "model_name": "seedance-2",
                        "litellm_params": {
                            "model": "volcengine/doubao-seedance-2-0-260128",
                            "api_key": ARK_KEY,
                            "api_base": f"{upstream}/api/v3",
                        },
                    },
                    {  # no catalogue price (priced_by: deployment): the deployment's own
                        "model_name": "seedance-fast",
                        "litellm_params": {
                            "model": "volcengine/doubao-seedance-2-0-fast-260128",
                            "api_key": ARK_KEY,
                            "api_base": f"{upstream}/api/v3",
                            "output_cost_per_second": "0.07",
                        },
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
            yield url


def test_openai_sdk_creates_polls_and_downloads(gateway: str) -> None:
    key = GatewayAdmin(gateway, MASTER).new_key()
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key=key, max_retries=0)
    clip: dict[str, Any] = {"seconds": "4", "size": "864x496"}  # typed as Sora's values: passed untyped
    video = client.videos.create(model="seedance-2", prompt="a paper lantern drifting", **clip)
    assert (video.status, video.size, video.seconds) == ("queued", "864x496", "4")
    for _ in range(MAX_POLLS):
        video = client.videos.retrieve(video.id)
        if video.status in ("completed", "failed"):
            break
        time.sleep(0.05)
    assert (video.status, video.progress) == ("completed", 100)
    content = client.videos.download_content(video.id).content
    info = probe(content)
    assert (info.width, info.height) == (864, 496)
    assert info.duration == pytest.approx(4.0, abs=0.05)
    # doubao-seedance-2-0 at 480p: $0.066/s x 4 s = $0.264, charged once.
    assert GatewayAdmin(gateway, MASTER).spend(key) == (0.264, [0.264])
    again = client.videos.retrieve(video.id)
    assert again.status == "completed"
    assert GatewayAdmin(gateway, MASTER).spend(key) == (0.264, [0.264])


def test_vidgate_sdk_creates_polls_and_downloads(gateway: str) -> None:
    key = GatewayAdmin(gateway, MASTER).new_key()
    with Client(api_key=key, api_base=gateway, gateway=True) as client:
        video = client.videos.create("seedance-2", "a kite over dunes", seconds="5", size="640x640")
        done = client.videos.wait(video.id, timeout=60, poll_interval=0.05)
        assert done.status == "completed"
        assert done.usage is not None
        assert (done.usage.cost, done.usage.cost_is_estimate) == (0.33, False)  # $0.066/s x 5 s
        data = client.videos.content(video.id)
    info = probe(data.content)
    assert (info.width, info.height) == (640, 640)
    assert info.duration == pytest.approx(5.0, abs=0.05)
    assert GatewayAdmin(gateway, MASTER).spend(key) == (0.33, [0.33])


def test_a_deployment_priced_row_charges_the_deployments_price_once(gateway: str) -> None:
    key = GatewayAdmin(gateway, MASTER).new_key()
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key=key, max_retries=0)
    clip: dict[str, Any] = {"seconds": "6", "size": "720x1280"}
    video = client.videos.create(model="seedance-fast", prompt="a heron lifting off a pond", **clip)
    done = client.videos.poll(video.id, poll_interval_ms=50)
    assert (done.status, done.size, done.seconds) == ("completed", "720x1280", "6")
    info = probe(client.videos.download_content(video.id).content)
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == pytest.approx(6.0, abs=0.05)
    client.videos.retrieve(video.id)
    # The deployment's $0.07/s x 6 s = $0.42, charged once; no catalogue or token price added.
    assert GatewayAdmin(gateway, MASTER).spend(key) == (0.42, [0.42])
