"""A provider's absurd numbers on a SQL store: the job still completes and is charged once.

A token count of 1e20 or a ``completed_at`` of 1e30 used to reach the store after the job's money had
moved: the save overflowed the BIGINT column, the key was charged, the job stayed open and every poll
was a 500; ``completed_at: 1e999`` (JSON's inf) made the OpenAI parser raise until the job timed out
uncharged. The real parsers read each reply here (``ProviderJob`` and ``Usage`` keep them in range).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vidgate.gateway.service import CreateVideo
from vidgate.providers._ark_wire.flows import parse_task
from vidgate.providers._openai_wire.flows import parse_video

from .harness import T0
from .scripted import REPLICATE, SEEDANCE, scripted_gateway


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
    async with scripted_gateway(f"sqlite:///{tmp_path / 'v.db'}", tmp_path, entry, reply) as gw:
        request = CreateVideo(model="m", prompt="a fox", seconds=create["seconds"], size=create.get("size"))
        video = await gw.service.create_video(gw.caller, request)
        for hours in (0.01, 1):
            gw.clock.now = T0 + hours * 3600
            assert (await gw.service.get_video(gw.caller, video.id)).status == "completed"
        job, key = await gw.stored(video.id)
        assert (job.status, job.cost_micros) == ("completed", charged)
        assert (key.total_spend_micros, key.reserved_micros) == (charged, 0)
