"""``POST /provider_callbacks/{video id}?token=...``: where providers call the gateway back.

Unauthenticated by design (providers hold no vidgate key): the per-job secret in ``token`` and the
provider's own signature are checked by ``gateway.provider_callbacks``. Answers are small and never
say more to a caller without the secret than 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vidgate.gateway.provider_callbacks import PATH
from vidgate.server.responses import json_response
from vidgate.server.state import server_state


async def receive(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    token = request.query_params.get("token", "")
    body = await request.body()
    reply = await server_state(request).service.callbacks.receive(job_id, token, dict(request.headers), body)
    return json_response(dict(reply.body))


def routes() -> list[Route]:
    return [Route(PATH + "/{job_id}", receive, methods=["POST"], name="provider_callback")]
