"""OpenRouter's create fields in the SDK (``duration``, ``resolution``, ``aspect_ratio``,
``frame_images``, ``input_references``, ``callback_url``, ``provider.options``): read by
``catalog.openrouter`` as the gateway reads them.

Direct mode folds them onto the model's catalogue row before validation (images as the SDK reads any
image argument: a data: URL is decoded, a URL must be https://; ``input_references`` items of type
``video_url`` become reference videos by URL, which the provider fetches). Through a gateway they are sent as
given (after the conflicts no row is needed for), and the gateway folds them onto its own row.
``callback_url`` needs a gateway: nothing calls back a direct-mode client.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from vidgate.catalog.openrouter import FIELDS, OpenRouterFields, check_conflicts, fold, parse
from vidgate.catalog.spec import ModelSpec
from vidgate.errors import BadRequestError
from vidgate.sdk.params import to_image


@dataclasses.dataclass(frozen=True)
class Shape:
    """The OpenRouter fields of one create: as given (for a gateway) and parsed."""

    given: dict[str, Any]
    fields: OpenRouterFields
    callback_url: str | None


def take(params: dict[str, Any]) -> Shape | None:
    """Pop the OpenRouter fields from ``params`` (the create's keyword arguments); None if there are none."""
    given = {name: params.pop(name) for name in FIELDS if name in params}
    given = {name: value for name, value in given.items() if value is not None}
    if not given:
        return None
    # Private hosts in reference video URLs are the gateway's to refuse (its operator's setting); a
    # direct call uses the caller's own key with its own provider, so there is no one else to protect.
    fields, callback_url = parse(given, allow_private_urls=True)
    return Shape(given=given, fields=fields, callback_url=callback_url)


def for_gateway(shape: Shape, request: Mapping[str, Any]) -> dict[str, Any]:
    """The fields to send to a gateway, after the conflicts with ``request`` (validate's arguments)."""
    check_conflicts(shape.fields, request)
    return dict(shape.given)


def folded(shape: Shape, spec: ModelSpec, request: Mapping[str, Any]) -> dict[str, Any]:
    """``request`` with the fields folded onto ``spec`` (direct mode)."""
    if shape.callback_url is not None:
        raise BadRequestError(
            "'callback_url' needs a gateway (the gateway calls it back); a direct call has no one to "
            "call it. Poll the video instead, or use Client(api_base=<gateway URL>, gateway=True).",
            param="callback_url",
            code="unsupported_parameter",
        )
    fields = shape.fields
    read = dataclasses.replace(
        fields,
        first_frame=None if fields.first_frame is None else _image(fields.first_frame.url, "frame_images"),
        last_frame=None if fields.last_frame is None else _image(fields.last_frame.url, "frame_images"),
        input_references=None
        if fields.input_references is None
        else tuple(_image(r.url, f"input_references[{i}]") for i, r in enumerate(fields.input_references)),
    )
    out, _ = fold(spec, read, request)
    return out


def _image(url: str | None, param: str) -> Any:
    assert url is not None  # parse() makes every image of these fields a URL
    return to_image(url, param)
