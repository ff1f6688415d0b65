"""Retry policy, in one place: which failures are retried, and how long to wait.

A call marked ``retry_safe=False`` (a paid create) is retried only when the provider certainly did not
act on it: 429 and 503 (explicit refusals) and connection failures before the request was sent.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from dataclasses import dataclass

RETRY_STATUSES_SAFE = frozenset({408, 409, 429, 500, 502, 503, 504})
RETRY_STATUSES_UNSAFE = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 60.0

    def retry_status(self, status: int, *, retry_safe: bool) -> bool:
        return status in (RETRY_STATUSES_SAFE if retry_safe else RETRY_STATUSES_UNSAFE)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before retry number ``attempt`` (0-based): Retry-After if given, else jittered backoff."""
        if retry_after is not None and 0 <= retry_after <= self.max_retry_after:
            return retry_after
        ceiling = min(self.max_delay, self.base_delay * (2.0**attempt))
        return ceiling * (0.5 + random.random() / 2)


def parse_retry_after(headers: dict[str, str] | object, *, now: float | None = None) -> float | None:
    """Seconds from ``retry-after-ms``, or ``retry-after`` as seconds or an HTTP date (from ``now``)."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    ms = get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if parsed.tzinfo is None:  # "-0000": HTTP dates are always UTC
            parsed = parsed.replace(tzinfo=dt.UTC)
        return max(0.0, parsed.timestamp() - (time.time() if now is None else now))
