"""``GET /``: what this server is, and where its API and documentation are.

JSON for API clients; a browser (``Accept: text/html``) gets the same few lines as a page. No
authentication and nothing about the configuration: only what any client of the API may know.
"""

from __future__ import annotations

from html import escape
from importlib import metadata

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from vidgate.server.endpoint import Endpoint, Reply
from vidgate.server.responses import json_response
from vidgate.server.schemas.service import About

DESCRIPTION = (
    "vidgate gateway: one OpenAI-style Videos API (POST /v1/videos) over every video-generation provider."
)


def version() -> str:
    try:
        return metadata.version("vidgate")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def about() -> About:
    return About(
        version=version(),
        description=DESCRIPTION,
        docs="/docs",
        openapi="/openapi.json",
        api_base="/v1",
        auth="Authorization: Bearer <virtual key or master key>",
        health="/health/readiness",
    )


async def root(request: Request) -> Response:
    info = about()
    if "text/html" in request.headers.get("accept", ""):
        page = (
            "<!doctype html><meta charset=utf-8><title>vidgate</title>"
            f"<p>{escape(DESCRIPTION)} Version {escape(str(info.version))}."
            '<p>API documentation: <a href="/docs">/docs</a> '
            '(OpenAPI: <a href="/openapi.json">/openapi.json</a>).'
            f"<p>Authenticate with <code>{escape(str(info.auth))}</code>."
        )
        return HTMLResponse(page)
    return json_response(info)


def endpoints() -> list[Endpoint]:
    reply = Reply("What this server is.", About, alternatives=(("text/html", None),))
    return [
        Endpoint(
            "GET", "/", root, "What this server is; links to /docs", "Service", {200: reply}, auth="none"
        )
    ]
