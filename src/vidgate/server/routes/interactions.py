"""The Interactions API routes (Gemini Omni) under a Google service's mount, as google-genai 3.x's
``client.interactions`` calls them (``{root}`` = ``/gemini/{version}/interactions`` or Vertex's
``/vertex_ai/{version}/projects/{p}/locations/{l}/interactions``):

- ``POST {root}`` (``background: true``) -> the Interaction, ``id`` = the video id (also
  ``GET /v1/videos/{id}`` for the same key)
- ``GET {root}/{id}`` -> the Interaction (owner only); ``output_video`` once completed
- ``POST {root}/{id}/cancel`` -> the Interaction after the cancel
- ``DELETE {root}/{id}`` -> ``{}``

Errors are Google's envelope (``server/google_errors.py``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vidgate.server.google_errors import Handler, google_errors
from vidgate.server.google_http import check_version, google_caller, passthrough, read_json
from vidgate.server.idempotency import idempotency_key
from vidgate.server.responses import json_response
from vidgate.server.state import request_log, server_state


def interaction_routes(surface: str, root: str, versions: tuple[str, ...]) -> list[Route]:
    """The four routes under ``root`` (a path template with ``{version}``) for ``surface``'s codec."""

    @google_errors(surface)
    async def create(request: Request) -> Response:
        check_version(request.path_params["version"], versions, request.url.path)
        principal = await google_caller(request)
        body = await read_json(request)
        model = body.get("model")
        if isinstance(model, str):
            request_log(request).model = model
        interaction, model_name = await passthrough(request).start_interaction(
            principal, surface, body, idempotency_key=idempotency_key(request)
        )
        request_log(request).video_id = str(interaction["id"])
        server_state(request).metrics.submitted.labels(model_name).inc()
        return json_response(interaction)

    def interaction_id(request: Request) -> str:
        check_version(request.path_params["version"], versions, request.url.path)
        found = str(request.path_params["interaction_id"])
        request_log(request).video_id = found
        return found

    @google_errors(surface)
    async def get(request: Request) -> Response:
        found = interaction_id(request)
        principal = await google_caller(request)
        return json_response(await passthrough(request).get_interaction(principal, surface, found))

    @google_errors(surface)
    async def cancel(request: Request) -> Response:
        found = interaction_id(request)
        principal = await google_caller(request)
        answer = await passthrough(request).cancel_interaction(principal, surface, found)
        return json_response(answer)

    @google_errors(surface)
    async def delete(request: Request) -> Response:
        found = interaction_id(request)
        principal = await google_caller(request)
        answer = await passthrough(request).delete_interaction(principal, surface, found)
        return json_response(answer)

    handlers: list[tuple[str, Handler, list[str]]] = [
        (root, create, ["POST"]),
        (root + "/{interaction_id}", get, ["GET"]),
        (root + "/{interaction_id}", delete, ["DELETE"]),
        (root + "/{interaction_id}/cancel", cancel, ["POST"]),
    ]
    return [Route(path, handler, methods=methods) for path, handler, methods in handlers]
