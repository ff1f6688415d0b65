"""Shared httpx plumbing for both runners: building requests and mapping transport failures."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from vidgate.errors import APIConnectionError, APIError, Timeout, UpstreamError
from vidgate.providers.base import HttpCall, HttpReply

log = logging.getLogger("vidgate.transport")

DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)
STREAM_CHUNK = 64 * 1024


def request_kwargs(call: HttpCall, extra_headers: dict[str, str] | None = None) -> dict[str, Any]:
    headers = dict(call.headers)
    if extra_headers:
        headers.update(extra_headers)
    kwargs: dict[str, Any] = {"headers": headers}
    if call.params:
        kwargs["params"] = dict(call.params)
    if call.files is not None:  # multipart/form-data, also with no file part (``files=[]``)
        files: list[Any] = list(call.files)
        if call.data and files:
            kwargs["data"] = dict(call.data)
        elif call.data:  # httpx sends text-only ``data`` urlencoded: as (None, text) parts it is a form
            files = [(name, (None, value)) for name, value in call.data.items()]
        kwargs["files"] = files
    elif call.data is not None:
        kwargs["data"] = dict(call.data)
    elif call.json is not None:
        kwargs["json"] = call.json
    return kwargs


def call_timeout(seconds: float) -> httpx.Timeout:
    """A call's own ``read_timeout`` as httpx's: every wait at most ``seconds`` (connecting at most the
    default's connect time)."""
    return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_TIMEOUT.connect or seconds))


def bounded(call: HttpCall, read_timeout: float | None) -> HttpCall:
    """``call`` with ``read_timeout`` when it has none of its own."""
    if read_timeout is None or call.read_timeout is not None:
        return call
    return dataclasses.replace(call, read_timeout=read_timeout)


def timeout_for(call: HttpCall, default: httpx.Timeout) -> httpx.Timeout:
    """The timeout ``call`` is sent with: its own ``read_timeout``, else the client's ``default``."""
    return default if call.read_timeout is None else call_timeout(call.read_timeout)


class SendFailure(Exception):
    """A call that got no HTTP reply: the vidgate error to raise, which says whether the request
    certainly never reached the provider (then even a paid create may be retried)."""

    def __init__(self, error: APIConnectionError) -> None:
        super().__init__(str(error))
        self.error = error

    @property
    def never_sent(self) -> bool:
        return self.error.never_sent


def timed_out(where: str, kind: str, *, never_sent: bool) -> SendFailure:
    """A call that timed out (``kind``: ``ConnectTimeout``, ``ReadTimeout``), in the httpx path's words."""
    return SendFailure(Timeout(f"Request timed out: {where} ({kind})", never_sent=never_sent))


def connection_failed(where: str, why: object, *, never_sent: bool) -> SendFailure:
    """A call whose connection failed (``why``: the cause), in the httpx path's words."""
    return SendFailure(APIConnectionError(f"Connection error: {where}: {why}", never_sent=never_sent))


def produced(produce: Callable[[], Path]) -> Path:
    """The file ``Download.produce`` makes. Its failure is the provider's (a local render), so one that
    is not already an ``APIError`` is a 502 ``UpstreamError``; its detail (a path on this machine, say)
    goes to the log, not to the caller."""
    try:
        return produce()
    except APIError:
        raise
    except Exception as exc:
        log.warning("a provider's download could not be produced", exc_info=True)
        raise UpstreamError(
            f"The provider could not produce the file ({type(exc).__name__}).", code="produce_failed"
        ) from exc


def to_reply(response: httpx.Response, content: bytes) -> HttpReply:
    return HttpReply(
        status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()},
        content=content,
        url=str(response.url),
    )


def never_sent(exc: httpx.HTTPError) -> bool:
    """True when the request certainly did not reach the provider (safe to retry even a create)."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def transport_error(exc: httpx.HTTPError, call: HttpCall) -> APIConnectionError:
    where = f"{call.method} {call.url}"
    if isinstance(exc, httpx.TimeoutException):
        return timed_out(where, type(exc).__name__, never_sent=never_sent(exc)).error
    return connection_failed(where, exc or type(exc).__name__, never_sent=never_sent(exc)).error


def mapped_chunks(chunks: Iterator[bytes], call: HttpCall) -> Iterator[bytes]:
    """A body's chunks, with a connection lost mid-body raised as a vidgate error wherever it is read."""
    try:
        yield from chunks
    except httpx.HTTPError as exc:
        raise transport_error(exc, call) from exc


async def amapped_chunks(chunks: AsyncIterator[bytes], call: HttpCall) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    except httpx.HTTPError as exc:
        raise transport_error(exc, call) from exc
