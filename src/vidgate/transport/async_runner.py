"""Drives provider flows with httpx.AsyncClient (SDK ``AsyncClient``, the gateway, the worker)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

import anyio
import httpx

from vidgate.errors import APIError
from vidgate.providers.base import Download, ErrorMapper, Flow, HttpCall, HttpReply, advance, outcome
from vidgate.transport.http import (
    DEFAULT_TIMEOUT,
    STREAM_CHUNK,
    SendFailure,
    amapped_chunks,
    bounded,
    never_sent,
    produced,
    request_kwargs,
    timeout_for,
    to_reply,
    transport_error,
)
from vidgate.transport.retry import RetryPolicy, parse_retry_after

T = TypeVar("T")


class Sender(Protocol):
    """Sends one call and reads its whole reply, raising ``SendFailure`` when no reply came (the
    gateway's ``Http1Sender``; without one the runner's httpx client does it)."""

    async def exchange(self, call: HttpCall) -> HttpReply: ...

    async def aclose(self) -> None: ...


@dataclass
class AsyncByteStream:
    media_type: str
    content_length: int | None
    chunks: AsyncIterator[bytes]
    status: int = 200
    headers: dict[str, str] | None = None


class AsyncRunner:
    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        sender: Sender | None = None,
    ) -> None:
        """``sender`` takes over the request/reply calls (streams stay on ``client``); it is closed
        with the runner."""
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(timeout=timeout if timeout is not None else DEFAULT_TIMEOUT)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._sender = sender

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()
        if self._sender is not None:
            await self._sender.aclose()

    async def run(self, flow: Flow[T], error_for: ErrorMapper, *, read_timeout: float | None = None) -> T:
        """Drive ``flow``; ``read_timeout`` (a deployment's ``timeout``) bounds each of its calls."""
        received: HttpReply | APIError | None = None
        try:
            while True:
                call = bounded(advance(flow, received), read_timeout)
                received = outcome(call, await self.send(call), error_for)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def send(self, call: HttpCall) -> HttpReply:
        """One call with retries; returns the last reply (error statuses included)."""
        exchange = self._sender.exchange if self._sender is not None else self._exchange
        attempt = 0
        while True:
            try:
                reply = await exchange(call)
            except SendFailure as failed:
                if attempt < self.retry.max_retries and (call.retry_safe or failed.never_sent):
                    await self._sleep(self.retry.delay(attempt))
                    attempt += 1
                    continue
                raise failed.error from failed.__cause__
            if attempt < self.retry.max_retries and self.retry.retry_status(
                reply.status, retry_safe=call.retry_safe
            ):
                await self._sleep(self.retry.delay(attempt, parse_retry_after(reply.headers)))
                attempt += 1
                continue
            return reply

    async def _exchange(self, call: HttpCall) -> HttpReply:
        try:
            response = await self.client.request(
                call.method,
                call.url,
                follow_redirects=call.follow_redirects,
                timeout=timeout_for(call, self.client.timeout),
                **request_kwargs(call),
            )
        except httpx.HTTPError as exc:
            raise SendFailure(transport_error(exc, call)) from exc
        return to_reply(response, response.content)

    @asynccontextmanager
    async def open(
        self,
        download: Download,
        error_for: ErrorMapper,
        *,
        headers: dict[str, str] | None = None,
        read_timeout: float | None = None,
    ) -> AsyncIterator[AsyncByteStream]:
        """Stream a download with bounded memory; local renders run in a worker thread."""
        if download.data is not None:
            data = download.data
            yield AsyncByteStream(download.media_type, len(data), _once(data))
            return
        if download.produce is not None:
            path = await anyio.to_thread.run_sync(produced, download.produce)
            size = path.stat().st_size
            yield AsyncByteStream(download.media_type, size, _file_chunks(str(path)))
            return
        assert download.call is not None, "Download needs call, data or produce"
        call = bounded(download.call, read_timeout)
        attempt = 0
        started = False
        while True:
            try:
                async with self.client.stream(
                    call.method,
                    call.url,
                    follow_redirects=call.follow_redirects,
                    timeout=timeout_for(call, self.client.timeout),
                    **request_kwargs(call, headers),
                ) as response:
                    if response.status_code >= 400:
                        body = await response.aread()
                        if attempt < self.retry.max_retries and self.retry.retry_status(
                            response.status_code, retry_safe=call.retry_safe
                        ):
                            await self._sleep(self.retry.delay(attempt, parse_retry_after(response.headers)))
                            attempt += 1
                            continue
                        raise error_for(to_reply(response, body))
                    length = response.headers.get("content-length")
                    started = True
                    yield AsyncByteStream(
                        response.headers.get("content-type", download.media_type).split(";")[0],
                        int(length) if length else None,
                        amapped_chunks(response.aiter_bytes(STREAM_CHUNK), call),
                        status=response.status_code,
                        headers={k.lower(): v for k, v in response.headers.items()},
                    )
                    return
            except httpx.HTTPError as exc:
                # once bytes were handed out, a retry would yield a second stream: never
                if not started and attempt < self.retry.max_retries and (call.retry_safe or never_sent(exc)):
                    await self._sleep(self.retry.delay(attempt))
                    attempt += 1
                    continue
                raise transport_error(exc, call) from exc


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _file_chunks(path: str) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        while chunk := await f.read(STREAM_CHUNK):
            yield chunk
