"""Proxy mode: creating a video on an OpenAI-compatible gateway (vidgate's server, or a LiteLLM proxy).

The gateway owns model names and validation, so the SDK forwards exactly what the caller set, as
OpenAI's JSON create body (``CreateVideoJsonBody``): images travel as ``{"image_url": "data:..."}``, and
the provider extensions (``negative_prompt``, ``seed``, ...) ride along as extra fields the gateway
understands. Every other operation is the OpenAI adapter pointed at the gateway's ``/v1`` root.

Creates and remixes carry an ``Idempotency-Key`` (one per call, made when the call is planned), so
they are safe to resend: the transport's own retries (connection errors, 409 while the first attempt
is in flight, 429, 5xx) send the same key, and the gateway answers them with the first attempt's video
instead of starting (and charging) a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from vidgate.providers._openai_wire import flows as wire
from vidgate.providers.base import Credentials, Flow, HttpCall, ProviderJob
from vidgate.providers.openai.adapter import OpenAIProvider
from vidgate.providers.reserved import refuse_overlap
from vidgate.sdk.params import to_data_url
from vidgate.types import ImageInput

IDEMPOTENCY_HEADER = "Idempotency-Key"


def new_idempotency_key() -> str:
    """A fresh key for one paid call (random: never shared between two calls)."""
    return "vidgate-" + uuid.uuid4().hex


@dataclass(frozen=True)
class ProxyRequest:
    """A create request as the caller gave it (None = not set; the gateway applies its defaults)."""

    model: str
    prompt: str
    seconds: str | None = None
    size: str | None = None
    input_reference: ImageInput | None = None
    last_frame: ImageInput | None = None
    reference_images: tuple[ImageInput, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # negative_prompt, seed, n, ... as given
    user: str | None = None
    extra_body: Mapping[str, Any] = field(default_factory=dict)


def image_object(image: ImageInput) -> dict[str, str]:
    if image.file_id:
        return {"file_id": image.file_id}
    if image.url:
        return {"image_url": image.url}
    return {"image_url": to_data_url(image)}


def proxy_body(req: ProxyRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": req.model, "prompt": req.prompt}
    if req.seconds is not None:
        body["seconds"] = req.seconds
    if req.size is not None:
        body["size"] = req.size
    if req.input_reference is not None:
        body["input_reference"] = image_object(req.input_reference)
    if req.last_frame is not None:
        body["last_frame"] = image_object(req.last_frame)
    if req.reference_images:
        body["reference_images"] = [image_object(image) for image in req.reference_images]
    body.update({k: v for k, v in req.options.items() if v is not None})
    if req.user is not None:
        body["user"] = req.user
    refuse_overlap(req.extra_body, body)  # extra_body adds beside the checked fields, never over them
    body.update(req.extra_body)
    return body


def _paid_post(
    adapter: OpenAIProvider, path: str, body: dict[str, Any], creds: Credentials, idempotency_key: str
) -> Flow[ProviderJob]:
    """POST a paid call to the gateway with its idempotency key (which makes a resend safe)."""
    call = HttpCall(
        "POST",
        f"{adapter.root(creds)}{path}",
        headers={**adapter.auth_headers(creds), **creds.extra_headers, IDEMPOTENCY_HEADER: idempotency_key},
        params=adapter.query(creds),
        json=body,
        retry_safe=True,
    )
    reply = yield call
    return wire.parse_video(wire.json_object(reply, "gateway"), reply.headers)


def proxy_create(
    adapter: OpenAIProvider, req: ProxyRequest, creds: Credentials, *, idempotency_key: str
) -> Flow[ProviderJob]:
    """POST the create to the gateway and read its Video."""
    return (yield from _paid_post(adapter, "/videos", proxy_body(req), creds, idempotency_key))


def proxy_remix(
    adapter: OpenAIProvider, video_id: str, prompt: str, creds: Credentials, *, idempotency_key: str
) -> Flow[ProviderJob]:
    """POST a remix of the gateway's video ``video_id`` and read the new Video."""
    path = f"/videos/{quote(video_id, safe='')}/remix"
    return (yield from _paid_post(adapter, path, {"prompt": prompt}, creds, idempotency_key))
