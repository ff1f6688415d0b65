"""The Gemini API's Veo routes under ``/gemini`` (google-genai's ``base_url`` = ``{gateway}/gemini``):

- ``POST /gemini/{v1beta|v1}/models/{model}:predictLongRunning`` -> ``{"name": "models/M/operations/ID"}``
  (``ID`` is the video id: the same job is ``GET /v1/videos/ID`` for the same key)
- ``GET /gemini/{v1beta|v1}/models/{model}/operations/ID`` -> the operation (owner only)
- ``GET /gemini/{v1beta|v1}/files/{file id}:download?alt=media`` -> the MP4 (owner only; Range)
- Gemini Omni: ``POST /gemini/{v1beta|v1}/interactions`` (``background: true``), ``GET``/``DELETE
  .../interactions/{id}``, ``POST .../interactions/{id}/cancel`` (``routes/interactions.py``)

The key comes from ``x-goog-api-key``, ``?key=`` or ``Authorization: Bearer``. Errors are Google's
envelope (``server/google_errors.py``), also for unknown paths under ``/gemini``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from vidgate.errors import BadRequestError
from vidgate.server.auth import secret_from
from vidgate.server.endpoint import JSON, Body, Endpoint, Reply, validated
from vidgate.server.express import Lane, known_caller
from vidgate.server.google_errors import google_errors
from vidgate.server.google_http import (
    check_version,
    google_caller,
    media_response,
    passthrough,
    read_json,
    unknown_path,
)
from vidgate.server.idempotency import idempotency_key
from vidgate.server.logs import LogContext
from vidgate.server.responses import json_response
from vidgate.server.routes.interactions import interaction_endpoints
from vidgate.server.schemas.google import DownloadQuery, Operation, PredictLongRunningRequest
from vidgate.server.schemas.videos import CreateHeaders, RangeHeaders
from vidgate.server.state import ServerState, request_log, server_state

VERSIONS = ("v1beta", "v1")
SURFACE = "gemini"  # the provider whose native codec (``ProviderSpec.native``) these routes speak
PREFIX = "/gemini"


@google_errors(SURFACE)
async def predict_long_running(request: Request) -> Response:
    version, model = request.path_params["version"], request.path_params["model"]
    check_version(version, VERSIONS, request)
    principal = await google_caller(request)
    body = await read_json(request)
    validated(PredictLongRunningRequest, body)  # the envelope; the native codec reads the fields it validates
    request_log(request).model = model
    op, model_name = await passthrough(request).start(
        principal, SURFACE, model, body, resource=f"models/{model}", idempotency_key=idempotency_key(request)
    )
    request_log(request).video_id = op["name"].rpartition("/")[2]
    server_state(request).metrics.submitted.labels(model_name).inc()
    return json_response(operation_view(op))


def operation_view(op: dict[str, Any]) -> dict[str, Any]:
    """An operation as documented (``Operation``): what the model does not describe is not sent."""
    return Operation.model_validate(op).model_dump(mode="json", exclude_unset=True)


@google_errors(SURFACE)
async def get_operation(request: Request) -> Response:
    params = request.path_params
    check_version(params["version"], VERSIONS, request)
    principal = await google_caller(request)
    name = f"models/{params['model']}/operations/{params['operation']}"
    video_id = params["operation"]
    request_log(request).video_id = video_id
    finished = server_state(request).finished
    cached = finished.get(principal.owner_id, video_id, view=name)
    if cached is not None:  # a done operation cannot change (a delete forgets it): polls skip the store
        return Response(cached.body, media_type="application/json")
    op = operation_view(await passthrough(request).operation(principal, SURFACE, name))
    response = json_response(op)
    if op.get("done") is True:
        finished.keep_view(principal.owner_id, video_id, name, bytes(response.body))
    return response


def _done_operation(
    params: Mapping[str, str], headers: Mapping[str, str], state: ServerState, log: LogContext
) -> bytes | None:
    """``get_operation``'s cached answer, given before routing (``server/express.py``). The key comes
    as ``google_secret`` reads it (``?key=`` never: the lanes take no query string)."""
    if params["version"] not in VERSIONS:
        return None
    goog = headers.get("x-goog-api-key", "").strip()
    principal = known_caller(goog or secret_from(headers), state, log)
    if principal is None:
        return None
    video_id = params["operation"]
    name = f"models/{params['model']}/operations/{video_id}"
    cached = state.finished.get(principal.owner_id, video_id, view=name)
    if cached is None:
        return None
    log.video_id = video_id
    return cached.body


def express_lanes() -> list[Lane]:
    """A done operation's poll."""
    return [Lane(f"{PREFIX}/{{version}}/models/{{model}}/operations/{{operation}}", _done_operation)]


@google_errors(SURFACE)
async def download_file(request: Request) -> Response:
    check_version(request.path_params["version"], VERSIONS, request)
    principal = await google_caller(request)
    if request.query_params.get("alt") != "media":
        raise BadRequestError("Only media downloads are supported here: add alt=media.", param="alt")
    return await media_response(
        request, principal, SURFACE, request.path_params["file_id"], passthrough(request)
    )


@google_errors(SURFACE)
async def not_found(request: Request) -> Response:
    raise unknown_path(request)


OPERATION = Reply("The long-running operation (its name ends with the video id).", Operation)
BYTES = Reply("The video's bytes.", media_type="video/mp4", headers={"etag": "Of this file."})


def endpoints() -> list[Endpoint]:
    tag = "Gemini API pass-through"
    every = ("GET", "POST", "PUT", "PATCH", "DELETE")
    return [
        Endpoint(
            "POST",
            f"{PREFIX}/{{version}}/models/{{model}}:predictLongRunning",
            predict_long_running,
            "Start a Veo generation (google-genai's generate_videos)",
            tag,
            {200: OPERATION},
            Body({JSON: PredictLongRunningRequest}),
            headers=CreateHeaders,
            envelope="google",
            auth="google",
        ),
        Endpoint(
            "GET",
            f"{PREFIX}/{{version}}/models/{{model}}/operations/{{operation}}",
            get_operation,
            "Poll the operation",
            tag,
            {200: OPERATION},
            envelope="google",
            auth="google",
        ),
        Endpoint(
            "GET",
            f"{PREFIX}/{{version}}/files/{{file_id}}:download",
            download_file,
            "Download a generated video (alt=media), with Range",
            tag,
            {
                200: BYTES,
                206: Reply("The requested range.", media_type="video/mp4"),
                416: Reply("The range starts past the end.", media_type=""),
            },
            query=DownloadQuery,
            headers=RangeHeaders,
            envelope="google",
            auth="google",
        ),
        *interaction_endpoints(SURFACE, f"{PREFIX}/{{version}}/interactions", VERSIONS, tag),
        *[
            Endpoint(
                method,
                f"{PREFIX}/{{rest:path}}",
                not_found,
                "Any other path: 404 in Google's envelope",
                tag,
                {},
                envelope="google",
                auth="google",
            )
            for method in every
        ],
    ]
