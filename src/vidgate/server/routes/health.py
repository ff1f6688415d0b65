"""Liveness (the process answers) and readiness (the database, and Redis when configured, answer)."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vidgate.server.responses import json_response
from vidgate.server.state import server_state

log = logging.getLogger("vidgate.server")


async def liveness(request: Request) -> Response:
    return json_response({"status": "alive"})


async def readiness(request: Request) -> Response:
    try:
        await server_state(request).stores.ping()
    except Exception as exc:
        log.warning("readiness check failed: %s", exc)
        return json_response({"status": "unhealthy", "db": "unreachable", "error": str(exc)}, status_code=503)
    return json_response({"status": "healthy", "db": "connected"})


def routes() -> list[Route]:
    return [
        Route("/health/liveness", liveness, methods=["GET"]),
        Route("/health/liveliness", liveness, methods=["GET"]),
        Route("/health/readiness", readiness, methods=["GET"]),
    ]
