"""Vertex AI's Veo routes under ``/vertex_ai`` (google-genai in Vertex mode with ``base_url`` =
``{gateway}/vertex_ai``, project/location of the client's choosing, the vidgate key as the Bearer token):

- ``POST /vertex_ai/{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{m}:predictLongRunning``
- ``POST .../models/{m}:fetchPredictOperation`` with ``{"operationName": ".../operations/{video id}"}``
- the same without ``projects/{p}/locations/{l}/`` (Vertex "express mode", API key in ``x-goog-api-key``).
- Gemini Omni: ``POST .../projects/{p}/locations/{l}/interactions`` (``background: true``), ``GET``/
  ``DELETE .../interactions/{id}``, ``POST .../interactions/{id}/cancel`` (``routes/interactions.py``),
  also in express mode.

The project and location in the path are the client's view only: the job runs on the configured
deployment's project, location and credentials. Finished videos come back inline as base64 (or as the
``gs://`` URIs of the client's ``storageUri``), as Vertex returns them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vidgate.errors import BadRequestError
from vidgate.server.google_errors import google_errors
from vidgate.server.google_http import check_version, google_caller, passthrough, read_json, unknown_path
from vidgate.server.idempotency import idempotency_key
from vidgate.server.responses import json_response
from vidgate.server.routes.interactions import interaction_routes
from vidgate.server.state import request_log, server_state

VERSIONS = ("v1", "v1beta1")
SURFACE = "vertex_ai"  # the provider whose native codec (``ProviderSpec.native``) these routes speak
PREFIX = "/vertex_ai"
_SCOPED = "/{version}/projects/{project}/locations/{location}/publishers/google/models/{model}"
_EXPRESS = "/{version}/publishers/google/models/{model}"


def _resource(request: Request) -> str:
    params = request.path_params
    model_path = f"publishers/google/models/{params['model']}"
    if "project" in params:
        return f"projects/{params['project']}/locations/{params['location']}/{model_path}"
    return model_path


@google_errors(SURFACE)
async def predict_long_running(request: Request) -> Response:
    check_version(request.path_params["version"], VERSIONS, request.url.path)
    principal = await google_caller(request)
    body = await read_json(request)
    model = request.path_params["model"]
    request_log(request).model = model
    op, model_name = await passthrough(request).start(
        principal,
        SURFACE,
        model,
        body,
        resource=_resource(request),
        idempotency_key=idempotency_key(request),
    )
    request_log(request).video_id = op["name"].rpartition("/")[2]
    server_state(request).metrics.submitted.labels(model_name).inc()
    return json_response(op)


@google_errors(SURFACE)
async def fetch_predict_operation(request: Request) -> Response:
    check_version(request.path_params["version"], VERSIONS, request.url.path)
    principal = await google_caller(request)
    body = await read_json(request)
    name = body.get("operationName")
    if not isinstance(name, str) or not name:
        raise BadRequestError("`operationName` is required.", param="operationName")
    request_log(request).video_id = name.rpartition("/")[2]
    return json_response(await passthrough(request).operation(principal, SURFACE, name))


@google_errors(SURFACE)
async def not_found(request: Request) -> Response:
    raise unknown_path(request)


def routes() -> list[Route]:
    every = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    table: list[Route] = []
    for path in (_SCOPED, _EXPRESS):
        table.append(Route(f"{PREFIX}{path}:predictLongRunning", predict_long_running, methods=["POST"]))
        table.append(
            Route(f"{PREFIX}{path}:fetchPredictOperation", fetch_predict_operation, methods=["POST"])
        )
    for root in (
        "/{version}/projects/{project}/locations/{location}/interactions",
        "/{version}/interactions",
    ):
        table += interaction_routes(SURFACE, f"{PREFIX}{root}", VERSIONS)
    table.append(Route(f"{PREFIX}/{{rest:path}}", not_found, methods=every))
    return table
