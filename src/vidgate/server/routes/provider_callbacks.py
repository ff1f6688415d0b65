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
from vidgate.server.errors import PayloadTooLargeError
from vidgate.server.responses import json_response
from vidgate.server.schemas.callbacks import CallbackAnswer, CallbackQuery, ProviderPayload
from vidgate.server.state import check_params, server_state

# A provider's delivery is a job object (Replicate's with its logs): far under this. Unauthenticated
# callers could otherwise make the gateway hold the 64 MiB every other route allows, per connection.
MAX_CALLBACK_BYTES = 4 * 1024 * 1024


async def _body(request: Request) -> bytes:
    """The delivery, read only up to ``MAX_CALLBACK_BYTES`` (a larger declared length: not read)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_CALLBACK_BYTES:
        raise _too_large()
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_CALLBACK_BYTES:
            raise _too_large()
        parts.append(chunk)
    return b"".join(parts)


def _too_large() -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"A provider callback is at most {MAX_CALLBACK_BYTES} bytes.", code="body_too_large"
    )


async def receive(request: Request) -> Response:
    check_params(request)  # no caller to authenticate, which checks them on every other route
    job_id = request.path_params["job_id"]
    token = request.query_params.get("token", "")
    body = await _body(request)
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
