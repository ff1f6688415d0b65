"""``GET /metrics`` in Prometheus text format (unauthenticated, as scrapers expect)."""

from __future__ import annotations

import logging

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from vidgate.server.endpoint import Endpoint, Reply
from vidgate.server.state import server_state

log = logging.getLogger("vidgate.server")


async def metrics(request: Request) -> Response:
    state = server_state(request)
    try:
        stats = await state.service.stats()
    except Exception as exc:  # a scrape must still answer the process's own figures
        log.warning("metrics: could not read job and spend totals: %s", exc)
    else:
        state.metrics.set_jobs(stats.get("jobs", {}))
        state.metrics.spend.set(float(stats.get("spend_usd", 0.0)))
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def endpoints() -> list[Endpoint]:
    reply = Reply("Prometheus text exposition format.", media_type="text/plain")
    return [Endpoint("GET", "/metrics", metrics, "Prometheus metrics", "Health", {200: reply}, auth="none")]
