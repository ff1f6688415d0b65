"""Kling's Bearer token: an HS256 JWT (``iss`` = access key, ``exp``/``nbf``) signed with the secret key.

Kling's docs sign a token valid 30 minutes from 5 seconds ago. Adapters do no I/O and never see the
secret, so the hook signs here before every flow; a token is reused until 5 minutes before it expires,
so a long poll never presents an expired one. Signing is local (no network), so the async hook
signs inline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import jwt

from vidgate.errors import AuthenticationError
from vidgate.providers.base import Credentials

TOKEN_SECONDS = 1800
NOT_BEFORE_SKEW = 5
REFRESH_MARGIN = 300


def encode_token(access_key: str, secret_key: str, now: int) -> str:
    """The JWT Kling's docs describe, issued at ``now`` (seconds since the epoch)."""
    payload = {"iss": access_key, "exp": now + TOKEN_SECONDS, "nbf": now - NOT_BEFORE_SKEW}
    return jwt.encode(payload, secret_key, algorithm="HS256", headers={"typ": "JWT"})


class TokenCache:
    """One token per (access key, secret key), re-signed when it is within REFRESH_MARGIN of expiry."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, int]] = {}

    def token(self, access_key: str, secret_key: str) -> str:
        now = int(self.clock())
        with self._lock:
            cached = self._tokens.get((access_key, secret_key))
            if cached is not None and cached[1] - REFRESH_MARGIN > now:
                return cached[0]
            token = encode_token(access_key, secret_key, now)
            self._tokens[(access_key, secret_key)] = (token, now + TOKEN_SECONDS)
            return token


_CACHE = TokenCache()


def with_kling_token(creds: Credentials, cache: TokenCache | None = None) -> Credentials:
    """``creds`` with ``access_token`` set to a valid JWT signed from its access and secret keys."""
    if not creds.api_key or not creds.secret_key:
        missing = "KLING_ACCESS_KEY" if not creds.api_key else "KLING_SECRET_KEY"
        raise AuthenticationError(
            f"Kling needs an access key and a secret key to sign its token; set {missing}.",
            code="missing_api_key",
            provider="kling",
        )
    return replace(creds, access_token=(cache or _CACHE).token(creds.api_key, creds.secret_key))


async def awith_kling_token(creds: Credentials) -> Credentials:
    return with_kling_token(creds)
