"""The seed documents' older endpoints, kept for scripts written against them.

``POST /videos/generations`` (a create), ``/videos/status`` and ``/videos/retrieval`` (JSON
``{"video_id", "model"}``; retrieval answers the bytes), ``/videos/remix`` (JSON or multipart with
``video_id`` and ``prompt``). ``model`` on the follow-ups is accepted and not needed: a job is pinned to
the deployment that created it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from vidgate.errors import BadRequestError
from vidgate.server import forms
from vidgate.server.content import check_variant, content_response
from vidgate.server.endpoint import JSON, MULTIPART, URLENCODED, Body, Endpoint, fields_of
from vidgate.server.idempotency import idempotency_key
from vidgate.server.routes.videos import (
    CONTENT_REPLIES,
    CREATE_BODY,
    VIDEO,
    accepted,
    create_video,
    current_video,
    remix_prompt,
)
from vidgate.server.schemas.videos import (
    CreateHeaders,
    LegacyRemixBody,
    LegacyRetrievalBody,
    LegacyStatusBody,
    RangeHeaders,
)
from vidgate.server.state import caller, request_log, server_state


def _video_id(body: dict[str, Any], allowed: frozenset[str]) -> str:
    for name in body:
        if name not in allowed:
            raise BadRequestError(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    video_id = forms.text(body, "video_id", required=True)
    assert video_id is not None
    forms.text(body, "model")  # accepted and not needed, but a string when given (400 otherwise)
    return video_id


async def status(request: Request) -> Response:
    principal = await caller(request)
    video_id = _video_id(await forms.read_body(request), fields_of(LegacyStatusBody))
    return await current_video(request, principal, video_id)


async def retrieval(request: Request) -> Response:
    principal = await caller(request)
    body = await forms.read_body(request)
    video_id = _video_id(body, fields_of(LegacyRetrievalBody))
    variant = check_variant(forms.text(body, "variant"))
    request_log(request).video_id = video_id
    return await content_response(request, server_state(request).service, principal, video_id, variant)


async def remix(request: Request) -> Response:
    principal = await caller(request)
    body = await forms.read_body(request)
    video_id = _video_id(body, fields_of(LegacyRemixBody))
    prompt = remix_prompt(body, allowed=fields_of(LegacyRemixBody))
    video = await server_state(request).service.remix_video(
        principal, video_id, prompt, idempotency_key=idempotency_key(request)
    )
    return accepted(request, video)


def _form(model: type[LegacyStatusBody] | type[LegacyRemixBody]) -> Body:
    return Body({JSON: model, MULTIPART: model, URLENCODED: model})


def endpoints() -> list[Endpoint]:
    tag = "Legacy"
    return [
        Endpoint(
            "POST",
            "/videos/generations",
            create_video,
            "Create a video (the seed documents' name for POST /videos)",
            tag,
            {200: VIDEO},
            CREATE_BODY,
            headers=CreateHeaders,
        ),
        Endpoint(
            "POST", "/videos/status", status, "A video's status", tag, {200: VIDEO}, _form(LegacyStatusBody)
        ),
        Endpoint(
            "POST",
            "/videos/retrieval",
            retrieval,
            "A video's bytes",
            tag,
            CONTENT_REPLIES,
            _form(LegacyRetrievalBody),
            headers=RangeHeaders,
        ),
        Endpoint(
            "POST",
            "/videos/remix",
            remix,
            "Remix a video",
            tag,
            {200: VIDEO},
            _form(LegacyRemixBody),
            headers=CreateHeaders,
        ),
    ]
