"""Multi-sample Google jobs are charged per generated video: Google bills only videos it generated
("You will only be charged if your video is successfully generated"), so a ``sampleCount`` of 2 with
one sample safety-filtered costs one video, and the rest of the reservation is released.

The emulators filter all samples or none, so the upstream here replays a recorded Gemini operation in
which one of two samples was filtered (Google's wire format, as the Gemini API answers it)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.gateway.harness import MASTER, Clock
from tests.support.live import live_server

from vidgate.catalog import to_micros
from vidgate.gateway.config import parse_config
from vidgate.gateway.passthrough import GooglePassthrough
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.providers.catalogue import find_model
from vidgate.store.memory import MemoryStores
from vidgate.transport import AsyncRunner, RetryPolicy

MODEL = "veo-2.0-generate-001"  # allows two samples
FILTER_REASON = (
    "Unable to generate 1 of 2 videos. Your current safety settings for person generation prevented one "
    "of the videos from being generated."
)


def recorded_operation(name: str) -> dict[str, Any]:
    """A finished Veo operation of the Gemini API: one sample generated, one filtered."""
    return {
        "name": name,
        "done": True,
        "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {
                "generatedSamples": [
                    {
                        "video": {
                            "uri": "https://generativelanguage.googleapis.com/v1beta/files/"
                            "3k7qkmd2ei4w:download?alt=media"
                        }
                    }
                ],
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": [FILTER_REASON],
            },
        },
    }


class RecordedGemini:
    def __init__(self) -> None:
        self.sample_counts: list[int] = []

    async def create(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.sample_counts.append(int(body["parameters"]["sampleCount"]))
        op_id = f"op{len(self.sample_counts)}"
        return JSONResponse({"name": f"models/{request.path_params['model']}/operations/{op_id}"})

    async def poll(self, request: Request) -> JSONResponse:
        params = request.path_params
        return JSONResponse(recorded_operation(f"models/{params['model']}/operations/{params['op_id']}"))


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[RecordedGemini, str]]:
    recorded = RecordedGemini()
    app = Starlette(
        routes=[
            Route("/v1beta/models/{model}:predictLongRunning", recorded.create, methods=["POST"]),
            Route("/v1beta/models/{model}/operations/{op_id}", recorded.poll, methods=["GET"]),
        ]
    )
    with live_server(app) as url:
        yield recorded, url


def _service(url: str, clock: Clock) -> GatewayService:
    entry = {"model": f"gemini/{MODEL}", "api_key": "gemini-upstream-key", "api_base": url}
    config = parse_config(
        {
            "model_list": [{"model_name": "veo-2", "litellm_params": entry}],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    runner = AsyncRunner(retry=RetryPolicy(max_retries=0))
    return GatewayService(config, MemoryStores(), runner, clock=clock, auth_ttl=0)


def _per_second() -> Decimal:
    spec = find_model(f"gemini/{MODEL}")
    assert spec is not None
    return spec.prices["720p"]


async def _money(service: GatewayService, key_id: str) -> tuple[int, int]:
    key = await service.stores.keys.get(key_id)
    assert key is not None
    return key.spend_micros, key.reserved_micros


async def test_openai_surface_charges_only_the_generated_sample(upstream: tuple[RecordedGemini, str]) -> None:
    recorded, url = upstream
    clock = Clock()
    service = _service(url, clock)
    master = await service.authenticate(MASTER)
    secret, record = await service.generate_key(master, max_budget=100)
    alice = await service.authenticate(secret)
    video = await service.create_video(
        alice, CreateVideo(model="veo-2", prompt="two foxes", seconds="5", size="1280x720", extra={"n": 2})
    )
    assert recorded.sample_counts[-1] == 2
    one_video = to_micros(_per_second() * 5)
    assert await _money(service, record.id) == (0, 2 * one_video)  # both samples reserved
    clock.advance(5)
    done = await service.get_video(alice, video.id)
    assert done.status == "completed"
    assert done.usage is not None
    assert (done.usage.cost, done.usage.duration_seconds, done.usage.cost_is_estimate) == (
        float(_per_second() * 5),
        5.0,
        False,
    )
    assert await _money(service, record.id) == (one_video, 0)  # the filtered sample's half released
    [entry] = await service.stores.ledger.spend_logs(key_id=record.id, start=None, end=None, limit=10)
    assert (entry.job_id, entry.cost_micros, entry.seconds) == (video.id, one_video, 5.0)
    assert (entry.metadata["videos"], entry.metadata["requested"]) == (1, 2)
    job = await service.stores.jobs.get(video.id)
    assert job is not None
    assert (job.n, job.videos_generated, job.cost_micros) == (2, 1, one_video)
    await service.runner.aclose()


async def test_passthrough_charges_only_the_generated_sample(upstream: tuple[RecordedGemini, str]) -> None:
    recorded, url = upstream
    clock = Clock()
    service = _service(url, clock)
    api = GooglePassthrough(service)
    master = await service.authenticate(MASTER)
    secret, record = await service.generate_key(master)
    alice = await service.authenticate(secret)
    body = {"instances": [{"prompt": "two foxes"}], "parameters": {"durationSeconds": 5, "sampleCount": 2}}
    op, _ = await api.start(alice, "gemini", "veo-2", body, resource="models/veo-2")
    assert recorded.sample_counts[-1] == 2
    one_video = to_micros(_per_second() * 5)
    assert await _money(service, record.id) == (0, 2 * one_video)
    clock.advance(5)
    done = await api.operation(alice, "gemini", op["name"])
    result = done["response"]["generateVideoResponse"]
    assert len(result["generatedSamples"]) == 1
    assert (result["raiMediaFilteredCount"], result["raiMediaFilteredReasons"]) == (1, [FILTER_REASON])
    assert await _money(service, record.id) == (one_video, 0)
    for _ in range(3):  # polls are never charged, and the settlement happens once
        clock.advance(60)
        await api.operation(alice, "gemini", op["name"])
    assert await _money(service, record.id) == (one_video, 0)
    await service.runner.aclose()
