"""LiteLLM's ``drop_params``: leave out a parameter the model has no support for, instead of a 400.

Only whole parameters are dropped, and only those a row's features gate (a model without ``seed``
gets no seed). A value the model does not offer (a size, a duration, a resolution) is still a 400:
dropping it would change what is made and what is priced. Whoever drops says which (the gateway: a
response header and a log line).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vidgate.catalog.spec import ModelSpec

#: validate()'s feature-gated keyword arguments -> the row feature each needs.
GATED: tuple[tuple[str, str], ...] = (
    ("input_reference", "image_input"),
    ("last_frame", "last_frame"),
    ("reference_images", "reference_images"),
    ("reference_videos", "reference_videos"),
    ("negative_prompt", "negative_prompt"),
    ("person_generation", "person_generation"),
    ("seed", "seed"),
    ("generate_audio", "audio_toggle"),
)


def _given(value: object) -> bool:
    return value is not None and value != () and value != []


def drop_unsupported(spec: ModelSpec, request: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``request`` (validate's keyword arguments) without the parameters ``spec`` cannot honour, and
    their names. A ``last_frame`` goes with a dropped first frame (it needs one)."""
    out = dict(request)
    dropped: list[str] = []
    for param, feature in GATED:
        if _given(out.get(param)) and not spec.has(feature):
            out.pop(param)
            dropped.append(param)
    if "input_reference" in dropped and _given(out.get("last_frame")):
        out.pop("last_frame")
        dropped.append("last_frame")
    return out, dropped
