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

from vidgate.gateway.service import CreateVideo
from vidgate.providers._ark_wire.flows import parse_task
from vidgate.providers.base import ProviderJob
from vidgate.providers.kling.adapter import KlingProvider
from vidgate.providers.minimax.adapter import MiniMaxProvider
from vidgate.providers.runway.adapter import RunwayProvider

from .harness import T0
from .scripted import REPLICATE, scripted_gateway


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
    async with scripted_gateway(f"sqlite:///{tmp_path / 'v.db'}", tmp_path, REPLICATE, reply) as gw:
        video = await gw.service.create_video(gw.caller, CreateVideo(model="m", prompt="a fox", seconds="4"))
        gw.clock.now = T0 + 60
        done = await gw.service.get_video(gw.caller, video.id)
        assert done.error is not None
        assert (done.status, done.error.code) == ("failed", "no_output")
        job, key = await gw.stored(video.id)
        assert (job.cost_micros, key.total_spend_micros, key.reserved_micros) == (0, 0, 0)
