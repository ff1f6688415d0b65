"""Proxy mode: creating a video on an OpenAI-compatible gateway (vidgate's server, or a LiteLLM proxy).

The gateway owns model names and validation, so the SDK forwards exactly what the caller set, as
OpenAI's JSON create body (``CreateVideoJsonBody``): images travel as ``{"image_url": "data:..."}``, and
the provider extensions (``negative_prompt``, ``seed``, ...) ride along as extra fields the gateway
understands. Every other operation is the OpenAI adapter pointed at the gateway's ``/v1`` root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vidgate.providers import openai_wire as wire
from vidgate.providers.base import Credentials, Flow, HttpCall, ProviderJob
from vidgate.providers.openai import OpenAIProvider
from vidgate.providers.reserved import refuse_overlap
from vidgate.sdk.params import to_data_url
from vidgate.types import ImageInput


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


def proxy_create(adapter: OpenAIProvider, req: ProxyRequest, creds: Credentials) -> Flow[ProviderJob]:
    """POST the create to the gateway (a paid call: ``retry_safe=False``) and read its Video."""
    call = HttpCall(
        "POST",
        f"{adapter.root(creds)}/videos",
        headers={**adapter.auth_headers(creds), **creds.extra_headers},
        params=adapter.query(creds),
        json=proxy_body(req),
        retry_safe=False,
    )
    reply = yield call
    return wire.parse_video(wire.json_object(reply, "gateway"), reply.headers)
