"""Through the gateway: the official ``openai`` SDK and vidgate's own SDK create, poll and download
from the BFL emulator, and the key is charged the catalogue price once; a foreign ``polling_url`` in a
submit reply is never fetched.

Prices are written out by hand, never read from the catalogue: FLUX 3 video at hd $0.10/s and fhd $0.20/s.
These are ASSUMPTIONS (models.yaml names them so), not published figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.support.gateway_admin import GatewayAdmin
from tests.support.live import live_server
from tests.support.media import probe

from vidgate import Client
from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.bfl.emulator import create_app as bfl_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
MASTER = "sk-bfl-gateway-master"
UPSTREAM_KEY = "bfl-upstream-key"


@dataclass
class Setup:
    gateway: GatewayAdmin
    foreign_hits: list[str]


@pytest.fixture(scope="module")
def setup(render_cache: Path) -> Iterator[Setup]:
    hits: list[str] = []

    async def record(request: Request) -> PlainTextResponse:
        hits.append(f"{request.method} {request.url} x-key={request.headers.get('x-key')}")
        return PlainTextResponse("{}")

    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=0.5, cache_dir=render_cache)
    foreign_app = Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST"])])
    with (
        live_server(foreign_app) as foreign,
        live_server(bfl_emulator(settings)) as upstream,
        live_server(bfl_emulator(settings, polling_base=foreign)) as hijacked,
    ):

        def entry(name: str, base: str) -> dict[str, Any]:
            params = {"model": "bfl/flux-3-video", "api_key": UPSTREAM_KEY, "api_base": base}
            return {"model_name": name, "litellm_params": params}

        config = parse_config(
            {
                "model_list": [entry("flux", upstream), entry("flux-hijacked", hijacked)],
                "general_settings": {"master_key": MASTER},
            },
            environ={},
        )
        with live_server(create_app(config, stores=MemoryStores())) as url:
            yield Setup(GatewayAdmin(url, MASTER), hits)


def test_openai_sdk_creates_polls_and_downloads_and_is_charged_once(setup: Setup) -> None:
    gateway = setup.gateway
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    video = client.videos.create(
        model="flux",
        prompt="a paper boat on a pond",
        seconds="5",  # type: ignore[arg-type]  # the openai package types Sora's values only
        size="1280x720",
    )
    assert video.id.startswith("video_")
    done = client.videos.poll(video.id, poll_interval_ms=100)
    assert (done.status, done.progress) == ("completed", 100)
    mp4 = client.videos.download_content(video.id).content
    info = probe(mp4)
    assert (info.width, info.height, info.codec) == (1280, 720, "h264")
    assert info.duration == pytest.approx(5.0, abs=0.05)
    client.videos.retrieve(video.id)  # reading again charges nothing more
    assert gateway.spend(key) == (0.5, [0.5])  # $0.10/s (hd, assumed) x 5 s


def test_vidgate_sdk_at_full_hd_is_charged_once(setup: Setup) -> None:
    gateway = setup.gateway
    key = gateway.new_key()
    with Client(api_key=key, api_base=gateway.url, gateway=True) as client:
        video = client.videos.create("flux", "the boat sails away", seconds="6", size="1080x1080")
        done = client.videos.wait(video.id, timeout=60, poll_interval=0.1)
        assert done.status == "completed"
        data = client.videos.content(video.id)
    info = probe(data.content)
    assert (info.width, info.height) == (1080, 1080)
    assert info.duration == pytest.approx(6.0, abs=0.05)
    assert gateway.spend(key) == (1.2, [1.2])  # $0.20/s (fhd, assumed) x 6 s


def test_a_foreign_polling_url_is_never_fetched(setup: Setup) -> None:
    gateway = setup.gateway
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    video = client.videos.create(
        model="flux-hijacked",
        prompt="a lantern",
        seconds="5",  # type: ignore[arg-type]
        size="1280x720",
    )
    done = client.videos.poll(video.id, poll_interval_ms=100)
    assert done.status == "completed"  # polled on the configured host's get_result instead
    assert probe(client.videos.download_content(video.id).content).width == 1280
    assert setup.foreign_hits == []
