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
    state = server_state(request)
    try:
        await state.stores.ping()
    except Exception as exc:
        log.warning("readiness check failed: %s", exc)
        # The stores ping the database first, then Redis: a Redis error means the database answered.
        if type(exc).__module__.startswith("redis"):
            parts = {"db": "connected", "redis": "unreachable"}
        else:
            parts = {"db": "unreachable"}
        # Unauthenticated: the driver's message (hosts, SQL) goes to the log only, never to the caller.
        return json_response({"status": "unhealthy", **parts}, status_code=503)
    if state.config.redis_url is not None:
        return json_response({"status": "healthy", "db": "connected", "redis": "connected"})
    return json_response({"status": "healthy", "db": "connected"})


def routes() -> list[Route]:
    return [
        Route("/health/liveness", liveness, methods=["GET"]),
        Route("/health/liveliness", liveness, methods=["GET"]),
        Route("/health/readiness", readiness, methods=["GET"]),
    ]
