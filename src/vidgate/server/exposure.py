"""What a caller may see of an error about the gateway's own side.

A provider refusing the gateway's credentials, a connection or timeout to a provider, and a create
whose upstream outcome is unknown carry operator details in their message: the deployment id, the
provider's echo of the operator's key (``Incorrect API key provided: sk-...abcd``), the upstream URL
(Gemini's ``?key=`` in an ``api_base``). The caller gets the same status, type and code with a generic
message and the request id; the operator's log gets the detail, with keys and secret query values
redacted. Both envelopes (OpenAI's and Google's) render errors through ``for_caller``.
"""

from __future__ import annotations

import logging

from starlette.requests import Request

from vidgate.errors import APIConnectionError, APIError, Timeout
from vidgate.gateway.routing import UPSTREAM_AUTH_FAILED
from vidgate.server.redaction import redact_detail

log = logging.getLogger("vidgate.server")

OUTCOME_UNKNOWN = "upstream_outcome_unknown"
_MESSAGES = {
    "credentials": "The provider refused the gateway's credentials for this model. This is a fault in the "
    "gateway's configuration, not in your request or key; the operator has the details.",
    "timeout": "The provider did not answer in time. Retry later; the operator has the details.",
    "connection": "The gateway could not reach the provider. Retry later; the operator has the details.",
    "outcome": "Creating the video failed after the request may have reached the provider, so the upstream "
    "outcome is unknown: the provider may have started a job. The gateway did not retry it elsewhere (that "
    "could start a second paid job). It looks for the job at the provider: if found, the video appears in "
    "your list and is charged as usual; if not, it is listed as failed and nothing is charged.",
}


def _kind(err: APIError) -> str | None:
    if err.code == OUTCOME_UNKNOWN:
        return "outcome"
    if err.code == UPSTREAM_AUTH_FAILED or (err.provider is not None and err.status_code in (401, 403)):
        return "credentials"
    if isinstance(err, Timeout):
        return "timeout"
    if isinstance(err, APIConnectionError):
        return "connection"
    return None


def request_id(request: Request) -> str:
    """The id the request-log middleware gave this request (answered as ``x-request-id``)."""
    return str(getattr(request.scope.get("state", {}).get("log"), "request_id", "") or "unknown")


def for_caller(err: APIError, request_id: str) -> APIError:
    """``err`` itself, or (when it carries operator details) the same status, type and code with a
    generic message naming ``request_id``; the detail goes to the log, redacted."""
    kind = _kind(err)
    if kind is None:
        return err
    log.error("request %s: %s (%s)", request_id, redact_detail(err.message), err.provider or "no provider")
    status = 502 if kind == "credentials" else err.status_code
    safe = type(err) if kind in ("timeout", "connection") else APIError
    return safe(
        f"{_MESSAGES[kind]} Request id: {request_id}.",
        code=UPSTREAM_AUTH_FAILED if kind == "credentials" else err.code,
        type=err.type if kind != "credentials" else "upstream_error",
        provider=err.provider,
        status_code=status,
        retry_after=err.retry_after,
    )
