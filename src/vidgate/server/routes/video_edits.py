"""Edits, extensions and characters of the OpenAI Videos API (also without ``/v1``); the bodies are
read by ``server.video_sources``, the use cases are ``gateway.edits`` and ``gateway.characters``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vidgate.gateway.characters import character_view
from vidgate.server import forms
from vidgate.server.idempotency import idempotency_key
from vidgate.server.responses import json_response
from vidgate.server.routes.videos import accepted
from vidgate.server.state import caller, request_log, server_state
from vidgate.server.video_sources import parse_character, parse_task
from vidgate.types import VideoTask


async def _start(request: Request, task: VideoTask) -> Response:
    principal = await caller(request)
    req = await parse_task(await forms.read_body(request), task)
    if req.model is not None:
        request_log(request).model = req.model
    video = await server_state(request).service.edits.start(
        principal, req, idempotency_key=idempotency_key(request)
    )
    return accepted(request, video)


async def edit_video(request: Request) -> Response:
    return await _start(request, "edit")


async def extend_video(request: Request) -> Response:
    return await _start(request, "extend")


async def create_character(request: Request) -> Response:
    principal = await caller(request)
    name, video = await parse_character(await forms.read_body(request))
    record = await server_state(request).service.characters.create(principal, name, video)
    return json_response(character_view(record))


async def get_character(request: Request) -> Response:
    character_id: str = request.path_params["character_id"]
    record = await server_state(request).service.characters.get(await caller(request), character_id)
    return json_response(character_view(record))


def routes() -> list[Route]:
    return [
        Route("/videos/edits", edit_video, methods=["POST"]),
        Route("/videos/extensions", extend_video, methods=["POST"]),
        Route("/videos/characters", create_character, methods=["POST"]),
        Route("/videos/characters/{character_id}", get_character, methods=["GET"]),
    ]
