"""A provider's absurd numbers on a SQL store: the job still completes and is charged once.

A token count of 1e20 or a ``completed_at`` of 1e30 used to reach the store after the job's money had
moved: the save overflowed the BIGINT column, the key was charged, the job stayed open and every poll
was a 500; ``completed_at: 1e999`` (JSON's inf) made the OpenAI parser raise until the job timed out
uncharged. The real parsers read each reply here (``ProviderJob`` and ``Usage`` keep them in range).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.config import parse_config
from vidgate.gateway.routing import Deployment
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.providers._ark_wire.flows import parse_task
from vidgate.providers._openai_wire.flows import parse_video
from vidgate.providers.base import ProviderJob
from vidgate.store.factory import open_stores
from vidgate.transport import AsyncRunner
from vidgate.types import VideoRequest

from .harness import MASTER, T0, Clock

SEEDANCE = {"model": "byteplus/dreamina-seedance-2-0-260128", "api_key": "k"}
REPLICATE = {"model": "replicate/someone/video-model", "api_key": "r8_x", "output_cost_per_video": "0.40"}


class ScriptedCalls(ProviderCalls):
    """Creates succeed; a status poll answers ``reply(native_id)``, read by a real wire parser."""

    def __init__(self, runner: AsyncRunner, reply: Any) -> None:
        super().__init__(runner)
        self.reply = reply

    async def create(self, dep: Deployment, req: VideoRequest) -> ProviderJob:
        return ProviderJob(native_id=f"task-{uuid.uuid4().hex[:10]}", status="queued", model=req.model)

    async def retrieve(self, dep: Deployment, native_id: str) -> ProviderJob:
        job: ProviderJob = self.reply(native_id)
        return job


def _ark(tokens: str) -> Any:
    body = (
        '{"id":"%s","model":"dreamina-seedance-2-0-260128","status":"succeeded",'
        '"content":{"video_url":"https://x/v.mp4"},"usage":{"completion_tokens":' + tokens + "},"
        '"updated_at":1800000000,"created_at":1800000000}'
    )
    return lambda native_id: parse_task("byteplus", json.loads(body % native_id))


def _openai(completed_at: str) -> Any:
    body = (
        '{"id":"%s","object":"video","status":"completed","progress":100,"model":"sora-2",'
        '"completed_at":' + completed_at + ',"expires_at":1800090000}'
    )
    return lambda native_id: parse_video(json.loads(body % native_id))


@pytest.mark.parametrize(
    ("entry", "create", "reply", "charged"),
    [
        # 1e20 tokens is past any bound: charged the bound (5 s at 720p), once
        (SEEDANCE, {"seconds": "5", "size": "1280x720"}, _ark("100000000000000000000"), 764_050),
        # a negative count is no count: the bound, not 0
        (SEEDANCE, {"seconds": "5", "size": "1280x720"}, _ark("-5"), 764_050),
        (REPLICATE, {"seconds": "4"}, _openai("1e30"), 400_000),
        (REPLICATE, {"seconds": "4"}, _openai("1e999"), 400_000),
    ],
    ids=["tokens-1e20", "tokens-negative", "completed-at-1e30", "completed-at-inf"],
)
async def test_a_provider_reporting_absurd_numbers_is_completed_and_charged_once(
    tmp_path: Path, entry: dict[str, Any], create: dict[str, str], reply: Any, charged: int
) -> None:
    stores = await open_stores(f"sqlite:///{tmp_path / 'v.db'}", None, tmp_path / "content")
    runner = AsyncRunner()
    clock = Clock()
    config = parse_config(
        {
            "model_list": [{"model_name": "m", "litellm_params": entry}],
            "general_settings": {"master_key": MASTER},
        },
        environ={},
    )
    service = GatewayService(
        config, stores, runner, calls=ScriptedCalls(runner, reply), clock=clock, auth_ttl=0
    )
    try:
        master = await service.authenticate(MASTER)
        secret, _ = await service.generate_key(master, key_alias="k", max_budget=100.0)
        p = await service.authenticate(secret)
        assert p.key is not None
        request = CreateVideo(model="m", prompt="a fox", seconds=create["seconds"], size=create.get("size"))
        video = await service.create_video(p, request)
        for hours in (0.01, 1):
            clock.now = T0 + hours * 3600
            assert (await service.get_video(p, video.id)).status == "completed"
        job = await stores.jobs.get(video.id)
        key = await stores.keys.get(p.key.id)
        assert job is not None
        assert key is not None
        assert (job.status, job.cost_micros) == ("completed", charged)
        assert (key.total_spend_micros, key.reserved_micros) == (charged, 0)
    finally:
        await runner.aclose()
        await stores.close()
