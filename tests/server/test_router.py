"""The indexed router matches exactly as Starlette's full scan would, for every route of the gateway."""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.routing import Match, Router

from vidgate.server.app import mounted_endpoints
from vidgate.server.endpoint import mount
from vidgate.server.router import IndexedRouter

METHODS = ("GET", "POST", "DELETE", "PUT", "HEAD")


def _first(routes: Sequence[object], path: str, method: str) -> tuple[int | None, int | None]:
    """Indexes (in the full list) of the first full and the first partial match."""
    scope = {"type": "http", "path": path, "root_path": "", "method": method}
    full = partial = None
    for route in routes:
        match, _ = route.matches(dict(scope))  # type: ignore[attr-defined]
        if match is Match.FULL and full is None:
            full = id(route)
        elif match is Match.PARTIAL and partial is None:
            partial = id(route)
    return full, partial


def _samples(paths: list[str]) -> set[str]:
    out = {"/", "", "/nowhere", "/v1", "/v1/", "/v1/videos/", "/ui/", "/gemini", "/v1/unknown/x"}
    for path in paths:
        concrete = re.sub(r"\{[^}]+\}", "abc", path)
        out |= {concrete, concrete + "/", concrete + "/extra", concrete.rsplit("/", 1)[0]}
        out.add(re.sub(r"\{[^}]+\}", "edits", path))  # a parameter spelled like a literal segment
    return out


def test_indexed_router_matches_like_a_full_scan() -> None:
    routes = mount(mounted_endpoints())
    indexed = IndexedRouter(routes)
    full = Router(routes)
    paths = [str(getattr(route, "path", "")) for route in routes]
    checked = 0
    for path in sorted(_samples(paths)):
        candidates = indexed.candidates(path).routes
        for method in METHODS:
            assert _first(candidates, path, method) == _first(full.routes, path, method), (method, path)
            checked += 1
    assert checked > 1000


def test_a_video_poll_is_matched_against_few_routes() -> None:
    indexed = IndexedRouter(mount(mounted_endpoints()))
    total = len(indexed.routes)
    tried = len(indexed.candidates("/v1/videos/video_abc").routes)
    assert total > 60
    assert tried <= 8, [getattr(r, "path", "") for r in indexed.candidates("/v1/videos/video_abc").routes]
