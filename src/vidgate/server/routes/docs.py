"""``GET /openapi.json`` (the OpenAPI 3.1 document of every mounted route) and ``GET /docs`` (it, as
a page). Unauthenticated, like ``/``: the document says what the API is, nothing about this deployment.
Both are built once, on first request, from the endpoint list the app mounts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from vidgate.server import docs_page
from vidgate.server.endpoint import Endpoint, Reply
from vidgate.server.openapi import document
from vidgate.server.responses import dumps
from vidgate.server.routes.root import DESCRIPTION, version


def endpoints(mounted: Callable[[], Sequence[Endpoint]]) -> list[Endpoint]:
    """``mounted()`` returns the app's full endpoint list (these two included) when first asked."""

    @cache
    def built() -> tuple[bytes, str]:
        doc = document(mounted(), title="vidgate gateway", version=version(), description=DESCRIPTION)
        return dumps(doc), docs_page.render(doc)

    async def openapi_json(request: Request) -> Response:
        return Response(built()[0], media_type="application/json", headers=docs_page.SECURITY_HEADERS)

    async def docs(request: Request) -> Response:
        return HTMLResponse(built()[1], headers=docs_page.SECURITY_HEADERS)

    return [
        Endpoint(
            "GET",
            "/openapi.json",
            openapi_json,
            "This document (OpenAPI 3.1)",
            "Service",
            {200: Reply("The OpenAPI document.", media_type="application/json")},
            auth="none",
        ),
        Endpoint(
            "GET",
            "/docs",
            docs,
            "This document, as a page (no script, no external request)",
            "Service",
            {200: Reply("The page.", media_type="text/html")},
            auth="none",
        ),
    ]
