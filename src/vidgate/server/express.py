"""Status polls of finished videos, answered before routing.

Clients poll ``GET /v1/videos/{id}`` until a video is done, and many keep polling after. The finished
cache (``server/cache.py``) already spared those polls the database; what was left of their cost was
mostly the stack between the request log middleware and the handler (Starlette's exception middleware,
the router, the Request and Response objects). This answers them without it, and only what it can
answer exactly as the route would: a GET with no query string to ``/v1/videos/{id}`` or
``/videos/{id}``, from the master key or a key the key cache holds now, for a video in the finished
cache under that caller. Anything else goes the normal way (which reads the key store, checks the
path, and errors as always). The request log middleware wraps both ways: the access line, the
``X-Request-Id`` header and the metrics (labelled with the route's path) are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.routing import Route
from starlette.types import Scope

from vidgate.server.auth import KEY_HEADERS, secret_from
from vidgate.server.logs import LogContext
from vidgate.server.state import ServerState

_PREFIXES = ("/v1/videos/", "/videos/")
_KEY_HEADER_BYTES = tuple(name.encode() for name in KEY_HEADERS)


@dataclass(frozen=True)
class Answer:
    """A complete 200 JSON reply and the route it stands for (its path labels the metrics)."""

    body: bytes
    route: Route

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        # As ``Response(body, media_type="application/json")`` sends them.
        return [(b"content-length", str(len(self.body)).encode()), (b"content-type", b"application/json")]


class FinishedPolls:
    """``answer(scope, log)``: the cached reply to a finished video's status poll, or None."""

    def __init__(self, routes: list[Route]) -> None:
        by_path = {route.path: route for route in routes}
        self._routes = {prefix: by_path[prefix + "{video_id}"] for prefix in _PREFIXES}

    def answer(self, scope: Scope, log: LogContext) -> Answer | None:
        if scope["method"] != "GET" or scope.get("query_string") or scope.get("root_path"):
            return None
        path: str = scope["path"]
        prefix = next((p for p in _PREFIXES if path.startswith(p)), None)
        if prefix is None:
            return None
        video_id = path[len(prefix) :]
        if not video_id or "/" in video_id:
            return None
        state = getattr(scope["app"].state, "vidgate", None)
        if not isinstance(state, ServerState):
            return None  # not started yet
        secret = secret_from(_key_headers(scope))
        principal = state.service.auth.cached(secret) if secret else None
        if principal is None:
            return None
        cached = state.finished.get(principal.owner_id, video_id)
        if cached is None:
            return None
        if principal.key is not None:
            log.key_alias, log.key_id = principal.key.alias, principal.key.id
        else:
            log.key_alias = "master"
        log.video_id, log.model, log.cost = video_id, cached.model, cached.cost
        return Answer(cached.body, self._routes[prefix])


def _key_headers(scope: Scope) -> dict[str, str]:
    """The headers a key can come in (the first of each, as Starlette's ``Headers.get`` reads them)."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _KEY_HEADER_BYTES:
            found.setdefault(name.decode(), value.decode("latin-1"))
    return found
