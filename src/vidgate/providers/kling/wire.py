"""Kling's wire vocabulary shared by the adapter's flows: endpoints, the envelope, statuses, error codes.

Facts from Kling's API docs as mirrored in public clients (inference-sh/grid api/klingai/docs): the
envelope ``{code, message, request_id, data}``, where a non-zero ``code`` is an error even when the
HTTP status is 200; task statuses ``submitted|processing|succeed|failed``; the error-code table below.
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
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    error_class_for_status,
)
from vidgate.providers.base import HttpReply
from vidgate.types import VideoStatus

PROVIDER = "kling"
DEFAULT_BASE = "https://api-singapore.klingai.com"
TEXT2VIDEO, IMAGE2VIDEO, OMNI = "text2video", "image2video", "omni-video"
ENDPOINTS = (TEXT2VIDEO, IMAGE2VIDEO, OMNI)
ID_SEPARATOR = ":"  # native id = "<endpoint>:<task_id>": a task is read back under its create path

# Kling's task status -> (OpenAI status, progress). Kling reports no fraction while processing.
STATUS: Mapping[str, tuple[VideoStatus, int]] = {
    "submitted": ("queued", 0),
    "processing": ("in_progress", 50),
    "succeed": ("completed", 100),
    "failed": ("failed", 100),
}

# Words in ``task_status_msg`` that mean the content check refused the task (Kling's docs do not give
# the exact messages; unverified). Such failures surface as ``moderation_blocked``.
MODERATION_WORDS = ("risk", "content security", "sensitive", "policy")

AUTH_CODES = range(1000, 1005)  # authentication failed, empty, invalid, not yet valid, expired
BALANCE_CODES = (1100, 1101, 1102)  # account exception, arrears, resource pack depleted
RATE_CODES = (1302, 1303)  # rate limit, concurrency limit


def split_native(native_id: str) -> tuple[str, str]:
    """``"text2video:123"`` -> ``("text2video", "123")``; anything else is a NotFoundError."""
    endpoint, sep, task_id = native_id.partition(ID_SEPARATOR)
    if not sep or endpoint not in ENDPOINTS or not task_id or "/" in task_id:
        raise NotFoundError(f"No Kling task '{native_id}'.", param="video_id", provider=PROVIDER)
    return endpoint, task_id


def envelope(reply: HttpReply) -> Mapping[str, Any]:
    """The JSON object of a reply, or {} when the body is not one (a proxy's HTML page)."""
    try:
        body = reply.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(reply: HttpReply) -> float | None:
    header = reply.header("retry-after")
    try:
        return float(header) if header else None
    except ValueError:
        return None


def kling_error(reply: HttpReply) -> APIError:
    """Kling's ``{code, message}`` (at any HTTP status) -> vidgate's exception tree, by code first."""
    body = envelope(reply)
    raw = body.get("code")
    code = raw if isinstance(raw, int) else None
    message = str(body.get("message") or f"Kling answered HTTP {reply.status}")
    common: dict[str, Any] = {"provider": PROVIDER, "body": dict(body) or None}
    tag = f"kling_{code}" if code is not None else None
    if code in AUTH_CODES or (code is None and reply.status == 401):
        return AuthenticationError(message, code="invalid_api_key", **common)
    if code in BALANCE_CODES:
        return RateLimitError(message, code="insufficient_quota", **common)
    if code in (1103, 1304) or (code is None and reply.status == 403):
        return PermissionDeniedError(message, code=tag, **common)
    if code in (1200, 1201):
        return BadRequestError(message, code=tag, **common)
    if code in (1202, 1203) or (code is None and reply.status == 404):
        return NotFoundError(message, code=tag, **common)
    if code in (1300, 1301):
        return ContentPolicyViolationError(message, code="moderation_blocked", **common)
    if code in RATE_CODES or (code is None and reply.status == 429):
        return RateLimitError(message, code=tag, retry_after=_retry_after(reply), **common)
    if code == 5001 or (code is None and reply.status == 503):
        return ServiceUnavailableError(message, code=tag, retry_after=_retry_after(reply), **common)
    if code == 5000 or (code is None and reply.status == 500):
        return InternalServerError(message, code=tag, **common)
    status = reply.status if reply.status >= 400 else 502
    cls = error_class_for_status(status)
    return cls(message, code=tag, status_code=status, retry_after=_retry_after(reply), **common)
