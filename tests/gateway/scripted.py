"""A gateway whose provider answers from a script, read by the real wire parsers: for the tests of what
a provider's odd replies do to a job and its money (``test_provider_numbers``, ``_text``, ``_no_output``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidgate.gateway.auth import Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.config import parse_config
from vidgate.gateway.ports import Stores
from vidgate.gateway.records import JobRecord, KeyRecord
from vidgate.gateway.routing import Deployment
from vidgate.gateway.service import GatewayService
from vidgate.providers.base import ProviderJob
from vidgate.store.factory import open_stores
from vidgate.transport import AsyncRunner
from vidgate.types import VideoRequest

from .harness import MASTER, Clock

SEEDANCE = {"model": "byteplus/dreamina-seedance-2-0-260128", "api_key": "k"}
REPLICATE = {"model": "replicate/someone/video-model", "api_key": "r8_x", "output_cost_per_video": "0.40"}


class ScriptedCalls(ProviderCalls):
    """Creates succeed; a status poll answers ``reply(native_id)``, read by a real wire parser."""

    def __init__(self, runner: AsyncRunner, reply: Callable[[str], ProviderJob]) -> None:
        super().__init__(runner)
        self.reply = reply

    async def create(self, dep: Deployment, req: VideoRequest) -> ProviderJob:
        return ProviderJob(native_id=f"task-{uuid.uuid4().hex[:10]}", status="queued", model=req.model)

    async def retrieve(self, dep: Deployment, native_id: str) -> ProviderJob:
        return self.reply(native_id)


@dataclass
class Scripted:
    service: GatewayService
    stores: Stores
    clock: Clock
    caller: Principal  # a virtual key with a $100 budget

    async def stored(self, video_id: str) -> tuple[JobRecord, KeyRecord]:
        """The job and its owner's key as the store holds them now."""
        assert self.caller.key is not None
        job = await self.stores.jobs.get(video_id)
        key = await self.stores.keys.get(self.caller.key.id)
        assert job is not None
        assert key is not None
        return job, key


@asynccontextmanager
async def scripted_gateway(
    database_url: str, tmp_path: Path, entry: dict[str, Any], reply: Callable[[str], ProviderJob]
) -> AsyncIterator[Scripted]:
    """A gateway serving model ``m`` from ``entry`` (its litellm_params), polls answered by ``reply``."""
    stores = await open_stores(database_url, None, tmp_path / "content")
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
        caller = await service.authenticate(secret)
        yield Scripted(service, stores, clock, caller)
    finally:
        await runner.aclose()
        await stores.close()
