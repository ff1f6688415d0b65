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

from vidgate.server.endpoint import JSON, Body, Endpoint, validated
from vidgate.server.google_errors import google_errors
from vidgate.server.google_http import check_version, google_caller, passthrough, read_json, unknown_path
from vidgate.server.idempotency import idempotency_key
from vidgate.server.responses import json_response
from vidgate.server.routes.gemini import OPERATION, operation_view
from vidgate.server.routes.interactions import interaction_endpoints
from vidgate.server.schemas.google import FetchPredictOperationRequest, PredictLongRunningRequest
from vidgate.server.schemas.videos import CreateHeaders
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
    check_version(request.path_params["version"], VERSIONS, request)
    principal = await google_caller(request)
    body = await read_json(request)
    validated(PredictLongRunningRequest, body)  # the envelope; the native codec reads the fields it validates
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
    return json_response(operation_view(op))


@google_errors(SURFACE)
async def fetch_predict_operation(request: Request) -> Response:
    check_version(request.path_params["version"], VERSIONS, request)
    principal = await google_caller(request)
    name = validated(FetchPredictOperationRequest, await read_json(request)).operationName
    request_log(request).video_id = name.rpartition("/")[2]
    return json_response(operation_view(await passthrough(request).operation(principal, SURFACE, name)))


@google_errors(SURFACE)
async def not_found(request: Request) -> Response:
    raise unknown_path(request)


def endpoints() -> list[Endpoint]:
    tag = "Vertex AI pass-through"
    table: list[Endpoint] = []
    for path, kind in ((_SCOPED, ""), (_EXPRESS, " (express mode)")):
        table.append(
            Endpoint(
                "POST",
                f"{PREFIX}{path}:predictLongRunning",
                predict_long_running,
                f"Start a Veo generation{kind}",
                tag,
                {200: OPERATION},
                Body({JSON: PredictLongRunningRequest}),
                headers=CreateHeaders,
                envelope="google",
                auth="google",
            )
        )
        table.append(
            Endpoint(
                "POST",
                f"{PREFIX}{path}:fetchPredictOperation",
                fetch_predict_operation,
                f"Poll the operation{kind}",
                tag,
                {200: OPERATION},
                Body({JSON: FetchPredictOperationRequest}),
                envelope="google",
                auth="google",
            )
        )
    for root in (
        "/{version}/projects/{project}/locations/{location}/interactions",
        "/{version}/interactions",
    ):
        table += interaction_endpoints(SURFACE, f"{PREFIX}{root}", VERSIONS, tag)
    table += [
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
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    ]
    return table
