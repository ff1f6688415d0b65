"""What the Google-native routes share: the caller's key as Google's clients send it, JSON bodies, the
pass-through use cases, video bytes with Range, and Google-shaped 404s for unknown paths."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from vidgate.errors import BadRequestError, NotFoundError
from vidgate.gateway.auth import Principal
from vidgate.gateway.content import ContentStream
from vidgate.gateway.passthrough import GooglePassthrough
from vidgate.server.auth import secret_from
from vidgate.server.forms import parse_json
from vidgate.server.ranges import discard, etag, stream_response, unsatisfiable, wanted_range
from vidgate.server.state import authenticated, server_state

MAX_JSON_BYTES = 48 * 1024 * 1024  # a body with an image and a last frame, base64


def google_secret(request: Request) -> str | None:
    """``x-goog-api-key`` (google-genai), ``?key=`` (Google's REST samples), then the gateway's own
    headers and ``Authorization: Bearer`` (google-genai in Vertex mode sends the token there)."""
    value = request.headers.get("x-goog-api-key") or request.query_params.get("key")
    if value and value.strip():
        return value.strip()
    return secret_from(request.headers)


async def google_caller(request: Request) -> Principal:
    return await authenticated(request, google_secret(request))


def passthrough(request: Request) -> GooglePassthrough:
    """The app's GooglePassthrough (built once, on the lifespan's GatewayService)."""
    service = server_state(request).service
    found = getattr(request.app.state, "vidgate_passthrough", None)
    if isinstance(found, GooglePassthrough) and found.service is service:
        return found
    created = GooglePassthrough(service)
    request.app.state.vidgate_passthrough = created
    return created


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_JSON_BYTES:
        raise BadRequestError(
            f"Request payload size exceeds the limit: {MAX_JSON_BYTES} bytes.", param="body"
        )
    if not raw.strip():
        return {}
    try:
        data = parse_json(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"Invalid JSON payload received. {exc}", param="body") from exc
    if not isinstance(data, dict):
        raise BadRequestError("Invalid JSON payload received: expected an object.", param="body")
    return data


def check_version(version: str, allowed: tuple[str, ...], request: Request) -> None:
    """A 404 naming the path for a version not served (the URL is built only then: every poll checks)."""
    if version not in allowed:
        raise NotFoundError(
            f"Method not found: {request.url.path} (API versions served: {', '.join(allowed)})."
        )


def unknown_path(request: Request) -> NotFoundError:
    return NotFoundError(f"Method not found: {request.method} {request.url.path}.", code="not_found")


async def media_response(
    request: Request, principal: Principal, surface: str, file_id: str, api: GooglePassthrough
) -> Response:
    """A file's bytes, streamed; ``Range`` answered with 206 (or 416), as a ``<video>`` element seeks."""

    async def open_file(byte_range: tuple[int, int | None] | None) -> ContentStream:
        return await api.open_file(principal, surface, file_id, byte_range)

    validator = etag(file_id)
    wanted = wanted_range(request.headers, validator)
    stream: ContentStream
    if wanted is None:
        stream = await open_file(None)
    elif wanted.suffix is None:
        assert wanted.start is not None
        try:
            stream = await open_file((wanted.start, wanted.end))
        except BadRequestError:  # a provider answering 416 to a live range read: learn the size
            probe = await open_file(None)
            await discard(probe)
            if probe.total_size is not None and wanted.start >= probe.total_size:
                return unsatisfiable(probe.total_size)
            raise
    else:  # the last N bytes: learn the size, then ask for the resolved range
        stream = await open_file(None)
        resolved = wanted.resolve(stream.total_size) if stream.total_size is not None else None
        if stream.total_size is not None:
            await discard(stream)
            if resolved is None:
                return unsatisfiable(stream.total_size)
            stream = await open_file(resolved)
    total = stream.total_size
    if wanted is not None and total is not None and stream.partial and stream.start >= total:
        await discard(stream)
        return unsatisfiable(total)
    return stream_response(stream, wanted, {"etag": validator}, head=request.method == "HEAD")
