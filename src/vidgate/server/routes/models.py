"""``GET /v1/models`` (OpenAI's list shape) and ``GET /v1/videos/models`` (OpenRouter's capabilities
endpoint): the models the calling key may use, each with what it accepts and costs
(``gateway.capabilities``; the shape is in ARCHITECTURE.md, "Capabilities")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vidgate.server.responses import json_response
from vidgate.server.state import caller, server_state


async def list_models(request: Request) -> Response:
    principal = await caller(request)
    items = await server_state(request).service.list_models(principal)
    return json_response({"object": "list", "data": items})


def routes() -> list[Route]:
    return [
        Route("/models", list_models, methods=["GET"]),
        Route("/videos/models", list_models, methods=["GET"]),
    ]
