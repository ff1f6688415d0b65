"""The ``Idempotency-Key`` request header of paid POSTs (``gateway.idempotency`` has the semantics)."""

from __future__ import annotations

from starlette.requests import Request

from vidgate.gateway.idempotency import HEADER, check_key


def idempotency_key(request: Request) -> str | None:
    """The header's value (400 when malformed), or None when the request has none."""
    return check_key(request.headers.get(HEADER))
