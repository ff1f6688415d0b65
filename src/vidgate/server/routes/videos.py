"""The OpenAI Videos API: create, retrieve, list, delete, remix, download (also without ``/v1``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from vidgate.catalog import openrouter
from vidgate.catalog.validate import empty_value
from vidgate.errors import BadRequestError, missing_parameters
from vidgate.gateway.auth import Principal
from vidgate.gateway.service import MAX_LIST_LIMIT, CreateNotes, CreateVideo
from vidgate.server import forms
from vidgate.server.auth import secret_from
from vidgate.server.content import check_variant, content_response
from vidgate.server.endpoint import JSON, MULTIPART, URLENCODED, Body, Endpoint, Reply, fields_of
from vidgate.server.express import Lane, known_caller
from vidgate.server.idempotency import idempotency_key
from vidgate.server.logs import LogContext
from vidgate.server.responses import json_response
from vidgate.server.schemas.videos import (
    DEFAULT_LIST_LIMIT,
    ContentQuery,
    CreateHeaders,
    CreateVideoBody,
    CreateVideoForm,
    ListVideosQuery,
    RangeHeaders,
    RemixBody,
)
from vidgate.server.state import ServerState, caller, request_log, server_state
from vidgate.types import TERMINAL_STATUSES, Video, VideoDeleted, VideoList

CREATE_FIELDS = fields_of(CreateVideoBody)
REMIX_FIELDS = fields_of(RemixBody)
DROPPED_HEADER = "x-vidgate-dropped-params"  # parameters left out under drop_params, comma-separated


def accepted(request: Request, video: Video) -> Response:
    """A new job (create or remix): counted, then answered like any video."""
    server_state(request).metrics.submitted.labels(video.model).inc()
    return video_response(request, video)


def video_response(request: Request, video: Video) -> Response:
    """A Video, with ``openai-poll-after-ms`` while it is not finished (the SDK's poll helper obeys it)."""
    ctx = request_log(request)
    ctx.video_id = video.id
    ctx.model = video.model
    if video.usage is not None and video.usage.cost is not None:
        ctx.cost = video.usage.cost
    headers = None
    if video.status not in TERMINAL_STATUSES:
        hint = server_state(request).service.poll_after_ms(video)
        headers = {"openai-poll-after-ms": str(hint)}
    return json_response(video, headers=headers)


async def parse_create(request: Request, body: dict[str, Any]) -> CreateVideo:
    """A create request from a JSON or form body (the same fields either way: ``CreateVideoBody``'s;
    OpenRouter's spellings are read by ``catalog.openrouter``)."""
    for name in body:
        if name not in CREATE_FIELDS:
            raise BadRequestError(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    config = server_state(request).service.config
    shape, callback_url = openrouter.parse(body, allow_private_urls=config.allow_private_callback_urls)
    body = {name: value for name, value in body.items() if name not in openrouter.FIELDS}
    model = forms.text(body, "model")
    for name in ("model", "size", "seconds", "input_reference"):
        raw = body.get(name)
        if isinstance(raw, str) and not raw.strip():  # "" is not absent: it never takes the default
            raise empty_value(name)
    if model is None:
        model = server_state(request).service.default_model()
        if model is None:  # report a missing prompt in the same answer
            prompt = body.get("prompt")
            blank = prompt is None or (isinstance(prompt, str) and not prompt.strip())
            raise missing_parameters(["model", "prompt"] if blank else ["model"])
    request_log(request).model = model
    reference = body.get("input_reference")
    return CreateVideo(
        model=model,
        prompt=forms.text(body, "prompt"),
        seconds=forms.seconds_value(body),
        size=forms.text(body, "size"),
        input_reference=None if reference is None else await forms.image_input(reference, "input_reference"),
        user=forms.text(body, "user"),
        extra=await forms.extra_params(body, from_form=forms.is_form(request)),
        extra_body=await forms.extra_body(body),
        openrouter=shape if shape.given() else None,
        callback_url=callback_url,
    )


async def create_video(request: Request) -> Response:
    principal = await caller(request)
    body = await forms.read_body(request)
    req = await parse_create(request, body)
    notes = CreateNotes()
    video = await server_state(request).service.create_video(
        principal, req, idempotency_key=idempotency_key(request), notes=notes
    )
    response = accepted(request, video)
    if notes.dropped:
        response.headers[DROPPED_HEADER] = ",".join(notes.dropped)
    return response


async def list_videos(request: Request) -> Response:
    principal = await caller(request)
    query = request.query_params
    limit = _limit(query.get("limit"))
    order = query.get("order", "desc")  # an explicit empty value is not absent: 400, as in a body
    if order not in ("asc", "desc"):
        raise BadRequestError(
            f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
            param="order",
            code="invalid_value",
        )
    page = await server_state(request).service.list_videos(
        principal, after=query.get("after") or None, limit=limit, order=order
    )
    return json_response(page)


async def retrieve_video(request: Request) -> Response:
    video_id: str = request.path_params["video_id"]
    return await current_video(request, await caller(request), video_id)


async def current_video(request: Request, principal: Principal, video_id: str) -> Response:
    """The video as it is now; a finished one from the in-memory cache (status polls are the hot path)."""
    state = server_state(request)
    cached = state.finished.get(principal.owner_id, video_id)
    if cached is not None:
        ctx = request_log(request)
        ctx.video_id, ctx.model, ctx.cost = video_id, cached.model, cached.cost
        return Response(cached.body, media_type="application/json")
    video = await state.service.get_video(principal, video_id)
    response = video_response(request, video)
    state.finished.offer(principal.owner_id, video, bytes(response.body))
    return response


def _finished_video(
    params: Mapping[str, str], headers: Mapping[str, str], state: ServerState, log: LogContext
) -> bytes | None:
    """``current_video``'s cached answer, given before routing (``server/express.py``)."""
    principal = known_caller(secret_from(headers), state, log)
    if principal is None:
        return None
    video_id = params["video_id"]
    cached = state.finished.get(principal.owner_id, video_id)
    if cached is None:
        return None
    log.video_id, log.model, log.cost = video_id, cached.model, cached.cost
    return cached.body


def express_lanes() -> list[Lane]:
    """A finished video's status poll, under both prefixes the routes are mounted at."""
    return [Lane(f"{prefix}/videos/{{video_id}}", _finished_video) for prefix in ("/v1", "")]


async def delete_video(request: Request) -> Response:
    video_id: str = request.path_params["video_id"]
    principal = await caller(request)
    request_log(request).video_id = video_id
    state = server_state(request)
    state.finished.forget(video_id)
    deleted = await state.service.delete_video(principal, video_id)
    state.finished.forget(video_id)
    return json_response(deleted)


async def remix_video(request: Request) -> Response:
    video_id: str = request.path_params["video_id"]
    principal = await caller(request)
    body = await forms.read_body(request)
    prompt = remix_prompt(body, allowed=REMIX_FIELDS)
    video = await server_state(request).service.remix_video(
        principal, video_id, prompt, idempotency_key=idempotency_key(request)
    )
    return accepted(request, video)


async def download_content(request: Request) -> Response:
    video_id: str = request.path_params["video_id"]
    principal = await caller(request)
    variant = check_variant(request.query_params.get("variant"))
    request_log(request).video_id = video_id
    return await content_response(request, server_state(request).service, principal, video_id, variant)


def remix_prompt(body: dict[str, Any], *, allowed: frozenset[str]) -> str:
    """The remix prompt. A remix keeps the source's model, size and seconds: other fields are refused."""
    for name in body:
        if name not in allowed:
            raise BadRequestError(
                f"Unknown parameter: '{name}'. A remix takes only a prompt; it keeps the source video's "
                "model, size and seconds.",
                param=name,
                code="unknown_parameter",
            )
    prompt = forms.text(body, "prompt", required=True)
    assert prompt is not None
    return prompt


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIST_LIMIT
    text = raw.strip()
    if not re.fullmatch(r"-?[0-9]+", text):  # ASCII only: "²" passes str.isdigit()
        raise BadRequestError(
            f"Invalid type for 'limit': expected an integer, but got '{raw[:40]}' instead.",
            param="limit",
            code="invalid_type",
        )
    shown = text if len(text) <= 40 else text[:40] + "..."  # 2**64 is an integer too, if out of range
    if text.startswith("-") and text.strip("-0"):
        raise BadRequestError(
            f"Invalid 'limit': integer below minimum value. Expected a value >= 0, but got {shown} instead.",
            param="limit",
            code="integer_below_min_value",
        )
    if len(text) > 20 or int(text) > MAX_LIST_LIMIT:
        raise BadRequestError(
            f"Invalid 'limit': integer above maximum value. Expected a value <= {MAX_LIST_LIMIT}, "
            f"but got {shown} instead.",
            param="limit",
            code="integer_above_max_value",
        )
    return int(text)


VIDEO = Reply(
    "The video as it is now.", Video, headers={"openai-poll-after-ms": "While it runs: poll again after."}
)
CREATED = Reply(
    "The new video.",
    Video,
    headers={**VIDEO.headers, DROPPED_HEADER: "Parameters left out under drop_params, comma-separated."},
)
CREATE_BODY = Body({JSON: CreateVideoBody, MULTIPART: CreateVideoForm, URLENCODED: CreateVideoForm})
CONTENT = Reply(
    "The bytes (video/mp4; thumbnail image/webp; spritesheet image/jpeg).",
    media_type="video/mp4",
    alternatives=(("image/webp", None), ("image/jpeg", None), ("image/png", None)),
    headers={"content-range": "Of a 206.", "accept-ranges": "`bytes`.", "etag": "Of this content."},
)
CONTENT_REPLIES = {
    200: CONTENT,
    206: Reply(
        "The requested range.",
        media_type="video/mp4",
        alternatives=CONTENT.alternatives,
        headers=CONTENT.headers,
    ),
    416: Reply("The range starts past the end.", media_type="", headers={"content-range": "`bytes */SIZE`."}),
}


def endpoints() -> list[Endpoint]:
    tag = "Videos"
    return [
        Endpoint(
            "POST",
            "/videos",
            create_video,
            "Create a video",
            tag,
            {200: CREATED},
            CREATE_BODY,
            headers=CreateHeaders,
        ),
        Endpoint(
            "GET",
            "/videos",
            list_videos,
            "List videos",
            tag,
            {200: Reply("A page.", VideoList)},
            query=ListVideosQuery,
        ),
        Endpoint("GET", "/videos/{video_id}", retrieve_video, "Retrieve a video", tag, {200: VIDEO}),
        Endpoint(
            "DELETE",
            "/videos/{video_id}",
            delete_video,
            "Delete a video",
            tag,
            {200: Reply("Deleted.", VideoDeleted)},
        ),
        Endpoint(
            "POST",
            "/videos/{video_id}/remix",
            remix_video,
            "Remix a video (same model, size, seconds)",
            tag,
            {200: VIDEO},
            Body({JSON: RemixBody, MULTIPART: RemixBody, URLENCODED: RemixBody}),
            headers=CreateHeaders,
        ),
        Endpoint(
            "GET",
            "/videos/{video_id}/content",
            download_content,
            "Download the video (or a thumbnail or spritesheet), with Range",
            tag,
            CONTENT_REPLIES,
            query=ContentQuery,
            headers=RangeHeaders,
        ),
    ]
