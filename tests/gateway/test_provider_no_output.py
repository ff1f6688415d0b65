"""A provider reporting success without a video: the job fails ``no_output`` and is not charged.

``billable_videos`` charges all ``n`` when a completed job reports no outputs (the OpenAI shape never
lists them), so an adapter whose replies carry the video's URL must say when one is missing. Kling,
MiniMax, Runway and the Ark task API used to report such a task ``completed``: the key was charged for a
video nobody could download. The real parsers read each reply here, on SQLite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vidgate.gateway.config import parse_config
from vidgate.gateway.service import CreateVideo, GatewayService
from vidgate.providers._ark_wire.flows import parse_task
from vidgate.providers.base import ProviderJob
from vidgate.providers.kling.adapter import KlingProvider
from vidgate.providers.minimax.adapter import MiniMaxProvider
from vidgate.providers.runway.adapter import RunwayProvider
from vidgate.store.factory import open_stores
from vidgate.transport import AsyncRunner

from .harness import MASTER, T0, Clock
from .test_provider_numbers import REPLICATE, ScriptedCalls


def _kling(native_id: str) -> ProviderJob:
    data = {"task_id": native_id, "task_status": "succeed", "task_result": {"videos": []}}
    return KlingProvider()._job("text2video", data)


def _minimax(native_id: str) -> ProviderJob:
    return MiniMaxProvider()._job({"id": native_id, "status": "succeeded", "content": {}})


def _runway(native_id: str) -> ProviderJob:
    return RunwayProvider().read_task({"id": native_id, "status": "SUCCEEDED", "output": []}, native_id)


def _ark(native_id: str) -> ProviderJob:
    usage = {"completion_tokens": 100}
    data = {"id": native_id, "model": "dreamina-seedance-2-0-260128", "status": "succeeded", "content": {}}
    return parse_task("byteplus", {**data, "usage": usage})


@pytest.mark.parametrize(
    "reply", [_kling, _minimax, _runway, _ark], ids=["kling", "minimax", "runway", "ark"]
)
async def test_a_success_without_a_video_fails_the_job_uncharged(tmp_path: Path, reply: Any) -> None:
    stores = await open_stores(f"sqlite:///{tmp_path / 'v.db'}", None, tmp_path / "content")
    runner = AsyncRunner()
    clock = Clock()
    config = parse_config(
        {
            "model_list": [{"model_name": "m", "litellm_params": REPLICATE}],
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
        video = await service.create_video(p, CreateVideo(model="m", prompt="a fox", seconds="4"))
        clock.now = T0 + 60
        done = await service.get_video(p, video.id)
        assert done.error is not None
        assert (done.status, done.error.code) == ("failed", "no_output")
        job = await stores.jobs.get(video.id)
        key = await stores.keys.get(p.key.id)
        assert job is not None
        assert key is not None
        assert (job.cost_micros, key.total_spend_micros, key.reserved_micros) == (0, 0, 0)
    finally:
        await runner.aclose()
        await stores.close()
