"""A finished video's bytes: from the content store when the gateway keeps them, else streamed live
from the provider through the job's pinned deployment. Ranges are honoured either way (a provider
that ignores ``Range`` is sliced here), always with bounded memory. The provider failing to hand them
over (its 5xx, a local render that failed) is a 502: a fault upstream, not the gateway's 500."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

from vidgate.errors import APIConnectionError, APIError, UpstreamError
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.ports import Chunk, ContentStore
from vidgate.gateway.records import JobRecord
from vidgate.gateway.routing import Deployment

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


@dataclass
class ContentStream:
    media_type: str
    total_size: int | None
    start: int
    end: int | None  # inclusive end when ranged
    chunks: AsyncIterator[Chunk]
    partial: bool


async def _empty() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover - makes this an async generator


def _clamp(start: int, end: int | None, total: int) -> int:
    return total - 1 if end is None else min(end, total - 1)


async def from_store(
    store: ContentStore, job: JobRecord, variant: str, byte_range: tuple[int, int | None] | None
) -> ContentStream | None:
    """The stored variant, or None when the gateway does not hold it."""
    info = await store.stat(job.id, variant)
    if info is None:
        return None
    if byte_range is None:
        return ContentStream(info.media_type, info.size, 0, None, store.read(job.id, variant), partial=False)
    start, end = byte_range
    if start >= info.size:  # unsatisfiable: the caller answers 416 with the size
        return ContentStream(info.media_type, info.size, start, end, _empty(), partial=True)
    last = _clamp(start, end, info.size)
    chunks = store.read(job.id, variant, start=start, end=last)
    return ContentStream(info.media_type, info.size, start, last, chunks, partial=True)


async def live(
    calls: ProviderCalls,
    dep: Deployment,
    job: JobRecord,
    variant: str,
    byte_range: tuple[int, int | None] | None,
) -> ContentStream:
    """Stream from the provider; the upstream response stays open until ``chunks`` is exhausted or closed."""
    headers = None
    if byte_range is not None:
        start, end = byte_range
        headers = {"Range": f"bytes={start}-{'' if end is None else end}"}
    stack = AsyncExitStack()
    try:
        stream = await stack.enter_async_context(calls.open(dep, job.native_id, variant, headers=headers))
    except APIError as exc:
        await stack.aclose()
        if not _upstream_fault(exc):
            raise
        raise UpstreamError(
            exc.message,
            code=exc.code,
            provider=exc.provider or dep.provider,
            retry_after=exc.retry_after,
            provider_status=exc.status_code,
        ) from exc
    except BaseException:
        await stack.aclose()
        raise
    upstream_range = _CONTENT_RANGE.match((stream.headers or {}).get("content-range", ""))
    if stream.status == 206 and upstream_range is not None:
        first, last, total_text = upstream_range.groups()
        total = None if total_text == "*" else int(total_text)
        return ContentStream(
            stream.media_type, total, int(first), int(last), _closing(stream.chunks, stack), partial=True
        )
    total = stream.content_length
    if byte_range is None:
        return ContentStream(stream.media_type, total, 0, None, _closing(stream.chunks, stack), partial=False)
    start, end = byte_range
    if total is not None and start >= total:
        await stack.aclose()
        return ContentStream(stream.media_type, total, start, end, _empty(), partial=True)
    last = _clamp(start, end, total) if total is not None else end
    sliced = _slice(stream.chunks, start, last)
    return ContentStream(stream.media_type, total, start, last, _closing(sliced, stack), partial=True)


def _upstream_fault(exc: APIError) -> bool:
    """A 5xx from the provider other than one already answered as its own (502 ``UpstreamError`` or
    connection failure, 408/504 timeout: exposure keeps their detail from the caller)."""
    return exc.status_code >= 500 and not isinstance(exc, APIConnectionError | UpstreamError)


async def _closing(chunks: AsyncIterator[bytes], stack: AsyncExitStack) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await stack.aclose()


async def _slice(chunks: AsyncIterator[bytes], start: int, last: int | None) -> AsyncIterator[bytes]:
    """Bytes ``start..last`` (inclusive) of a full stream, for providers that ignore Range."""
    offset = 0
    async for chunk in chunks:
        begin, stop = offset, offset + len(chunk)
        offset = stop
        if stop <= start:
            continue
        lo = max(start - begin, 0)
        hi = len(chunk) if last is None else min(len(chunk), last + 1 - begin)
        if hi > lo:
            yield chunk[lo:hi]
        if last is not None and stop > last:
            break
