"""The route-description registry: each route of the gateway is an ``Endpoint``.

One ``Endpoint`` says what the route is (method, path, handler) and what it speaks: the request body's
model and media types, the query's model, the reply models per status, the error envelope (OpenAI's on
the gateway's own routes, Google's on the pass-through) and how the caller authenticates. The app mounts
``mount(endpoints)`` and ``server/openapi.py`` describes the same list, so a route cannot be served
without being documented. The handlers read their allowed fields from the same models (``fields_of``),
validate bodies with them (``validated``) and render their replies through them, so the document
cannot drift from the parsing.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vidgate.errors import BadRequestError

ModelT = TypeVar("ModelT", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]
Envelope = Literal["openai", "google"]
Auth = Literal["bearer", "google", "none"]

JSON = "application/json"
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Body:
    """A request body: its model per media type (a form can differ from JSON: files, text scalars)."""

    content: Mapping[str, type[BaseModel]]
    required: bool = True


@dataclass(frozen=True)
class Reply:
    """One documented answer: a JSON model, or bytes of ``media_type`` (``model`` None; ``""``: no body)."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str = JSON
    alternatives: tuple[tuple[str, type[BaseModel] | None], ...] = ()  # more media types, same status
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    replies: Mapping[int, Reply]
    body: Body | None = None
    query: type[BaseModel] | None = None
    headers: type[BaseModel] | None = None  # request headers beyond auth (Idempotency-Key, Range)
    envelope: Envelope = "openai"
    auth: Auth = "bearer"
    description: str = ""

    def at(self, prefix: str) -> Endpoint:
        """The same endpoint mounted under ``prefix`` (the OpenAI routes are served with and without /v1)."""
        return replace(self, path=prefix + self.path)

    @property
    def operation_id(self) -> str:
        words = re.sub(r"[^A-Za-z0-9]+", "_", self.path).strip("_")
        return f"{self.method.lower()}_{words or 'root'}"


def mount(endpoints: Sequence[Endpoint]) -> list[Route]:
    """One Starlette route per path (in first-seen order), dispatching on the method, so a 405 lists in
    ``Allow`` every method the path serves (a route per method would list only the first's)."""
    by_path: dict[str, dict[str, Handler]] = {}
    for endpoint in endpoints:
        handlers = by_path.setdefault(endpoint.path, {})
        if endpoint.method in handlers:
            raise ValueError(f"two endpoints for {endpoint.method} {endpoint.path}")
        handlers[endpoint.method] = endpoint.handler
    # Literal paths first: Starlette answers a wrong method with the first route whose path matches, so
    # ``/videos/status`` (POST) must come before ``/videos/{video_id}`` (GET, DELETE) for its 405 to say
    # POST. A literal path is never meant to be shadowed by a template (GET /videos/status still reaches
    # the template, as no literal route takes GET there).
    paths = sorted(by_path, key=lambda path: "{" in path)
    return [_route(path, by_path[path]) for path in paths]


def _route(path: str, handlers: dict[str, Handler]) -> Route:
    if len(handlers) == 1:
        [(method, handler)] = handlers.items()
        return Route(path, handler, methods=[method])
    table = dict(handlers)
    if "GET" in table:
        table.setdefault("HEAD", table["GET"])  # Starlette serves HEAD wherever GET is

    async def dispatch(request: Request) -> Response:
        return await table[request.method](request)

    return Route(path, dispatch, methods=list(handlers))


def openapi_path(starlette_path: str) -> str:
    """``/gemini/{rest:path}`` -> ``/gemini/{rest}`` (OpenAPI templates carry no convertors)."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", r"{\1}", starlette_path)


def fields_of(model: type[BaseModel]) -> frozenset[str]:
    """The wire names a model accepts (its aliases where it has them): a handler's allowlist."""
    return frozenset(info.alias or name for name, info in model.model_fields.items())


def validated(model: type[ModelT], data: Mapping[str, Any]) -> ModelT:
    """``data`` read by ``model``, or one 400 naming every wrong field at once (``param``: the first)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            (".".join(str(part) for part in err["loc"]) or "body", err["msg"]) for err in exc.errors()
        ]
        listed = "; ".join(f"'{where}': {msg}" for where, msg in problems)
        raise BadRequestError(f"Invalid request: {listed}.", param=problems[0][0]) from None
