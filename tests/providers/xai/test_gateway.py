"""Through the gateway: the official ``openai`` SDK and vidgate's own SDK create, poll and download
from the xAI emulator, and the key is charged the published price once.

Prices are written out by hand from xAI's price list (field-2026-12.md §4.2), never read from the
catalogue: grok-imagine-video-1.5-lite $0.02/s at 480p; grok-imagine-video-1.5 $0.14/s at 720p plus
$0.01 per input image.
"""

from __future__ import annotations

import openai
import pytest
from tests.support.gateway_admin import GatewayAdmin
from tests.support.images import image_bytes
from tests.support.media import probe

from vidgate import Client

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


def test_openai_sdk_creates_polls_and_downloads_and_is_charged_once(gateway: GatewayAdmin) -> None:
    key = gateway.new_key()
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    video = client.videos.create(
        model="grok-lite",
        prompt="a paper boat on a pond",
        seconds="3",  # type: ignore[arg-type]  # the openai package types Sora's values only
        size="848x480",  # type: ignore[arg-type]
    )
    assert video.id.startswith("video_")
    done = client.videos.poll(video.id, poll_interval_ms=100)
    assert (done.status, done.progress) == ("completed", 100)
    mp4 = client.videos.download_content(video.id).content
    info = probe(mp4)
    assert (info.width, info.height, info.codec) == (848, 480, "h264")
    assert info.duration == pytest.approx(3.0, abs=0.05)
    client.videos.retrieve(video.id)  # reading again charges nothing more
    assert gateway.spend(key) == (0.06, [0.06])  # $0.02/s x 3 s


def test_vidgate_sdk_with_an_input_image_pays_the_surcharge_once(gateway: GatewayAdmin) -> None:
    key = gateway.new_key()
    with Client(api_key=key, api_base=gateway.url, gateway=True) as client:
        video = client.videos.create(
            "grok-1.5",
            "the boat sails away",
            seconds="2",
            size="1280x720",
            input_reference=image_bytes(1280, 720, "png"),
        )
        done = client.videos.wait(video.id, timeout=60, poll_interval=0.1)
        assert done.status == "completed"
        data = client.videos.content(video.id)
    info = probe(data.content)
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert gateway.spend(key) == (0.29, [0.29])  # $0.14/s x 2 s + $0.01 for the one input image
