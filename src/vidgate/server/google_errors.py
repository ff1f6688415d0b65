"""Errors on the Google-native routes (``/gemini``, ``/vertex_ai``), in Google's envelope:
``{"error": {"code", "message", "status", "details"}}`` with Google's canonical statuses, so google-genai
raises the ``ClientError``/``ServerError`` its users expect. The OpenAI routes keep OpenAI's envelope
(``server/errors.py``); this module is used only by the Google routes' handlers.

The caller's bad key answers as each service does (its codec says which kind of callers it has): an
API-key service (Gemini) 400 INVALID_ARGUMENT with ErrorInfo reason ``API_KEY_INVALID`` (403
PERMISSION_DENIED when no key was sent), an OAuth service (Vertex AI) 401 UNAUTHENTICATED.
A provider refusing the *gateway's* credentials is the operator's problem, never reported to the
caller as a bad key: it answers 500 INTERNAL.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from vidgate.errors import APIError, AuthenticationError, BadRequestError, RateLimitError
from vidgate.gateway.passthrough import google_codec, google_codecs
from vidgate.gateway.routing import UPSTREAM_AUTH_FAILED
from vidgate.server.exposure import for_caller, request_id
from vidgate.server.responses import json_response

log = logging.getLogger("vidgate.server")
Handler = Callable[[Request], Awaitable[Response]]

GOOGLE_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_TYPE = "type.googleapis.com/google.rpc."


def google_status(code: int) -> str:
    if code in GOOGLE_STATUS:
        return GOOGLE_STATUS[code]
    return "FAILED_PRECONDITION" if 400 <= code < 500 else "INTERNAL"


def _info(reason: str, domain: str, **metadata: str) -> dict[str, Any]:
    info: dict[str, Any] = {"@type": _TYPE + "ErrorInfo", "reason": reason, "domain": domain}
    if metadata:
        info["metadata"] = metadata
    return info


def _body(code: int, message: str, details: list[dict[str, Any]]) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": google_status(code)}
    if details:
        error["details"] = details
    return {"error": error}


def _caller_auth(err: AuthenticationError, surface: str) -> tuple[int, dict[str, Any]]:
    codec = google_codec(surface)
    service = codec.service
    if codec.oauth_callers:
        message = f"Request had invalid authentication credentials: {err.message}"
        return 401, _body(
            401, message, [_info("ACCESS_TOKEN_TYPE_UNSUPPORTED", "googleapis.com", service=service)]
        )
    if err.code == "missing_api_key":
        message = (
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API."
        )
        return 403, _body(403, message, [_info("SERVICE_DISABLED", "googleapis.com", service=service)])
    message = "API key not valid. Please pass a valid API key."
    return 400, _body(400, message, [_info("API_KEY_INVALID", "googleapis.com", service=service)])


def google_error_body(err: APIError, surface: str) -> tuple[int, dict[str, Any]]:
    """The status and Google envelope for ``err`` on ``surface``'s routes."""
    if isinstance(err, AuthenticationError) and err.provider is None:
        return _caller_auth(err, surface)
    code = err.status_code
    message = err.message
    if err.provider is not None and (code in (401, 403) or err.code == UPSTREAM_AUTH_FAILED):
        code = 500  # the operator's fault, never the caller's key (``exposure`` made the message generic)
    details: list[dict[str, Any]] = []
    if isinstance(err, BadRequestError) and err.param:
        details.append(
            {"@type": _TYPE + "BadRequest", "fieldViolations": [{"field": err.param, "description": message}]}
        )
    if isinstance(err, RateLimitError) and err.retry_after is not None:
        details.append({"@type": _TYPE + "RetryInfo", "retryDelay": f"{max(0, math.ceil(err.retry_after))}s"})
    if err.code:
        details.append(_info(err.code.upper(), "vidgate"))
    return code, _body(code, message, details)


def google_surface(path: str) -> str | None:
    """The provider whose Google-native routes ``path`` is under (their errors use Google's envelope):
    each codec says where its routes are mounted."""
    for codec in google_codecs():
        if path == codec.mount or path.startswith(codec.mount + "/"):
            return codec.surface
    return None


def google_error_response(err: APIError, surface: str, *, headers: dict[str, str] | None = None) -> Response:
    code, body = google_error_body(err, surface)
    headers = dict(headers or {})
    if err.retry_after is not None:
        headers["retry-after"] = str(max(0, math.ceil(err.retry_after)))
    return json_response(body, status_code=code, headers=headers)


def google_errors(surface: str) -> Callable[[Handler], Handler]:
    """Wrap a Google route's handler so every error it raises answers in Google's envelope (the app's
    exception handlers would render OpenAI's)."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except APIError as exc:
                state = getattr(request.app.state, "vidgate", None)
                if exc.provider and state is not None:
                    state.metrics.count_request_error(exc)
                return google_error_response(for_caller(exc, request_id(request)), surface)
            except Exception:
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                message = "Internal error encountered."
                return json_response(_body(500, message, []), status_code=500)

        return wrapped

    return decorate
