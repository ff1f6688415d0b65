"""Drives provider flows with a blocking httpx.Client (SDK ``Client``, CLI)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpx

from vidgate.errors import APIError
from vidgate.providers.base import Download, ErrorMapper, Flow, HttpCall, HttpReply, advance, outcome
from vidgate.transport.http import (
    DEFAULT_TIMEOUT,
    STREAM_CHUNK,
    mapped_chunks,
    never_sent,
    produced,
    request_kwargs,
    timeout_for,
    to_reply,
    transport_error,
)
from vidgate.transport.retry import RetryPolicy, parse_retry_after

T = TypeVar("T")


@dataclass
class ByteStream:
    media_type: str
    content_length: int | None
    chunks: Iterator[bytes]
    status: int = 200
    headers: dict[str, str] | None = None


class SyncRunner:
    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=timeout if timeout is not None else DEFAULT_TIMEOUT)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def run(self, flow: Flow[T], error_for: ErrorMapper) -> T:
        received: HttpReply | APIError | None = None
        try:
            while True:
                call = advance(flow, received)
                received = outcome(call, self.send(call), error_for)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def send(self, call: HttpCall) -> HttpReply:
        """One call with retries; returns the last reply (error statuses included)."""
        attempt = 0
        while True:
            try:
                response = self.client.request(
                    call.method,
                    call.url,
                    follow_redirects=call.follow_redirects,
                    timeout=timeout_for(call, self.client.timeout),
                    **request_kwargs(call),
                )
            except httpx.HTTPError as exc:
                if attempt < self.retry.max_retries and (call.retry_safe or never_sent(exc)):
                    self._sleep(self.retry.delay(attempt))
                    attempt += 1
                    continue
                raise transport_error(exc, call) from exc
            if attempt < self.retry.max_retries and self.retry.retry_status(
                response.status_code, retry_safe=call.retry_safe
            ):
                self._sleep(self.retry.delay(attempt, parse_retry_after(response.headers)))
                attempt += 1
                continue
            return to_reply(response, response.content)

    @contextmanager
    def open(
        self, download: Download, error_for: ErrorMapper, *, headers: dict[str, str] | None = None
    ) -> Iterator[ByteStream]:
        """Stream a download with bounded memory (inline data and local files are served as they are)."""
        if download.data is not None:
            data = download.data
            yield ByteStream(download.media_type, len(data), iter([data]))
            return
        if download.produce is not None:
            path = produced(download.produce)
            yield ByteStream(download.media_type, path.stat().st_size, _file_chunks(path))
            return
        call = download.call
        assert call is not None, "Download needs call, data or produce"
        attempt = 0
        started = False
        while True:
            try:
                with self.client.stream(
                    call.method,
                    call.url,
                    follow_redirects=call.follow_redirects,
                    timeout=timeout_for(call, self.client.timeout),
                    **request_kwargs(call, headers),
                ) as response:
                    if response.status_code >= 400:
                        body = response.read()
                        if attempt < self.retry.max_retries and self.retry.retry_status(
                            response.status_code, retry_safe=call.retry_safe
                        ):
                            self._sleep(self.retry.delay(attempt, parse_retry_after(response.headers)))
                            attempt += 1
                            continue
                        raise error_for(to_reply(response, body))
                    length = response.headers.get("content-length")
                    started = True
                    yield ByteStream(
                        response.headers.get("content-type", download.media_type).split(";")[0],
                        int(length) if length else None,
                        mapped_chunks(response.iter_bytes(STREAM_CHUNK), call),
                        status=response.status_code,
                        headers={k.lower(): v for k, v in response.headers.items()},
                    )
                    return
            except httpx.HTTPError as exc:
                # once bytes were handed out, a retry would yield a second stream: never
                if not started and attempt < self.retry.max_retries and (call.retry_safe or never_sent(exc)):
                    self._sleep(self.retry.delay(attempt))
                    attempt += 1
                    continue
                raise transport_error(exc, call) from exc


def _file_chunks(path: object) -> Iterator[bytes]:
    with open(str(path), "rb") as f:
        while chunk := f.read(STREAM_CHUNK):
            yield chunk
