"""``AsyncClient``: the asyncio SDK, the same surface as ``Client`` with ``await``.

The operations are the same plans as the sync client's (``ops``); only the runner differs. Local
renders and Vertex token refreshes run in worker threads, so the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx

from vidgate.sdk.client import DEFAULT_WAIT_TIMEOUT, http_timeout, make_config
from vidgate.sdk.edits import plan_create_character, plan_get_character, plan_task
from vidgate.sdk.files import checked_destination, partial_path
from vidgate.sdk.ops import (
    Plan,
    Polled,
    credential_hook,
    plan_create,
    plan_delete,
    plan_download,
    plan_list,
    plan_remix,
    plan_retrieve,
    poll_delay,
    wait_timeout,
)
from vidgate.sdk.resolve import Target
from vidgate.transport import AsyncRunner, RetryPolicy
from vidgate.types import Video, VideoBytes, VideoCharacter, VideoDeleted, VideoList

T = TypeVar("T")
ProgressCallback = Callable[[Video], object]


class AsyncClient:
    """Async client; see ``Client`` for the arguments. Use ``async with`` or ``await client.aclose()``."""

    def __init__(
        self,
        api_key: str | None = None,
        api_base: str | None = None,
        api_version: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = 2,
        organization: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        gateway: bool = False,
        **options: str | None,
    ) -> None:
        self.config = make_config(
            api_key, api_base, api_version, organization, extra_headers, options, gateway=gateway
        )
        retry = RetryPolicy(max_retries=2 if max_retries is None else max_retries)
        self._runner = AsyncRunner(http_client, retry=retry, timeout=http_timeout(timeout), sleep=sleep)
        self._sleep = sleep
        self.videos = AsyncVideos(self)

    async def aclose(self) -> None:
        await self._runner.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _finish(self, target: Target) -> Target:
        spec = credential_hook(target)
        if spec is not None and spec.authorize is not None:
            return replace(target, creds=await spec.authorize(target.creds))
        return target

    async def _run(self, plan: Plan[T]) -> T:
        return (await self._run_with_target(plan))[0]

    async def _run_with_target(self, plan: Plan[T]) -> tuple[T, Target]:
        """The result, and the finished target (a download reads its bytes with that target's errors)."""
        target = await self._finish(plan.target)
        return await self._runner.run(plan.build(target), target.adapter.error_for), target


class AsyncVideos:
    """``client.videos`` for ``AsyncClient``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        model: str,
        prompt: str,
        seconds: str | int | None = None,
        size: str | None = None,
        input_reference: object = None,
        user: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **provider_params: Any,
    ) -> Video:
        """Start a video job; the parameters are ``Client.videos.create``'s (reference videos by URL as
        ``input_references`` items of type ``video_url``)."""
        plan = plan_create(
            self._client.config,
            model=model,
            prompt=prompt,
            seconds=seconds,
            size=size,
            input_reference=input_reference,
            user=user,
            extra_body=extra_body,
            extra_headers=extra_headers,
            provider_params=provider_params,
        )
        return await self._client._run(plan)

    async def _poll(self, video_id: str, model: str | None) -> Polled:
        return await self._client._run(plan_retrieve(self._client.config, video_id, model))

    async def retrieve(self, video_id: str, model: str | None = None) -> Video:
        return (await self._poll(video_id, model)).video

    async def content(self, video_id: str, variant: str = "video", model: str | None = None) -> VideoBytes:
        client = self._client
        plan = plan_download(client.config, video_id, model, variant)
        download, target = await client._run_with_target(plan)
        async with client._runner.open(download, target.adapter.error_for) as stream:
            parts = [chunk async for chunk in stream.chunks]
            result = VideoBytes(b"".join(parts))
            result.media_type = stream.media_type
        return result

    async def stream_content(
        self, video_id: str, path: str | os.PathLike[str], variant: str = "video", model: str | None = None
    ) -> Path:
        client = self._client
        dest = checked_destination(path)
        plan = plan_download(client.config, video_id, model, variant)
        download, target = await client._run_with_target(plan)
        partial = anyio.Path(partial_path(dest))
        try:
            async with (
                client._runner.open(download, target.adapter.error_for) as stream,
                await anyio.open_file(partial, "wb") as out,
            ):
                async for chunk in stream.chunks:
                    await out.write(chunk)
            await partial.replace(dest)
        finally:
            await partial.unlink(missing_ok=True)
        return dest

    async def edit(
        self,
        *,
        prompt: str,
        video: object,
        model: str | None = None,
        size: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Video:
        """Edit a video: ``video`` is ``{"id": ...}`` (or an id) of a completed video, or an MP4 (path,
        bytes, binary file, ``(filename, bytes)``). The edit keeps the source's length (what is priced);
        ``model`` is for an upload (an id keeps its video's model). ``size`` (a vidgate extension) asks
        for another aspect ratio at the source's resolution, where the model can reframe; absent, the
        output is at the source's size."""
        plan = plan_task(
            self._client.config,
            "edit",
            prompt=prompt,
            video=video,
            size=size,
            model=model,
            extra_headers=extra_headers,
        )
        return await self._client._run(plan)

    async def extend(
        self,
        *,
        prompt: str,
        video: object,
        seconds: str | int | None = None,
        model: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Video:
        """Continue a video by ``seconds`` (priced at those seconds); ``video`` as in ``edit``."""
        plan = plan_task(
            self._client.config,
            "extend",
            prompt=prompt,
            video=video,
            seconds=seconds,
            model=model,
            extra_headers=extra_headers,
        )
        return await self._client._run(plan)

    async def create_character(
        self, *, name: str, video: object, extra_headers: Mapping[str, str] | None = None
    ) -> VideoCharacter:
        """Upload a named character clip (an MP4) to the gateway."""
        plan = plan_create_character(self._client.config, name=name, video=video, extra_headers=extra_headers)
        return await self._client._run(plan)

    async def get_character(self, character_id: str) -> VideoCharacter:
        return await self._client._run(plan_get_character(self._client.config, character_id))

    async def remix(self, video_id: str, prompt: str, model: str | None = None) -> Video:
        return await self._client._run(plan_remix(self._client.config, video_id, prompt, model))

    async def list(
        self,
        model: str | None = None,
        after: str | None = None,
        limit: int | None = None,
        order: str | None = None,
    ) -> VideoList:
        return await self._client._run(
            plan_list(self._client.config, model, after=after, limit=limit, order=order)
        )

    async def delete(self, video_id: str, model: str | None = None) -> VideoDeleted:
        return await self._client._run(plan_delete(self._client.config, video_id, model))

    async def wait(
        self,
        video_id: str,
        timeout: float = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 - the same surface as Client.videos.wait
        poll_interval: float | None = None,
        on_progress: ProgressCallback | None = None,
        model: str | None = None,
    ) -> Video:
        """As ``Client.videos.wait``; ``on_progress`` may be a plain function or a coroutine function."""
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            polled = await self._poll(video_id, model)
            if on_progress is not None:
                outcome = on_progress(polled.video)
                if asyncio.iscoroutine(outcome):
                    await outcome
            if polled.video.done:
                return polled.video
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise wait_timeout(video_id, timeout, polled.video)
            await self._client._sleep(
                min(poll_delay(attempt, poll_interval, polled.poll_after_ms), remaining)
            )
            attempt += 1
