"""The Interactions API routes (Gemini Omni) under a Google service's mount, as google-genai 3.x's
``client.interactions`` calls them (``{root}`` = ``/gemini/{version}/interactions`` or Vertex's
``/vertex_ai/{version}/projects/{p}/locations/{l}/interactions``):

- ``POST {root}`` (``background: true``) -> the Interaction, ``id`` = the video id (also
  ``GET /v1/videos/{id}`` for the same key)
- ``GET {root}/{id}`` -> the Interaction (owner only); ``output_video`` once completed; a finished one
  is answered from the in-memory cache of finished jobs (``server/cache.py``, as done Veo operations
  are) for its short time to live
- ``POST {root}/{id}/cancel`` -> the Interaction after the cancel
- ``DELETE {root}/{id}`` -> ``{}``

Errors are Google's envelope (``server/google_errors.py``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from vidgate.server.endpoint import JSON, Body, Endpoint, Reply
from vidgate.server.google_errors import google_errors
from vidgate.server.google_http import check_version, google_caller, passthrough, read_json
from vidgate.server.idempotency import idempotency_key
from vidgate.server.responses import json_response
from vidgate.server.schemas.google import CreateInteractionRequest, Empty, Interaction
from vidgate.server.schemas.videos import CreateHeaders
from vidgate.server.state import request_log, server_state

VIEW = "interaction"  # the cache view of a finished Interaction (``FinishedVideos.keep_view``)
RUNNING = frozenset({"queued", "in_progress"})


def interaction_view(interaction: dict[str, Any]) -> dict[str, Any]:
    """An Interaction read through its documented model (``Interaction``)."""
    return Interaction.model_validate(interaction).model_dump(mode="json", exclude_unset=True)


def interaction_endpoints(surface: str, root: str, versions: tuple[str, ...], tag: str) -> list[Endpoint]:
    """The four routes under ``root`` (a path template with ``{version}``) for ``surface``'s codec."""

    @google_errors(surface)
    async def create(request: Request) -> Response:
        check_version(request.path_params["version"], versions, request)
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
        return json_response(interaction_view(interaction))

    def interaction_id(request: Request) -> str:
        check_version(request.path_params["version"], versions, request)
        found = str(request.path_params["interaction_id"])
        request_log(request).video_id = found
        return found

    @google_errors(surface)
    async def get(request: Request) -> Response:
        found = interaction_id(request)
        principal = await google_caller(request)
        finished = server_state(request).finished
        cached = finished.get(principal.owner_id, found, view=VIEW)
        if cached is not None:  # a finished interaction cannot change (a delete forgets it)
            return Response(cached.body, media_type="application/json")
        view = interaction_view(await passthrough(request).get_interaction(principal, surface, found))
        response = json_response(view)
        if view.get("status") not in RUNNING:
            finished.keep_view(principal.owner_id, found, VIEW, bytes(response.body))
        return response

    @google_errors(surface)
    async def cancel(request: Request) -> Response:
        found = interaction_id(request)
        principal = await google_caller(request)
        answer = await passthrough(request).cancel_interaction(principal, surface, found)
        return json_response(interaction_view(answer))

    @google_errors(surface)
    async def delete(request: Request) -> Response:
        found = interaction_id(request)
        principal = await google_caller(request)
        finished = server_state(request).finished
        finished.forget(found)
        answer = await passthrough(request).delete_interaction(principal, surface, found)
        finished.forget(found)
        return json_response(Empty.model_validate(answer))

    interaction = Reply("The Interaction.", Interaction)
    return [
        Endpoint(
            "POST",
            root,
            create,
            "Create an Interaction (Gemini Omni, in the background)",
            tag,
            {200: interaction},
            Body({JSON: CreateInteractionRequest}),
            headers=CreateHeaders,
            envelope="google",
            auth="google",
        ),
        Endpoint(
            "GET",
            root + "/{interaction_id}",
            get,
            "Get an Interaction",
            tag,
            {200: interaction},
            envelope="google",
            auth="google",
        ),
        Endpoint(
            "DELETE",
            root + "/{interaction_id}",
            delete,
            "Delete an Interaction (cancelled first)",
            tag,
            {200: Reply("`{}`.", Empty)},
            envelope="google",
            auth="google",
        ),
        Endpoint(
            "POST",
            root + "/{interaction_id}/cancel",
            cancel,
            "Cancel an Interaction",
            tag,
            {200: interaction},
            envelope="google",
            auth="google",
        ),
    ]
