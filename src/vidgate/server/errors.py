"""Every error the server answers with is rendered here, in OpenAI's envelope.

``APIError`` -> its status and ``to_openai()`` body (plus ``Retry-After`` when known, and
``x-should-retry: false`` on an exhausted budget, so SDKs do not re-send it); bad input is
always an APIError raised by the handlers' own parsing (400 naming the param, never a framework's 422
shape); unknown routes and methods -> 404/405 in the same envelope; anything unexpected -> 500
``server_error`` (logged with its traceback). Upstream (provider) errors are counted for /metrics.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from vidgate.errors import APIError, BudgetExceededError, InternalServerError
from vidgate.server.exposure import for_caller, request_id
from vidgate.server.google_errors import google_error_response, google_surface
from vidgate.server.responses import json_response

log = logging.getLogger("vidgate.server")


class PayloadTooLargeError(APIError):
    status_code = 413
    default_type = "invalid_request_error"


class RequestTimeoutError(APIError):
    """The client stopped sending its request body (``request_body_timeout``): 408, the client's fault."""

    status_code = 408
    default_type = "invalid_request_error"


def error_response(err: APIError) -> Response:
    headers: dict[str, str] = {}
    if err.retry_after is not None:
        headers["retry-after"] = str(max(0, math.ceil(err.retry_after)))
    if isinstance(err, BudgetExceededError):
        # OpenAI's SDKs retry every 429 unless told not to; a budget does not free itself in seconds.
        headers["x-should-retry"] = "false"
    return json_response(err.to_openai(), status_code=err.status_code, headers=headers)


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    state = getattr(request.app.state, "vidgate", None)
    if exc.provider and state is not None:
        state.metrics.count_request_error(exc)
    return error_response(for_caller(exc, request_id(request)))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    surface = google_surface(request.url.path)
    if surface is not None:  # the pass-through's routes answer in Google's envelope, also for a 405
        message = f"Method {request.method} is not allowed for {request.url.path}."
        if exc.status_code != 405:
            message = str(exc.detail)
        error = APIError(message, status_code=exc.status_code)
        return google_error_response(error, surface, headers=dict(exc.headers or {}))
    if exc.status_code == 404:
        message = f"Unknown request URL: {request.method} {request.url.path}."
        body = {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": "unknown_url",
            }
        }
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed for {request.url.path}."
        body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
    else:
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        body = {"error": {"message": str(exc.detail), "type": kind, "param": None, "code": None}}
    return json_response(body, status_code=exc.status_code, headers=dict(exc.headers or {}))


def unexpected_error(path: str = "") -> Response:
    """The body for a bug: no details leak to the client (the traceback goes to the log)."""
    return error_response_at(
        path, InternalServerError("The server had an error while processing your request.")
    )


def error_response_at(path: str, err: APIError) -> Response:
    """``err`` in the envelope of the API ``path`` belongs to (Google's on the pass-through routes)."""
    surface = google_surface(path)
    return google_error_response(err, surface) if surface is not None else error_response(err)


EXCEPTION_HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    APIError: _on_api_error,
    StarletteHTTPException: _on_http,
}
