"""Reference videos reach MiniMax through the gateway: the official ``openai`` package sends
``input_references`` video items in ``extra_body``; the gateway reads them as ``reference_videos`` by URL
and the adapter maps them (H3 only); a row without them is a 400 before any upstream call or charge.

Price by hand: MiniMax-H3 768P $0.08/s (field-2026-12.md §4.2); no source gives a per-reference-video
surcharge, so 4 s cost $0.32."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from tests.support.gateway_admin import GatewayAdmin
from tests.support.live import live_server

from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.minimax.emulator import create_app as minimax_emulator
from vidgate.server.app import create_app

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")]
MASTER = "sk-minimax-refs-master"
KEY = "minimax-refs-upstream-key"
CLIP = {"type": "video_url", "video_url": {"url": "https://cdn.example.com/dance.mp4"}}


@pytest.fixture(scope="module")
def gateway(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayAdmin]:
    base = tmp_path_factory.mktemp("minimax-refs")
    settings = EmulatorSettings(
        api_key=KEY, processing_seconds=0.3, poll_after_ms=100, cache_dir=render_cache
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
            yield GatewayAdmin(url, MASTER)


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
