"""``GET /v1/models`` (OpenAI's list shape), ``GET /v1/models/{model}`` (one of them, as the OpenAI SDKs'
``models.retrieve`` reads it) and ``GET /v1/videos/models`` (OpenRouter's capabilities endpoint): the
models the calling key may use, each with what it accepts and costs (``gateway.capabilities``; the shape
is in ARCHITECTURE.md, "Capabilities")."""

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


async def retrieve_model(request: Request) -> Response:
    principal = await caller(request)
    found = await server_state(request).service.model(principal, request.path_params["model"])
    return json_response(Model.model_validate(found))


def endpoints() -> list[Endpoint]:
    reply = Reply("The models this key may use, each with what it accepts and costs.", ModelList)
    return [
        Endpoint("GET", "/models", list_models, "List models", "Models", {200: reply}),
        Endpoint(
            "GET",
            "/models/{model:path}",  # served names hold slashes: ``openai/sora-2``
            retrieve_model,
            "Retrieve a model",
            "Models",
            {200: Reply("The model, with what it accepts and costs (404: none this key may use).", Model)},
        ),
        Endpoint(
            "GET",
            "/videos/models",
            list_models,
            "Video models' capabilities (OpenRouter)",
            "Models",
            {200: reply},
        ),
    ]
