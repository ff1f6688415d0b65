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
from starlette.routing import Route

from vidgate.errors import BadRequestError
from vidgate.server import forms
from vidgate.server.content import check_variant, content_response
from vidgate.server.idempotency import idempotency_key
from vidgate.server.routes.videos import accepted, create_video, current_video, remix_prompt
from vidgate.server.state import caller, request_log, server_state


def _video_id(body: dict[str, Any], allowed: frozenset[str]) -> str:
    for name in body:
        if name not in allowed:
            raise BadRequestError(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    video_id = forms.text(body, "video_id", required=True)
    assert video_id is not None
    return video_id


async def status(request: Request) -> Response:
    principal = await caller(request)
    video_id = _video_id(await forms.read_body(request), frozenset({"video_id", "model"}))
    return await current_video(request, principal, video_id)


async def retrieval(request: Request) -> Response:
    principal = await caller(request)
    body = await forms.read_body(request)
    video_id = _video_id(body, frozenset({"video_id", "model", "variant"}))
    variant = check_variant(forms.text(body, "variant"))
    request_log(request).video_id = video_id
    return await content_response(request, server_state(request).service, principal, video_id, variant)


async def remix(request: Request) -> Response:
    principal = await caller(request)
    body = await forms.read_body(request)
    video_id = forms.text(body, "video_id", required=True)
    assert video_id is not None
    prompt = remix_prompt(body, allowed=frozenset({"prompt", "video_id", "model"}))
    video = await server_state(request).service.remix_video(
        principal, video_id, prompt, idempotency_key=idempotency_key(request)
    )
    return accepted(request, video)


def routes() -> list[Route]:
    return [
        Route("/videos/generations", create_video, methods=["POST"], name="generations"),  # the same create
        Route("/videos/status", status, methods=["POST"]),
        Route("/videos/retrieval", retrieval, methods=["POST"]),
        Route("/videos/remix", remix, methods=["POST"]),
    ]
