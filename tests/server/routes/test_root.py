"""``GET /`` says what the server is and links the documentation, without authentication."""

from __future__ import annotations

from importlib import metadata

from tests.server.conftest import Served


async def test_root_is_small_json_for_api_clients(served: Served) -> None:
    reply = await served.client.get("/")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == {
        "object": "vidgate.gateway",
        "version": metadata.version("vidgate"),
        "description": "vidgate gateway: one OpenAI-style Videos API (POST /v1/videos) over every "
        "video-generation provider.",
        "docs": "/docs",
        "openapi": "/openapi.json",
        "api_base": "/v1",
        "auth": "Authorization: Bearer <virtual key or master key>",
        "health": "/health/readiness",
    }
    assert len(reply.content) < 600


async def test_root_is_a_page_with_a_docs_link_for_browsers(served: Served) -> None:
    reply = await served.client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert '<a href="/docs">/docs</a>' in reply.text
    assert "vidgate gateway" in reply.text
