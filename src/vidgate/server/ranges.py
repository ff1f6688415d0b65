"""HTTP ``Range`` for content downloads (RFC 9110 §14): one byte range, as a browser ``<video>`` asks.

A header we do not understand, or one asking for several ranges, is ignored (the full body is served
with 200, which the RFC allows); a syntactically valid range beyond the end answers 416. Answers carry
a strong ``ETag`` and honour ``If-Range`` with it; a HEAD gets the same headers without reading a byte.

The 200/206/416 answers for a gateway ``ContentStream`` are built here too, so the OpenAI-shaped
content route and the Google-native file route answer a range the same way (only how each opens its
stream differs).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response, StreamingResponse

from vidgate.gateway.content import ContentStream
from vidgate.gateway.ports import Chunk


@dataclass(frozen=True)
class ByteRange:
    """``start``/``end`` as written (``end`` inclusive, None = to the end); ``suffix`` = last N bytes."""

    start: int | None
    end: int | None
    suffix: int | None = None

    def resolve(self, total: int) -> tuple[int, int] | None:
        """The inclusive (first, last) byte positions within ``total`` bytes; None if unsatisfiable."""
        if self.suffix is not None:
            if self.suffix == 0 or total == 0:
                return None
            return max(0, total - self.suffix), total - 1
        assert self.start is not None
        if self.start >= total:
            return None
        last = total - 1 if self.end is None else min(self.end, total - 1)
        return self.start, last


def parse_range(header: str | None) -> ByteRange | None:
    """``bytes=0-``, ``bytes=100-199``, ``bytes=-500``; None for no header or one we ignore."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if not first:
        if not _digits(last):
            return None
        return ByteRange(None, None, suffix=_bounded(last))
    if not _digits(first) or (last and not _digits(last)):
        return None  # not a byte range we can read (e.g. "bytes=²-"): ignored, as RFC 9110 allows
    start = _bounded(first)
    end = _bounded(last) if last else None
    if end is not None and end < start:
        return None
    return ByteRange(start, end)


def _digits(text: str) -> bool:
    """ASCII digits only: ``"²"`` passes ``str.isdigit()`` and then fails ``int()``."""
    return text.isascii() and text.isdigit()


def _bounded(text: str) -> int:
    """A position no file reaches stays one (also past Python's 4,300-digit ``int()`` limit)."""
    return int(text) if len(text) <= 19 else 2**63


def etag(*parts: str) -> str:
    """A strong validator for immutable bytes (a finished video's variant never changes)."""
    return '"' + ".".join(parts) + '"'


def wanted_range(headers: Mapping[str, str], validator: str) -> ByteRange | None:
    """The range to serve: ``Range``, unless an ``If-Range`` names another representation (RFC 9110
    §13.1.5: a resumed download must not splice bytes of something else), then the whole body. Only
    the ETag we send matches; a date never does, as we send no ``Last-Modified``."""
    wanted = parse_range(headers.get("range"))
    condition = headers.get("if-range")
    if wanted is not None and condition is not None and condition.strip() != validator:
        return None
    return wanted


def content_range(first: int, last: int, total: int | None) -> str:
    return f"bytes {first}-{last}/{'*' if total is None else total}"


def unsatisfiable(total: int) -> Response:
    """416 for a range past the end of ``total`` bytes."""
    return Response(status_code=416, headers={"content-range": f"bytes */{total}", "accept-ranges": "bytes"})


async def discard(stream: ContentStream) -> None:
    """Close a stream that will not be sent (a probe for the size, or an unsatisfiable range)."""
    close = getattr(stream.chunks, "aclose", None)
    if close is not None:
        await close()


async def _unread(chunks: AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
    """No body (HEAD): the source is closed without reading a byte."""
    close = getattr(chunks, "aclose", None)
    if close is not None:
        await close()
    return
    yield b""  # pragma: no cover - makes this an async generator


async def _closing(chunks: AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()


def stream_response(
    stream: ContentStream,
    wanted: ByteRange | None,
    extra_headers: Mapping[str, str] | None = None,
    *,
    head: bool = False,
) -> StreamingResponse:
    """The stream as 206 with ``Content-Range`` when a range was asked for and the source honoured it,
    else 200; the source is closed when the body ends or the client goes away. ``head``: the same
    headers and no body, and the source is not read (a HEAD must not pull a whole video)."""
    headers = {"accept-ranges": "bytes", "cache-control": "private, max-age=3600", **(extra_headers or {})}
    total = stream.total_size
    status = 200
    if stream.partial and wanted is not None:
        last = stream.end if stream.end is not None else (total - 1 if total is not None else None)
        if last is not None:
            status = 206
            headers["content-range"] = content_range(stream.start, last, total)
            headers["content-length"] = str(last - stream.start + 1)
    elif total is not None:
        headers["content-length"] = str(total)
    body: Any = _unread(stream.chunks) if head else _closing(stream.chunks)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=stream.media_type)
