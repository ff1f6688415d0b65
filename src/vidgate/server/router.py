"""Starlette's router, with its routes indexed by the first two literal path segments.

Starlette tries every route in order until one matches. The gateway serves about 90 routes (the
OpenAI surface with and without ``/v1``, admin, pass-through, dashboard) and literal paths come first,
so ``GET /v1/videos/{id}`` (the hottest route) was tried after about forty others: a regex match and a
scope copy each, about a third of a status poll's CPU in the app. Here each request is matched only
against the routes whose leading literal segments equal its own, in their original order, so the
outcome (first full match, else the first partial match for 405, else the trailing-slash redirect,
else 404) is exactly Starlette's; the candidate lists are computed once, at startup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Router
from starlette.types import Receive, Scope, Send

DEPTH = 3  # segments indexed: /v1/videos/edits, /gemini/v1beta/models, /ui/static/...


def _literals(path: str) -> tuple[str, ...]:
    """The route's leading path segments up to the first one holding a parameter (at most DEPTH)."""
    out: list[str] = []
    for segment in path.split("/")[1 : DEPTH + 1]:
        if "{" in segment:
            break
        out.append(segment)
    return tuple(out)


class _Node:
    """The routes that can match paths starting with ``prefix``: ``router`` when the path's next
    segment is none a route names (or there is none), ``children`` by that segment."""

    def __init__(
        self, keyed: list[tuple[BaseRoute, tuple[str, ...]]], prefix: tuple[str, ...], parent: Router
    ) -> None:
        depth = len(prefix)
        compatible = [
            (route, lits)
            for route, lits in keyed
            if all(lits[i] == prefix[i] for i in range(min(depth, len(lits))))
        ]
        self.router = Router(
            [route for route, lits in compatible if len(lits) <= depth],
            redirect_slashes=parent.redirect_slashes,
            default=parent.default,
        )
        nexts = {lits[depth] for _, lits in compatible if len(lits) > depth}
        self.children = {seg: _Node(compatible, (*prefix, seg), parent) for seg in nexts}


class IndexedRouter(Router):
    """A ``Router`` whose HTTP requests go to a sub-router holding only the routes that can match."""

    def __init__(self, routes: Sequence[BaseRoute], **kwargs: Any) -> None:
        super().__init__(routes, **kwargs)
        keyed = [(route, _literals(str(getattr(route, "path", "")))) for route in self.routes]
        self._root = _Node(keyed, (), self)

    def candidates(self, path: str) -> Router:
        """The sub-router for ``path`` (its routes keep their order in the full list)."""
        node = self._root
        for segment in path.split("/", DEPTH + 1)[1 : DEPTH + 1]:
            child = node.children.get(segment)
            if child is None:
                break
            node = child
        return node.router

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self  # url_for sees every route
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        await self.candidates(path).app(scope, receive, send)
