"""fal's webhook signatures (fal's webhook docs, "Verifying your webhook").

Headers ``X-Fal-Webhook-Request-Id``, ``X-Fal-Webhook-User-Id``, ``X-Fal-Webhook-Timestamp`` (unix
seconds) and ``X-Fal-Webhook-Signature`` (hex). The signed message is the lines request id, user id,
timestamp and the hex sha256 of the raw body, joined by ``\\n``; the signature is ED25519 by one of the
keys fal publishes as a JWKS (``https://rest.alpha.fal.ai/.well-known/jwks.json``, OKP/Ed25519, ``x``
base64url; fal says to cache it at most 24 h). A timestamp more than ``TOLERANCE_SECONDS`` from the
gateway's clock is refused (a replay).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import Any

from vidgate.providers.base import CallbackDelivery, InvalidCallback

DEFAULT_JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
JWKS_TTL_SECONDS = 24 * 3600
TOLERANCE_SECONDS = 300
HEADERS = ("request-id", "user-id", "timestamp", "signature")


def public_keys(jwks: Any) -> tuple[bytes, ...]:
    """The raw ED25519 public keys of a JWKS document (other key types are skipped)."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    found: list[bytes] = []
    for key in keys if isinstance(keys, list) else []:
        if not isinstance(key, dict) or key.get("crv") != "Ed25519" or not isinstance(key.get("x"), str):
            continue
        encoded = str(key["x"])
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            found.append(raw)
    return tuple(found)


def message(delivery: CallbackDelivery) -> tuple[bytes, bytes]:
    """(the signed message, the signature) of ``delivery``; InvalidCallback when a header is missing,
    malformed or its timestamp is stale."""
    values = [delivery.header(f"x-fal-webhook-{name}") for name in HEADERS]
    request_id, user_id, timestamp, signature = values
    if request_id is None or user_id is None or not timestamp or not signature:
        raise InvalidCallback("the X-Fal-Webhook-* headers are required")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise InvalidCallback("X-Fal-Webhook-Timestamp is not unix seconds")
    if abs(delivery.now - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidCallback("X-Fal-Webhook-Timestamp is too old or in the future")
    try:
        raw_signature = bytes.fromhex(signature)
    except ValueError as exc:
        raise InvalidCallback("X-Fal-Webhook-Signature is not hex") from exc
    body_hash = hashlib.sha256(delivery.body).hexdigest()
    signed = "\n".join([request_id, user_id, timestamp, body_hash]).encode("utf-8", "surrogatepass")
    return signed, raw_signature


def verified(keys: Sequence[bytes], signed: bytes, signature: bytes) -> bool:
    """Whether one of ``keys`` made ``signature`` over ``signed``."""
    # Imported here: cryptography comes with the server extra; the SDK never verifies callbacks.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    for raw in keys:
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(signature, signed)
        except InvalidSignature:
            continue
        return True
    return False
