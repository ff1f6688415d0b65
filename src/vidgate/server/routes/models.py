"""``GET /v1/models`` (OpenAI's list shape) and ``GET /v1/videos/models`` (OpenRouter's capabilities
endpoint): the models the calling key may use, each with what it accepts and costs
(``gateway.capabilities``; the shape is in ARCHITECTURE.md, "Capabilities")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from vidgate.server.endpoint import Endpoint, Reply
from vidgate.server.responses import json_response
from vidgate.server.schemas.service import Model, ModelList
from vidgate.server.state import caller, server_state


async def list_models(request: Request) -> Response:
    principal = await caller(request)
    items = await server_state(request).service.list_models(principal)
    return json_response(ModelList(data=[Model.model_validate(item) for item in items]))


def endpoints() -> list[Endpoint]:
    reply = Reply("The models this key may use, each with what it accepts and costs.", ModelList)
    return [
        Endpoint("GET", "/models", list_models, "List models", "Models", {200: reply}),
        Endpoint(
            "GET",
            "/videos/models",
            list_models,
            "Video models' capabilities (OpenRouter)",
            "Models",
            {200: reply},
        ),
    ]
