"""AsyncClient: the same plans as Client, driven by the async runner."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from vidgate import AsyncClient
from vidgate.errors import BadRequestError, InternalServerError
from vidgate.sdk.ids import VideoRef, decode, encode

pytestmark = pytest.mark.filterwarnings("ignore::vidgate.LifecycleWarning")


def video(status: str, progress: int = 0) -> dict[str, object]:
    return {
        "id": "video_abc",
        "object": "video",
        "model": "sora-2",
        "status": status,
        "progress": progress,
        "created_at": 1700000000,
        "size": "720x1280",
        "seconds": "4",
    }


class Script:
    def __init__(self, *replies: httpx.Response) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.replies.pop(0)


def aclient(script: Script, sleeps: list[float]) -> AsyncClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    http = httpx.AsyncClient(transport=httpx.MockTransport(script))
    return AsyncClient(api_key="k", api_base="https://api.test/v1", http_client=http, sleep=sleep)


async def test_async_create_retries_503_and_rejects_bad_values_first() -> None:
    script = Script(
        httpx.Response(503, json={"error": {"message": "busy"}}, headers={"retry-after": "2"}),
        httpx.Response(200, json=video("queued")),
    )
    sleeps: list[float] = []
    async with aclient(script, sleeps) as client:
        with pytest.raises(BadRequestError) as info:
            await client.videos.create("openai/sora-2", "a cat", seconds="5")
        assert info.value.param == "seconds"
        assert script.requests == []
        created = await client.videos.create("openai/sora-2", "a cat")
    assert decode(created.id) == VideoRef("openai", "sora-2", "video_abc", "4", "720x1280", 1700000000)
    assert sleeps == [2.0]


async def test_async_500_on_create_is_not_retried() -> None:
    script = Script(httpx.Response(500, json={"error": {"message": "boom"}}))
    async with aclient(script, []) as client:
        with pytest.raises(InternalServerError):
            await client.videos.create("openai/sora-2", "a cat")
    assert len(script.requests) == 1


async def test_async_wait_calls_sync_and_async_progress_callbacks() -> None:
    script = Script(
        httpx.Response(200, json=video("in_progress", 20), headers={"openai-poll-after-ms": "300"}),
        httpx.Response(200, json=video("completed", 100)),
    )
    sleeps: list[float] = []
    seen: list[int] = []

    async def on_progress(v: object) -> None:
        seen.append(getattr(v, "progress", -1))

    async with aclient(script, sleeps) as client:
        done = await client.videos.wait(
            encode(VideoRef("openai", "sora-2", "video_abc")), on_progress=on_progress
        )
    assert done.status == "completed"
    assert seen == [20, 100]
    assert sleeps == [0.3]


async def test_async_stream_content_bounded_memory(tmp_path: Path) -> None:
    size, chunk = 64 * 1024 * 1024, 1024 * 1024
    block = os.urandom(chunk)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(size // chunk):
            yield block

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body(), headers={"content-type": "video/mp4"})

    dest = tmp_path / "v.mp4"
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncClient(api_key="k", api_base="https://api.test/v1", http_client=http) as client:
        tracemalloc.start()
        try:
            await client.videos.stream_content(encode(VideoRef("openai", "sora-2", "video_abc")), dest)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert dest.stat().st_size == size
    assert peak < size // 16


async def test_async_stream_content_to_a_missing_directory_fails_before_any_request(tmp_path: Path) -> None:
    script = Script()
    async with aclient(script, []) as client:
        vid = encode(VideoRef("openai", "sora-2", "video_abc"))
        with pytest.raises(FileNotFoundError, match="does not exist"):
            await client.videos.stream_content(vid, tmp_path / "nodir" / "out.mp4")
        with pytest.raises(IsADirectoryError, match="is a directory"):
            await client.videos.stream_content(vid, tmp_path)
    assert script.requests == []
    assert not (tmp_path / "nodir").exists()
