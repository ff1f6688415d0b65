"""Liveness (the process answers) and readiness (this replica can do its work now).

Readiness proves the write path rather than a connection: a rolled-back write on the database, a
short-lived key in Redis when configured, a probe file written and deleted in the content store, and
the age of the poller's last good round. A ``SELECT 1`` answered while creates failed on a read-only
or deleted SQLite file. The answer names each component (``ok`` or ``failing``); the drivers' messages
(hosts, paths, SQL) go to the log only, because readiness is unauthenticated.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from vidgate.server.endpoint import Endpoint, Reply
from vidgate.server.responses import json_response
from vidgate.server.schemas.service import Liveness, Readiness
from vidgate.server.state import server_state

log = logging.getLogger("vidgate.server")


async def liveness(request: Request) -> Response:
    return json_response(Liveness())


async def readiness(request: Request) -> Response:
    state = server_state(request)
    errors: dict[str, object] = {name: err for name, err in (await state.stores.probe()).items()}
    if state.poller is not None:
        errors["poller"] = state.poller.health()
    failing = sorted(name for name, err in errors.items() if err is not None)
    for name in failing:
        log.warning("readiness: %s failing: %s", name, errors[name])
    body: dict[str, object] = {"status": "unhealthy" if failing else "healthy"}
    body.update({name: "failing" if err is not None else "ok" for name, err in errors.items()})
    if failing:
        body["failing"] = failing
    report = Readiness.model_validate(body)
    return json_response(
        report.model_dump(mode="json", exclude_unset=True), status_code=503 if failing else 200
    )


def endpoints() -> list[Endpoint]:
    alive = {200: Reply("The process answers.", Liveness)}
    ready = {
        200: Reply("Every component works.", Readiness),
        503: Reply("Some component is failing (named in `failing`).", Readiness),
    }
    return [
        Endpoint("GET", "/health/liveness", liveness, "Liveness", "Health", alive, auth="none"),
        Endpoint(
            "GET",
            "/health/liveliness",
            liveness,
            "Liveness (LiteLLM's spelling)",
            "Health",
            alive,
            auth="none",
        ),
        Endpoint(
            "GET",
            "/health/readiness",
            readiness,
            "Readiness: the write path works",
            "Health",
            ready,
            auth="none",
        ),
    ]
