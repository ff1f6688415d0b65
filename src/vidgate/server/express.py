"""Polls of finished work, answered before routing.

Clients poll a video (``GET /v1/videos/{id}``) or a Gemini operation until it is done, and many keep
polling after. The finished cache (``server/cache.py``) already spared those polls the database; what
was left of their cost was mostly the stack between the request log middleware and the handler
(Starlette's exception middleware, the router, the Request and Response objects). A route module
declares a ``Lane``: its route's path and a function that gives the cached body for a request it can
answer exactly as the route would, or None. ``Express`` tries the lanes whose path shape matches a
GET with no query string, from a caller the key cache knows now (``Authenticator.cached``: no store
read); anything else goes the normal way, which reads the key store, checks the path and errors as
always. The request log middleware wraps both ways: the access line, ``X-Request-Id`` and the metrics
(labelled with the route's path) are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from starlette.routing import Route
from starlette.types import Scope

from vidgate.gateway.auth import Principal
from vidgate.server.auth import KEY_HEADERS
from vidgate.server.logs import LogContext
from vidgate.server.state import ServerState

_KEY_HEADER_BYTES = frozenset(name.encode() for name in (*KEY_HEADERS, "x-goog-api-key"))


@dataclass(frozen=True)
class Lane:
    """``route_path``'s requests ``answer`` can give from memory: ``answer(path params, key headers,
    state, log)`` returns the exact body the route would send (a 200 JSON reply), or None."""

    route_path: str
    answer: Callable[[Mapping[str, str], Mapping[str, str], ServerState, LogContext], bytes | None]


@dataclass(frozen=True)
class Answer:
    """A complete 200 JSON reply and the route it stands for (its path labels the metrics)."""

    body: bytes
    route: Route

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        # As ``Response(body, media_type="application/json")`` sends them.
        return [(b"content-length", str(len(self.body)).encode()), (b"content-type", b"application/json")]


@dataclass(frozen=True)
class _Shape:
    """A route path as segments: literals to equal, ``{name}`` placeholders to capture."""

    segments: tuple[str, ...]
    lane: Lane
    route: Route

    def match(self, parts: Sequence[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for expected, part in zip(self.segments, parts, strict=True):
            if expected.startswith("{"):
                if not part:
                    return None
                params[expected[1:-1]] = part
            elif part != expected:
                return None
        return params


class Express:
    """``answer(scope, log)``: a lane's cached reply to a GET, or None (the app answers)."""

    def __init__(self, lanes: Sequence[Lane], routes: Sequence[Route]) -> None:
        by_path = {route.path: route for route in routes}
        self._shapes: dict[int, list[_Shape]] = {}
        for lane in lanes:
            segments = tuple(lane.route_path.split("/"))
            if any(s.startswith("{") and (not s.endswith("}") or ":" in s) for s in segments):
                raise ValueError(f"{lane.route_path}: express lanes take plain {{name}} segments only")
            shape = _Shape(segments, lane, by_path[lane.route_path])
            self._shapes.setdefault(len(segments), []).append(shape)

    def answer(self, scope: Scope, log: LogContext) -> Answer | None:
        if scope["method"] != "GET" or scope.get("query_string") or scope.get("root_path"):
            return None
        parts = scope["path"].split("/")
        shapes = self._shapes.get(len(parts))
        if not shapes:
            return None
        state = getattr(scope["app"].state, "vidgate", None)
        if not isinstance(state, ServerState):
            return None  # not started yet
        for shape in shapes:
            params = shape.match(parts)
            if params is None:
                continue
            body = shape.lane.answer(params, _key_headers(scope), state, log)
            return Answer(body, shape.route) if body is not None else None
        return None


def known_caller(secret: str | None, state: ServerState, log: LogContext) -> Principal | None:
    """The caller ``secret`` names if the key cache knows it now (recorded in the log line as the
    normal path records it), else None."""
    principal = state.service.auth.cached(secret) if secret else None
    if principal is None:
        return None
    if principal.key is not None:
        log.key_alias, log.key_id = principal.key.alias, principal.key.id
    else:
        log.key_alias = "master"
    return principal


def _key_headers(scope: Scope) -> dict[str, str]:
    """The headers a key can come in (the first of each, as Starlette's ``Headers.get`` reads them)."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _KEY_HEADER_BYTES:
            found.setdefault(name.decode(), value.decode("latin-1"))
    return found
