"""Replicate's webhook signatures (Standard Webhooks, as ``replicate.webhook.Webhooks.validate``).

Headers ``webhook-id``, ``webhook-timestamp`` (unix seconds), ``webhook-signature`` (space-separated
``v1,<base64>``); the signature is base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")) where the key is
the base64 part of the account's signing secret ``whsec_<base64>`` (``GET /v1/webhooks/default/secret``).
A timestamp more than ``TOLERANCE_SECONDS`` from the gateway's clock is refused (a replay).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from vidgate.providers.base import CallbackDelivery, InvalidCallback

TOLERANCE_SECONDS = 300


def signing_key(secret: str) -> bytes:
    prefix, sep, encoded = secret.partition("_")
    if not sep or prefix != "whsec":
        raise InvalidCallback("Replicate's signing secret is not 'whsec_<base64>'")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCallback("Replicate's signing secret is not base64") from exc


def sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The ``v1,<base64>`` signature of ``body`` (what Replicate sends)."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(delivery: CallbackDelivery, secret: str) -> None:
    """Raise InvalidCallback unless ``delivery`` carries a fresh signature made with ``secret``."""
    webhook_id = delivery.header("webhook-id")
    timestamp = delivery.header("webhook-timestamp")
    signatures = delivery.header("webhook-signature")
    if not webhook_id or not timestamp or not signatures:
        raise InvalidCallback("the webhook-id, webhook-timestamp and webhook-signature headers are required")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise InvalidCallback("webhook-timestamp is not unix seconds")
    if abs(delivery.now - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidCallback("webhook-timestamp is too old or in the future")
    expected = sign(secret, webhook_id, timestamp, delivery.body).encode()
    for candidate in signatures.split():
        if hmac.compare_digest(candidate.encode("utf-8", "surrogatepass"), expected):
            return
    raise InvalidCallback("no valid webhook-signature")
