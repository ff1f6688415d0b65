"""Through the gateway: the official ``openai`` SDK and vidgate's own SDK create, poll and download from
the DashScope emulator, and the key is charged the published price once.

Prices are written out by hand from the Model Studio price list (field-2026-12.md §4.2), never read
from the catalogue: wan3.0-video $0.041/s at 480p; wan2.7-i2v $0.086/s at 720p (no input surcharge).
Wan 2.7 r2v reference videos have no catalogue price: the deployment that offers them sets its own
($0.05/s plus $1.25 a video here); the catalogue-priced deployment refuses them before any call.
"""

from __future__ import annotations

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
from vidgate.providers.dashscope.emulator import create_app as dashscope_emulator
from vidgate.server.app import create_app
from vidgate.store.memory import MemoryStores

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
MASTER = "sk-dashscope-gateway-master"
UPSTREAM_KEY = "sk-dashscope-upstream"


Gateway = GatewayAdmin  # the gateway under test, reached with its master key


@pytest.fixture(scope="module")
def gateway(render_cache: Path) -> Iterator[Gateway]:
    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=0.5, cache_dir=render_cache)
    with live_server(dashscope_emulator(settings)) as upstream:

        def entry(name: str, model: str, **price: str) -> dict[str, Any]:
            params = {
                "model": f"dashscope/{model}",
                "api_key": UPSTREAM_KEY,
                "api_base": f"{upstream}/api/v1",
                **price,
            }
            return {"model_name": name, "litellm_params": params}

        priced = {"output_cost_per_second": "0.05", "output_cost_per_video": "1.25"}
        config = parse_config(
            {
                "model_list": [
                    entry("wan3", "wan3.0-video"),
                    entry("wan-i2v", "wan2.7-i2v"),
                    entry("wan-r2v", "wan2.7-r2v"),
                    entry("wan-r2v-own-price", "wan2.7-r2v", **priced),
                ],
                "general_settings": {"master_key": MASTER},
            },
            environ={},
        )
        with live_server(create_app(config, stores=MemoryStores())) as url:
            yield Gateway(url, MASTER)


def test_openai_sdk_creates_polls_and_downloads_and_is_charged_once(gateway: Gateway) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    video = client.videos.create(
        model="wan3",
        prompt="a lantern festival at night",
        seconds="5",  # type: ignore[arg-type]  # the openai package types Sora's values only
        size="832x480",  # type: ignore[arg-type]
    )
    done = client.videos.poll(video.id, poll_interval_ms=100)
    assert (done.status, done.progress) == ("completed", 100)
    info = probe(client.videos.download_content(video.id).content)
    assert (info.width, info.height, info.codec) == (832, 480, "h264")
    assert info.duration == pytest.approx(5.0, abs=0.05)
    client.videos.retrieve(video.id)
    assert gateway.spend(key) == (0.205, [0.205])  # $0.041/s x 5 s


def test_vidgate_sdk_image_to_video_is_charged_once(gateway: Gateway) -> None:
    key = gateway.new_key()
    with Client(api_key=key, api_base=gateway.url, gateway=True) as client:
        video = client.videos.create(
            "wan-i2v",
            "the lanterns rise",
            seconds="5",
            size="1280x720",
            input_reference=image_bytes(1280, 720, "png"),
        )
        done = client.videos.wait(video.id, timeout=60, poll_interval=0.1)
        assert done.status == "completed"
        data = client.videos.content(video.id)
    info = probe(data.content)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(5.0, abs=0.05)
    assert gateway.spend(key) == (0.43, [0.43])  # $0.086/s x 5 s


def test_openai_sdk_lists_and_deletes_a_finished_video(gateway: Gateway) -> None:
    """A finished task has nothing to cancel at DashScope (cancel is PENDING-only, there is no delete):
    the gateway's delete reads it upstream, removes its copy, and the video is gone for the caller."""
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    video = client.videos.create(
        model="wan3",
        prompt="paper boats on a canal",
        seconds="5",  # type: ignore[arg-type]
        size="832x480",  # type: ignore[arg-type]
    )
    assert client.videos.poll(video.id, poll_interval_ms=100).status == "completed"
    assert [v.id for v in client.videos.list()] == [video.id]
    deleted = client.videos.delete(video.id)
    assert (deleted.id, deleted.deleted) == (video.id, True)
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)
    assert [v.id for v in client.videos.list()] == []
    assert gateway.spend(key) == (0.205, [0.205])  # $0.041/s x 5 s, kept after the delete


def test_vidgate_sdk_direct_mode_lists_and_cancels_at_dashscope(render_cache: Path) -> None:
    """In direct mode the SDK reads DashScope's own task list and cancels a PENDING task there."""
    # Queued for the first tenth of a 600 s run: the whole test.
    settings = EmulatorSettings(api_key=UPSTREAM_KEY, processing_seconds=600.0, cache_dir=render_cache)
    with (
        live_server(dashscope_emulator(settings)) as upstream,
        Client(api_key=UPSTREAM_KEY, api_base=f"{upstream}/api/v1") as client,
    ):
        video = client.videos.create("dashscope/wan3.0-video", "a heron", seconds="5", size="832x480")
        (listed,) = client.videos.list(model="dashscope/wan3.0-video").data
        # A list item has no size or seconds, so its self-describing id differs from the create's;
        # both name the same task.
        assert (listed.model, listed.status) == ("wan3.0-video", "queued")
        client.videos.delete(listed.id)
        cancelled = client.videos.retrieve(video.id)
        assert (cancelled.status, cancelled.error and cancelled.error.code) == ("failed", "cancelled")


CLIP = {"type": "video_url", "video_url": {"url": "https://cdn.example.com/dancer.mp4"}}


def test_reference_videos_only_where_the_deployment_prices_them(gateway: Gateway) -> None:
    """The openai package's ``input_references`` video item reaches Wan 2.7 as ``input.media`` (the
    emulator refuses any other shape) on the deployment with its own price: $0.05/s x 5 s + $1.25 = $1.50,
    charged once. The catalogue-priced deployment of the same row answers 400 and charges nothing."""
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        client.videos.create(
            model="wan-r2v", prompt="Video 1 dances", extra_body={"input_references": [CLIP]}
        )
    assert refused.value.body["param"] == "input_references"  # type: ignore[index]
    assert "only a deployment that sets its own price" in refused.value.body["message"]  # type: ignore[index]
    assert gateway.spend(key) == (0.0, [])
    video = client.videos.create(
        model="wan-r2v-own-price",
        prompt="Video 1 dances in the rain",
        seconds="5",  # type: ignore[arg-type]
        size="1280x720",
        extra_body={"input_references": [CLIP]},
    )
    done = client.videos.poll(video.id, poll_interval_ms=100)
    assert (done.status, done.size, done.seconds) == ("completed", "1280x720", "5")
    info = probe(client.videos.download_content(video.id).content)
    assert (info.width, info.height) == (1280, 720)
    client.videos.retrieve(video.id)
    assert gateway.spend(key) == (1.5, [1.5])
    with pytest.raises(openai.BadRequestError) as too_long:
        client.videos.create(
            model="wan-r2v-own-price",
            prompt="Video 1 dances",
            seconds="15",  # type: ignore[arg-type]
            extra_body={"input_references": [CLIP]},
        )
    assert too_long.value.body["param"] == "seconds"  # type: ignore[index]
    assert gateway.spend(key) == (1.5, [1.5])
