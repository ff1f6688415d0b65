"""Video bytes to the client: streamed with bounded memory, with HTTP Range so a ``<video>`` can seek.

The gateway's ``open_content`` yields chunks from the content store (or live from the provider through
the job's pinned deployment); nothing here holds more than one chunk. A client that goes away stops
the stream (Starlette's StreamingResponse watches for the disconnect) and the source is closed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from vidgate.errors import invalid_value
from vidgate.gateway.auth import Principal
from vidgate.gateway.service import ContentStream, GatewayService
from vidgate.server.ranges import ByteRange, discard, etag, stream_response, unsatisfiable, wanted_range
from vidgate.types import CONTENT_VARIANTS

_EXTENSIONS = {"video/mp4": "mp4", "image/webp": "webp", "image/jpeg": "jpg", "image/png": "png"}


def check_variant(variant: str | None) -> str:
    """``variant`` absent is the video; any other value must name a variant (``?variant=`` is a 400)."""
    if variant is None:
        return "video"
    if variant not in CONTENT_VARIANTS:
        raise invalid_value("variant", variant, list(CONTENT_VARIANTS))
    return variant


async def content_response(
    request: Request, service: GatewayService, principal: Principal, video_id: str, variant: str
) -> Response:
    validator = etag(video_id, variant)
    wanted = wanted_range(request.headers, validator)
    stream = await _open(service, principal, video_id, variant, wanted)
    total = stream.total_size
    if wanted is not None and total is not None and wanted.resolve(total) is None:
        await discard(stream)
        return unsatisfiable(total)
    ext = _EXTENSIONS.get(stream.media_type)
    headers = {"etag": validator}
    if ext is not None:
        headers["content-disposition"] = f'inline; filename="{variant}.{ext}"'
    return stream_response(stream, wanted, headers, head=request.method == "HEAD")


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
    await discard(probe)
    resolved = wanted.resolve(probe.total_size)
    if resolved is None:
        return probe
    return await service.open_content(principal, video_id, variant, resolved)
