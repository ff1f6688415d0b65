"""Seedance on BytePlus ModelArk through the gateway: the official ``openai`` package and vidgate's SDK
create, poll and download; the key reserves the token bound and is charged, once, the tokens ModelArk
reported at the tier's token price (numbers written here by hand). 4k has no catalogue price
(``sizes_priced_by_deployment``): a deployment that sets its own serves it at exactly that price, and a
catalogue-priced one refuses it with a 400 before any money is reserved."""

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
from vidgate.providers.byteplus.emulator import create_app as modelark_emulator
from vidgate.server.app import create_app

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.slow]
MASTER = "sk-modelark-master"
ARK_KEY = "modelark-upstream-key"
MAX_POLLS = 300


@pytest.fixture(scope="module")
def gateway(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = EmulatorSettings(api_key=ARK_KEY, processing_seconds=0.5, cache_dir=render_cache)
    base = tmp_path_factory.mktemp("modelark-gateway")
    with live_server(modelark_emulator(settings)) as upstream:
        config = parse_config(
            {
                "model_list": [
                    {
                        "model_name": "seedance-2",
                        "litellm_params": {
                            "model": "byteplus/dreamina-seedance-2-0-260128",
                            "api_key": ARK_KEY,
                            "api_base": f"{upstream}/api/v3",
                        },
                    },
                    {  # its own price: it serves the row's deployment-priced 4k sizes too
                        "model_name": "seedance-2-own-price",
                        "litellm_params": {
                            "model": "byteplus/dreamina-seedance-2-0-260128",
                            "api_key": ARK_KEY,
                            "api_base": f"{upstream}/api/v3",
                            "output_cost_per_second": "0.55",
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


def test_openai_sdk_is_charged_the_reported_tokens_once(gateway: str) -> None:
    key = GatewayAdmin(gateway, MASTER).new_key()
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key=key, max_retries=0)
    clip: dict[str, Any] = {"seconds": "4", "size": "864x496"}
    video = client.videos.create(model="seedance-2", prompt="a paper lantern drifting", **clip)
    # Reserved while it runs: 10,150 tokens/s x 4 s x $7/1M = $0.2842.
    assert video.model_extra is not None
    assert video.model_extra["usage"]["cost"] == 0.2842
    for _ in range(MAX_POLLS):
        video = client.videos.retrieve(video.id)
        if video.status in ("completed", "failed"):
            break
        time.sleep(0.05)
    assert video.status == "completed"
    info = probe(client.videos.download_content(video.id).content)
    assert (info.width, info.height) == (864, 496)
    # ModelArk reported 864 x 496 x 97 / 1024 = 40,594 tokens: $0.2842 x 40,594 / 40,600 = $0.284158.
    assert GatewayAdmin(gateway, MASTER).spend(key) == (0.284158, [0.284158])
    client.videos.retrieve(video.id)
    assert GatewayAdmin(gateway, MASTER).spend(key) == (0.284158, [0.284158])


def test_1080p_is_priced_at_its_own_token_rate(gateway: str) -> None:
    key = GatewayAdmin(gateway, MASTER).new_key()
    with Client(api_key=key, api_base=gateway, gateway=True) as client:
        video = client.videos.create("seedance-2", "a kite over dunes", seconds="5", size="1920x1080")
        done = client.videos.wait(video.id, timeout=60, poll_interval=0.05)
        assert done.status == "completed"
        # Reserved 49,110 x 5 = 245,550 tokens x $7.70/1M = $1.890735; reported 1920 x 1080 x 121 / 1024
        # = 245,025 tokens: $1.890735 x 245,025 / 245,550 = $1.8866925, settled down to the micro-dollar.
        assert done.usage is not None
        assert (done.usage.cost, done.usage.cost_is_estimate) == (1.886692, False)
    assert GatewayAdmin(gateway, MASTER).spend(key) == (1.886692, [1.886692])


def test_4k_on_a_self_priced_deployment_is_charged_its_price_once(gateway: str) -> None:
    key = GatewayAdmin(gateway, MASTER).new_key()
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key=key, max_retries=0)
    clip: dict[str, Any] = {"seconds": "4", "size": "2160x3840"}
    video = client.videos.create(model="seedance-2-own-price", prompt="a glacier calving", **clip)
    assert video.model_extra is not None
    assert video.model_extra["usage"]["cost"] == 2.2  # reserved: the deployment's $0.55/s x 4 s
    done = client.videos.poll(video.id, poll_interval_ms=50)
    assert (done.status, done.size, done.seconds) == ("completed", "2160x3840", "4")
    info = probe(client.videos.download_content(video.id).content)
    assert (info.width, info.height) == (2160, 3840)
    client.videos.retrieve(video.id)
    # $0.55/s x 4 s = $2.20, charged once: no token price (ModelArk reported tokens for 4k all the same).
    assert GatewayAdmin(gateway, MASTER).spend(key) == (2.2, [2.2])


def test_4k_on_a_catalogue_priced_deployment_is_a_400_before_any_money(gateway: str) -> None:
    key = GatewayAdmin(gateway, MASTER).new_key()
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key=key, max_retries=0)
    clip: dict[str, Any] = {"seconds": "4", "size": "3840x2160"}
    with pytest.raises(openai.BadRequestError) as size_error:
        client.videos.create(model="seedance-2", prompt="a glacier calving", **clip)
    with pytest.raises(openai.BadRequestError) as resolution_error:  # OpenRouter's shape
        client.videos.create(
            model="seedance-2",
            prompt="a glacier calving",
            seconds="4",
            extra_body={"resolution": "4k", "aspect_ratio": "16:9"},
        )
    for error, param in ((size_error, "size"), (resolution_error, "resolution")):
        body = error.value.body
        assert isinstance(body, dict)
        assert body["param"] == param
        assert "only on a deployment that sets its own price" in body["message"]
    assert GatewayAdmin(gateway, MASTER).spend(key) == (0.0, [])
    assert client.videos.list().data == []  # nothing was created, so no slot and no provider task
