"""MiniMax's wire vocabulary: statuses and the two error shapes, both possible at HTTP 200.

MiniMax answers some failures (bad key, rate limit, empty balance, invalid parameters, sensitive
content) with HTTP 200 and ``base_resp: {status_code, status_msg}``; a non-zero ``status_code`` is a
failure whatever the HTTP status. A public V2 client also reads ``{"error": {"code", "message"}}`` (and
``type: "error"``); both are mapped. Codes (MiniMax's published error-code table): 1000 unknown, 1001
timeout, 1002/1039 rate limits, 1004/2049 authentication, 1008 insufficient balance, 1013 internal,
1026/1027 sensitive input/output, 2013 invalid parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ContentPolicyViolationError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    error_class_for_status,
)
from vidgate.providers.base import HttpReply
from vidgate.types import VideoStatus

PROVIDER = "minimax"
DEFAULT_BASE = "https://api.minimax.io"

# MiniMax's task status -> (OpenAI status, progress, error code when it ends the job unfinished).
STATUS: Mapping[str, tuple[VideoStatus, int, str | None]] = {
    "queued": ("queued", 0, None),
    "running": ("in_progress", 50, None),
    "succeeded": ("completed", 100, None),
    "failed": ("failed", 100, "minimax_task_failed"),
    "cancelled": ("failed", 100, "cancelled"),
    "expired": ("failed", 100, "expired"),
}

AUTH_CODES = (1004, 2049)
RATE_CODES = (1002, 1039)
BALANCE_CODES = (1008,)
POLICY_CODES = (1026, 1027)
INVALID_CODES = (2013,)


def body_of(reply: HttpReply) -> Mapping[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def failure_code(body: Mapping[str, Any]) -> tuple[int | str | None, str] | None:
    """(code, message) when ``body`` reports a failure in either shape, else None."""
    base = body.get("base_resp")
    if isinstance(base, dict) and base.get("status_code") not in (0, None):
        return base.get("status_code"), str(base.get("status_msg") or "MiniMax reported an error")
    error = body.get("error")
    if isinstance(error, dict) or body.get("type") == "error":
        detail = error if isinstance(error, dict) else {}
        return detail.get("code"), str(detail.get("message") or "MiniMax reported an error")
    return None


def _retry_after(reply: HttpReply) -> float | None:
    header = reply.header("retry-after")
    try:
        return float(header) if header else None
    except ValueError:
        return None


def minimax_error(reply: HttpReply) -> APIError:
    """A MiniMax failure (any HTTP status, either envelope) -> vidgate's exception tree."""
    body = body_of(reply)
    found = failure_code(body)
    code, message = found if found else (None, f"MiniMax answered HTTP {reply.status}")
    number = int(code) if isinstance(code, int) or (isinstance(code, str) and code.isdigit()) else None
    common: dict[str, Any] = {"provider": PROVIDER, "body": dict(body) or None}
    tag = f"minimax_{code}" if code is not None else None
    if number in AUTH_CODES or reply.status == 401:
        return AuthenticationError(message, code="invalid_api_key", **common)
    if reply.status == 404:
        return NotFoundError(message, code=tag, **common)
    if number in BALANCE_CODES:
        return RateLimitError(message, code="insufficient_quota", **common)
    if number in RATE_CODES or reply.status == 429:
        return RateLimitError(message, code=tag, retry_after=_retry_after(reply), **common)
    if number in POLICY_CODES:
        return ContentPolicyViolationError(message, code="moderation_blocked", **common)
    if number in INVALID_CODES:
        return BadRequestError(message, code=tag, **common)
    if reply.ok:  # a non-zero code we do not know, at HTTP 200: an upstream failure, not ours
        return InternalServerError(message, code=tag, status_code=502, **common)
    cls = error_class_for_status(reply.status)
    return cls(message, code=tag, status_code=reply.status, retry_after=_retry_after(reply), **common)
