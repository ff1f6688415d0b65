"""Video bytes to the client: streamed with bounded memory, with HTTP Range so a ``<video>`` can seek.

The gateway's ``open_content`` yields chunks from the content store (or live from the provider through
the job's pinned deployment); nothing here holds more than one chunk. A client that goes away stops
the stream (Starlette's StreamingResponse watches for the disconnect) and the source is closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from vidgate.errors import invalid_value
from vidgate.gateway.auth import Principal
from vidgate.gateway.service import ContentStream, GatewayService
from vidgate.server.ranges import ByteRange, content_range, parse_range
from vidgate.types import CONTENT_VARIANTS

_EXTENSIONS = {"video/mp4": "mp4", "image/webp": "webp", "image/jpeg": "jpg", "image/png": "png"}


def check_variant(variant: str | None) -> str:
    if variant is None or variant == "":
        return "video"
    if variant not in CONTENT_VARIANTS:
        raise invalid_value("variant", variant, list(CONTENT_VARIANTS))
    return variant


async def _closing(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()


async def _discard(stream: ContentStream) -> None:
    close = getattr(stream.chunks, "aclose", None)
    if close is not None:
        await close()


async def content_response(
    request: Request, service: GatewayService, principal: Principal, video_id: str, variant: str
) -> Response:
    wanted = parse_range(request.headers.get("range"))
    stream = await _open(service, principal, video_id, variant, wanted)
    total = stream.total_size
    if wanted is not None and total is not None and wanted.resolve(total) is None:
        await _discard(stream)
        return Response(
            status_code=416,
            headers={"content-range": f"bytes */{total}", "accept-ranges": "bytes"},
        )
    headers = {"accept-ranges": "bytes", "cache-control": "private, max-age=3600"}
    ext = _EXTENSIONS.get(stream.media_type)
    if ext is not None:
        headers["content-disposition"] = f'inline; filename="{variant}.{ext}"'
    status = 200
    if stream.partial and wanted is not None:
        last = stream.end if stream.end is not None else (total - 1 if total is not None else None)
        if last is not None:
            status = 206
            headers["content-range"] = content_range(stream.start, last, total)
            headers["content-length"] = str(last - stream.start + 1)
    elif total is not None:
        headers["content-length"] = str(total)
    return StreamingResponse(
        _closing(stream.chunks), status_code=status, headers=headers, media_type=stream.media_type
    )


async def _open(
    service: GatewayService, principal: Principal, video_id: str, variant: str, wanted: ByteRange | None
) -> ContentStream:
    if wanted is None:
        return await service.open_content(principal, video_id, variant, None)
    if wanted.suffix is None:
        assert wanted.start is not None
        return await service.open_content(principal, video_id, variant, (wanted.start, wanted.end))
    # "the last N bytes": learn the size first, then ask for the resolved range.
    probe = await service.open_content(principal, video_id, variant, None)
    if probe.total_size is None:
        return probe
    await _discard(probe)
    resolved = wanted.resolve(probe.total_size)
    if resolved is None:
        return probe
    return await service.open_content(principal, video_id, variant, resolved)
