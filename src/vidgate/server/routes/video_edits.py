"""Edits, extensions and characters of the OpenAI Videos API (also without ``/v1``); the bodies are
read by ``server.video_sources``, the use cases are ``gateway.edits`` and ``gateway.characters``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from vidgate.gateway.characters import character_view
from vidgate.server import forms
from vidgate.server.endpoint import JSON, MULTIPART, Body, Endpoint, Reply
from vidgate.server.idempotency import idempotency_key
from vidgate.server.responses import json_response
from vidgate.server.routes.videos import CREATED, accepted
from vidgate.server.schemas.edits import (
    Character,
    CreateCharacterForm,
    EditVideoBody,
    EditVideoForm,
    ExtendVideoBody,
    ExtendVideoForm,
)
from vidgate.server.schemas.videos import CreateHeaders
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
    return json_response(Character.model_validate(character_view(record)))


async def get_character(request: Request) -> Response:
    character_id: str = request.path_params["character_id"]
    record = await server_state(request).service.characters.get(await caller(request), character_id)
    return json_response(Character.model_validate(character_view(record)))


def endpoints() -> list[Endpoint]:
    tag = "Videos"
    character = {200: Reply("The character.", Character)}
    return [
        Endpoint(
            "POST",
            "/videos/edits",
            edit_video,
            "Edit a video (the source by id, or an MP4)",
            tag,
            {200: CREATED},
            Body({JSON: EditVideoBody, MULTIPART: EditVideoForm}),
            headers=CreateHeaders,
        ),
        Endpoint(
            "POST",
            "/videos/extensions",
            extend_video,
            "Extend a video",
            tag,
            {200: CREATED},
            Body({JSON: ExtendVideoBody, MULTIPART: ExtendVideoForm}),
            headers=CreateHeaders,
        ),
        Endpoint(
            "POST",
            "/videos/characters",
            create_character,
            "Create a character from an MP4 clip",
            tag,
            character,
            Body({MULTIPART: CreateCharacterForm}),
        ),
        Endpoint(
            "GET", "/videos/characters/{character_id}", get_character, "Get a character", tag, character
        ),
    ]
