"""Helpers for driving the Gemini/Vertex adapters against their emulators over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from tests.support.live import live_server
from vidgate.catalog import validate
from vidgate.errors import UnsupportedOperationError
from vidgate.providers.base import Credentials, Provider, ProviderJob
from vidgate.providers.catalogue import find_model
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


@dataclass
class Loopback:
    """A live emulator: its URL, the paths it was asked for, and credentials that reach it."""

    url: str
    app: CountingApp
    creds: Credentials


@contextmanager
def serve(app: Any, creds: Callable[[str], Credentials]) -> Iterator[Loopback]:
    """Serve ``app`` (counting its requests); ``creds(url)`` builds the credentials for that URL."""
    counting = CountingApp(app)
    with live_server(counting) as url:
        yield Loopback(url, counting, creds(url))


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


def failed_and_filtered(
    runner: SyncRunner, provider: Provider, model_id: str, creds: Credentials
) -> tuple[ProviderJob, ProviderJob]:
    """A ``[fault:fail]`` and a ``[fault:filtered]`` job run to their end: both failed, with the
    operation's error mapped to ``internal`` and the safety filter to ``moderation_blocked``."""
    failed = run_to_end(runner, provider, request(model_id, prompt="x [fault:fail]"), creds)
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.code == "internal"
    filtered = run_to_end(runner, provider, request(model_id, prompt="x [fault:filtered]"), creds)
    assert filtered.status == "failed"
    assert filtered.error is not None
    assert filtered.error.code == "moderation_blocked"
    return failed, filtered


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


async def acreate_with_retries(
    provider: Provider, req: VideoRequest, creds: Credentials
) -> tuple[ProviderJob, list[float]]:
    """Run a job to its end on a fresh async runner; the job and the backoff sleeps it took."""
    sleeps: list[float] = []
    runner = async_runner(sleeps)
    try:
        job = await arun_to_end(runner, provider, req, creds)
    finally:
        await runner.aclose()
    return job, sleeps


def assert_unsupported(runner: SyncRunner, provider: Provider, native_id: str, creds: Credentials) -> None:
    """remix, list and delete are refused (UnsupportedOperationError) by the adapter itself."""
    for flow in (
        provider.remix(native_id, "again", creds),
        provider.list(creds, after=None, limit=10, order="desc"),
        provider.delete(native_id, creds),
    ):
        with pytest.raises(UnsupportedOperationError):
            runner.run(flow, provider.error_for)
