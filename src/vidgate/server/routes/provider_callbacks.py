"""``POST /provider_callbacks/{video id}?token=...``: where providers call the gateway back.

Unauthenticated by design (providers hold no vidgate key): the per-job secret in ``token`` and the
provider's own signature are checked by ``gateway.provider_callbacks``. Answers are small and never
say more to a caller without the secret than 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from vidgate.gateway.provider_callbacks import PATH
from vidgate.server.endpoint import JSON, Body, Endpoint, Reply
from vidgate.server.responses import json_response
from vidgate.server.schemas.callbacks import CallbackAnswer, CallbackQuery, ProviderPayload
from vidgate.server.state import server_state


async def receive(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    token = request.query_params.get("token", "")
    body = await request.body()
    reply = await server_state(request).service.callbacks.receive(job_id, token, dict(request.headers), body)
    answer = CallbackAnswer.model_validate(dict(reply.body))  # the documented shape, nothing added
    return json_response(answer.model_dump(mode="json", exclude_unset=True))


def endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "POST",
            PATH + "/{job_id}",
            receive,
            "Where providers call the gateway back (the per-job token and the provider's signature)",
            "Provider callbacks",
            {200: Reply("Received (duplicates too), or the provider's challenge answered.", CallbackAnswer)},
            Body({JSON: ProviderPayload}, required=False),
            query=CallbackQuery,
            auth="none",
        )
    ]
