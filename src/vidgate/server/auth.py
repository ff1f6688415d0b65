"""Who is calling: the key from ``x-vidgate-api-key``, ``x-litellm-api-key`` or ``Authorization: Bearer``.

The lookup itself (hashed, cached for a couple of seconds, invalidated by key admin) is the gateway's
``authenticate``; this module only finds the secret in the headers.
"""

from __future__ import annotations

from collections.abc import Mapping

KEY_HEADERS = ("x-vidgate-api-key", "x-litellm-api-key", "authorization")


def secret_from(headers: Mapping[str, str]) -> str | None:
    """The presented secret, ``Bearer`` prefix removed; the vidgate header wins over the others."""
    for name in KEY_HEADERS:
        value = headers.get(name)
        if value:
            scheme, _, rest = value.strip().partition(" ")
            if scheme.lower() == "bearer":
                value = rest
            value = value.strip()
            if value:
                return value
    return None
