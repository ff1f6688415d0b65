"""Redaction of secrets in free-form text: query strings (Google's ``?key=``), URLs inside messages,
vidgate and provider keys, and a provider's echo of a key. Used by the request log and by what the
operator's log keeps of errors a caller sees only generically (``exposure``); imports nothing from the
server so both can use it."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

SECRET_FIELDS = frozenset(
    {
        "key",
        "keys",
        "api_key",
        "master_key",
        "secret",
        "token",
        "access_token",
        "authorization",
        "password",
        "key_hash",
    }
)
# Query parameters whose values never reach a log (compared lower-cased, after URL-decoding the name).
SECRET_QUERY_PARAMS = SECRET_FIELDS | {
    "api-key",
    "apikey",
    "x-goog-api-key",
    "x-vidgate-api-key",
    "x-litellm-api-key",
    "client_secret",
    "refresh_token",
    "id_token",
    "session_token",
    "signature",
    "sig",
    "x-goog-signature",
    "x-goog-credential",
    "x-amz-signature",
    "x-amz-security-token",
    "x-amz-credential",
}
REDACTED = "[redacted]"


def redact_query(query: str) -> str:
    """``query`` with the values of secret parameters (and of anything that looks like a vidgate key)
    replaced by ``[redacted]``; everything else, order and encoding included, is kept as it was."""
    if not query:
        return query
    parts = query.split("&")
    for i, part in enumerate(parts):
        name, sep, value = part.partition("=")
        if not sep:
            continue
        decoded = unquote_plus(value)
        if (
            unquote_plus(name).strip().lower() in SECRET_QUERY_PARAMS
            or looks_like_key(decoded)
            or ("?" in decoded and redact_url(decoded) != decoded)  # a URL carrying a secret (a callback)
        ):
            parts[i] = f"{name}={REDACTED}"
    return "&".join(parts)


def looks_like_key(value: str) -> bool:
    return value.startswith("sk-") and len(value) > 12


def redact_url(url: str) -> str:
    """A URL or request target (``/path?query``) with its query string passed through ``redact_query``."""
    head, sep, query = url.partition("?")
    if not sep:
        return url
    fragment = ""
    if "#" in query:
        query, _, rest = query.partition("#")
        fragment = "#" + rest
    return f"{head}?{redact_query(query)}{fragment}"


_URL_IN_TEXT = re.compile(r"\S*\?\S+")


def redact_url_in_text(text: str) -> str:
    """Every ``something?query`` token of a free-form message passed through ``redact_url``."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


# A provider's echo of a key (OpenAI masks the middle, not the tail), a Google API key, a bearer token.
_KEYS = re.compile(r"\b(?:sk-[A-Za-z0-9_*.\-]+|AIza[A-Za-z0-9_\-]{10,}|ya29\.[A-Za-z0-9_.\-]+)")
_KEY_ECHO = re.compile(r"(API key provided: )\S+", re.IGNORECASE)


def redact_detail(text: str) -> str:
    """A free-form message without key material: secret query values, keys and key echoes."""
    if "?" in text:
        text = redact_url_in_text(text)
    text = _KEY_ECHO.sub(r"\1[redacted]", text)
    return _KEYS.sub("[redacted]", text)
