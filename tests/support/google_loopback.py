"""Helpers for driving the Gemini/Vertex adapters against their emulators over loopback."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.types import Receive, Scope, Send

from vidgate.catalog import find_model, validate
from vidgate.providers.base import Credentials, Provider, ProviderJob
from vidgate.transport import AsyncRunner, SyncRunner
from vidgate.types import VideoRequest


class CountingApp:
    """Wraps an ASGI app and records the path of every HTTP request that reached it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


def request(model_id: str, **params: Any) -> VideoRequest:
    spec = find_model(model_id)
    assert spec is not None, model_id
    params.setdefault("seconds", 4)
    return validate(spec, **params)


def sync_runner(sleeps: list[float]) -> SyncRunner:
    """A runner whose backoff sleeps are recorded instead of slept."""
    return SyncRunner(sleep=sleeps.append)


def async_runner(sleeps: list[float]) -> AsyncRunner:
    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    return AsyncRunner(sleep=record)


def run_to_end(runner: SyncRunner, provider: Provider, req: VideoRequest, creds: Credentials) -> ProviderJob:
    job = runner.run(provider.create(req, creds), provider.error_for)
    for _ in range(600):
        if job.status in ("completed", "failed"):
            return job
        time.sleep(0.02)
        job = runner.run(provider.retrieve(job.native_id, creds), provider.error_for)
    raise AssertionError(f"job {job.native_id} never finished")


async def arun_to_end(
    runner: AsyncRunner, provider: Provider, req: VideoRequest, creds: Credentials
) -> ProviderJob:
    job = await runner.run(provider.create(req, creds), provider.error_for)
    for _ in range(600):
        if job.status in ("completed", "failed"):
            return job
        await asyncio.sleep(0.02)
        job = await runner.run(provider.retrieve(job.native_id, creds), provider.error_for)
    raise AssertionError(f"job {job.native_id} never finished")


def fetch(runner: SyncRunner, provider: Provider, native_id: str, creds: Credentials) -> bytes:
    download = runner.run(provider.download(native_id, "video", creds), provider.error_for)
    with runner.open(download, provider.error_for) as stream:
        assert stream.media_type == "video/mp4"
        return b"".join(stream.chunks)


async def afetch(runner: AsyncRunner, provider: Provider, native_id: str, creds: Credentials) -> bytes:
    download = await runner.run(provider.download(native_id, "video", creds), provider.error_for)
    async with runner.open(download, provider.error_for) as stream:
        assert stream.media_type == "video/mp4"
        return b"".join([chunk async for chunk in stream.chunks])
