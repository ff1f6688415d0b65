"""Every error the server answers with is rendered here, in OpenAI's envelope.

``APIError`` -> its status and ``to_openai()`` body (plus ``Retry-After`` when known); request
validation failures -> 400 naming the param (never FastAPI's 422 shape); unknown routes and methods ->
404/405 in the same envelope; anything unexpected -> 500 ``server_error`` (logged with its traceback).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from vidgate.errors import APIError, BadRequestError, InternalServerError
from vidgate.server.responses import json_response

log = logging.getLogger("vidgate.server")


def error_response(err: APIError) -> Response:
    headers: dict[str, str] = {}
    if err.retry_after is not None:
        headers["retry-after"] = str(max(0, math.ceil(err.retry_after)))
    return json_response(err.to_openai(), status_code=err.status_code, headers=headers)


def _param_of(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    if not parts:
        return None
    head, *rest = parts
    return head + "".join(f"[{p}]" for p in rest)


def validation_error(exc: RequestValidationError) -> BadRequestError:
    """The first validation problem, as OpenAI words a bad parameter."""
    errors = exc.errors()
    if not errors:
        return BadRequestError("Invalid request.")
    first = errors[0]
    param = _param_of(first.get("loc", ()))
    kind = str(first.get("type", ""))
    if kind == "missing":
        return BadRequestError(
            f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    message = str(first.get("msg", "Invalid value"))
    where = f" for '{param}'" if param else ""
    return BadRequestError(f"Invalid value{where}: {message}.", param=param, code="invalid_value")


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    state = getattr(request.app.state, "vidgate", None)
    if exc.provider and state is not None:
        state.metrics.upstream_errors.labels(exc.provider, str(exc.status_code)).inc()
    return error_response(exc)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(validation_error(exc))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
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


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(InternalServerError("The server had an error while processing your request."))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
