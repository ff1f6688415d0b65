"""Through the in-process gateway: the official ``openai`` package creates, polls, downloads, lists
and deletes on ``openai_compatible`` deployments served by the emulator; extra fields arrive upstream
untouched; spend is the deployment's price, charged once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from tests.support.gateway_admin import GatewayAdmin
from tests.support.live import live_server
from tests.support.media import probe

from vidgate.emulators.common import EmulatorSettings
from vidgate.gateway.config import parse_config
from vidgate.providers.openai_compatible.emulator import CompatOptions
from vidgate.providers.openai_compatible.emulator import create_app as emulator_app
from vidgate.server.app import create_app

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.slow]
MASTER = "sk-gateway-master-key-0001"
UPSTREAM_KEY = "sk-gpu-box"


@dataclass(frozen=True)
class Setup(GatewayAdmin):
    vllm: Any  # the emulator apps: their stores show what arrived upstream
    dynamo: Any

    def client(self, secret: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=secret, max_retries=0)


@pytest.fixture(scope="module")
def setup(render_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base = tmp_path_factory.mktemp("compat-gateway")

    def fast(api_key: str | None) -> EmulatorSettings:
        return EmulatorSettings(
            api_key=api_key, processing_seconds=0.3, poll_after_ms=20, cache_dir=render_cache
        )

    vllm = emulator_app(fast(None), CompatOptions())
    dynamo = emulator_app(
        fast(UPSTREAM_KEY),
        CompatOptions(create_reply="minimal", seconds_type="integer"),
    )
    with live_server(vllm) as vllm_url, live_server(dynamo) as dynamo_url:
        config = parse_config(
            {
                "model_list": [
                    {
                        "model_name": "wan-2.2",
                        "litellm_params": {
                            "model": "openai_compatible/Wan-AI/Wan2.2-T2V-A14B-Diffusers",
                            "api_base": f"{vllm_url}/v1",
                            "output_cost_per_second": 0.05,
                            "sizes": ["320x180", "640x360"],
                            "seconds": [1, 2, 3],
                        },
                    },
                    {
                        "model_name": "ltx-dynamo",
                        "litellm_params": {
                            "model": "openai_compatible/ltx-2",
                            "api_base": f"{dynamo_url}/v1",
                            "api_key": UPSTREAM_KEY,
                            "seconds_type": "integer",
                            "request_format": "json",
                            "output_cost_per_video": 0.25,
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
            yield Setup(url, MASTER, vllm, dynamo)


def upstream_fields(app: Any, prompt: str) -> dict[str, Any]:
    jobs = [job for job in app.state.store.jobs.values() if job.prompt == prompt]
    assert len(jobs) == 1
    fields: dict[str, Any] = jobs[0].extra["fields"]
    return fields


def test_create_poll_download_delete_with_extra_fields_and_the_deployment_price(setup: Setup) -> None:
    secret = setup.new_key()
    sdk = setup.client(secret)
    prompt = "a heron over a misty river"
    video = sdk.videos.create(
        model="wan-2.2",
        prompt=prompt,
        seconds="2",  # type: ignore[arg-type]  # the SDK types Sora's values; the gateway serves others
        size="320x180",  # type: ignore[arg-type]
        extra_body={
            "seed": "11",
            "extra_body": {"num_inference_steps": "12", "guidance_scale": "4.5", "lora": '{"name": "ink"}'},
        },
    )
    assert (video.model, video.seconds, video.size, video.status) == ("wan-2.2", "2", "320x180", "queued")
    arrived = upstream_fields(setup.vllm, prompt)
    assert arrived == {
        "seed": "11",
        "num_inference_steps": "12",
        "guidance_scale": "4.5",
        "lora": '{"name": "ink"}',
    }
    done = sdk.videos.poll(video.id, poll_interval_ms=50)
    assert done.status == "completed"
    info = probe(sdk.videos.download_content(video.id).content)
    assert (info.width, info.height) == (320, 180)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    with pytest.raises(openai.BadRequestError) as thumbnail:  # the server lists only the video
        sdk.videos.download_content(video.id, variant="thumbnail")
    assert thumbnail.value.body["param"] == "variant"  # type: ignore[index]
    assert video.id in [v.id for v in sdk.videos.list(limit=100)]
    spend = setup.info(secret)
    assert spend["spend"] == pytest.approx(0.10, abs=1e-9)  # $0.05/s x 2 s, written by hand
    assert spend["reserved"] == 0
    for _ in range(3):  # further polls never charge again
        sdk.videos.retrieve(video.id)
    assert setup.info(secret)["spend"] == pytest.approx(0.10, abs=1e-9)
    assert sdk.videos.delete(video.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(video.id)


def test_declared_sizes_and_seconds_are_enforced_before_any_call(setup: Setup) -> None:
    sdk = setup.client(setup.new_key())
    before = len(setup.vllm.state.store.jobs)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.videos.create(model="wan-2.2", prompt="x", seconds="8", size="320x180")  # type: ignore[arg-type]
    assert caught.value.body["param"] == "seconds"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as size:
        sdk.videos.create(model="wan-2.2", prompt="x", seconds="2", size="1280x720")  # type: ignore[arg-type]
    assert size.value.body["param"] == "size"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as reserved:
        sdk.videos.create(model="wan-2.2", prompt="x", extra_body={"extra_body": {"num_frames": "241"}})
    assert reserved.value.body["param"] == "extra_body.num_frames"  # type: ignore[index]
    assert len(setup.vllm.state.store.jobs) == before


def test_minimal_reply_integer_seconds_json_dialect_and_a_flat_price(setup: Setup) -> None:
    secret = setup.new_key()
    sdk = setup.client(secret)
    prompt = "lanterns drifting on a lake"
    video = sdk.videos.create(
        model="ltx-dynamo",
        prompt=prompt,
        seconds="3",  # type: ignore[arg-type]
        size="640x360",  # type: ignore[arg-type]  # open sizes: any WxH is accepted and sent
        extra_body={"extra_body": {"response_format": "url"}},
    )
    assert (video.seconds, video.size, video.status) == ("3", "640x360", "queued")
    assert upstream_fields(setup.dynamo, prompt) == {"response_format": "url"}
    done = sdk.videos.poll(video.id, poll_interval_ms=50)
    assert done.status == "completed"
    info = probe(sdk.videos.download_content(video.id).content)
    assert (info.width, info.height) == (640, 360)
    assert info.duration == pytest.approx(3.0, abs=0.1)
    assert setup.info(secret)["spend"] == pytest.approx(0.25, abs=1e-9)  # $0.25 per video


def test_a_file_part_under_extra_body_arrives_upstream_untouched(setup: Setup) -> None:
    """Every extra form field and file part is forwarded (dropping them is the incumbent's bug): the
    emulator echoes the file part it received, byte for byte (its sha256)."""
    secret = setup.new_key()
    wav = b"RIFF0000WAVEfmt " + bytes(range(256))
    reply = httpx.post(
        f"{setup.url}/v1/videos",
        headers={"Authorization": f"Bearer {secret}"},
        data={
            "model": "wan-2.2",
            "prompt": "a drum solo",
            "seconds": "1",
            "size": "320x180",
            "extra_body[guidance_scale]": "4.5",
        },
        files={"extra_body[audio_reference]": ("beat.wav", wav, "audio/wav")},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    fields = upstream_fields(setup.vllm, "a drum solo")
    assert fields["guidance_scale"] == "4.5"
    part = fields["audio_reference"]
    assert (part.filename, part.content_type, part.data) == ("beat.wav", "audio/wav", wav)
    echoed = setup.client(secret).videos.retrieve(reply.json()["id"])
    assert echoed.status in ("queued", "in_progress", "completed")


def test_a_file_part_cannot_go_into_a_json_body(setup: Setup) -> None:
    """A deployment that sends JSON cannot carry a file part: named and refused before anything is
    charged or sent."""
    secret = setup.new_key()
    before = len(setup.dynamo.state.store.jobs)
    reply = httpx.post(
        f"{setup.url}/v1/videos",
        headers={"Authorization": f"Bearer {secret}"},
        data={"model": "ltx-dynamo", "prompt": "a drum solo in json", "seconds": "2"},
        files={"extra_body[audio_reference]": ("beat.wav", b"RIFF0000WAVEfmt ", "audio/wav")},
        timeout=30,
    )
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == "extra_body.audio_reference"
    assert len(setup.dynamo.state.store.jobs) == before
    assert setup.info(secret)["spend"] == 0


def test_an_engine_without_edits_is_a_400_and_nothing_is_charged(setup: Setup) -> None:
    """Open models declare ``edit``/``extend``, so the gateway forwards; an engine without the routes
    (the emulator, like a FastAPI server with ``GET /v1/videos/{id}``, answers 405) is a 400 saying
    so, and the reservation is freed."""
    secret = setup.new_key()
    sdk = setup.client(secret)
    source = sdk.videos.create(model="wan-2.2", prompt="a reed", seconds="1", size="320x180")  # type: ignore[arg-type]
    assert sdk.videos.poll(source.id, poll_interval_ms=50).status == "completed"
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.post(
            "/videos/edits",
            body={"prompt": "in wind", "video": {"id": source.id}},
            cast_to=openai.types.Video,
        )
    assert "does not support video edits" in refused.value.message
    assert [v.id for v in sdk.videos.list(limit=10)] == [source.id]
    info = setup.info(secret)
    assert info["spend"] == pytest.approx(0.05, abs=1e-9)  # the source only: 1 s at $0.05/s
    assert info["reserved"] == 0
