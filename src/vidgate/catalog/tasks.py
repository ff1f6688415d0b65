"""Edits and extensions checked against a catalogue row, before any provider call.

An edit changes a source video and keeps its length, so it is priced at the source's seconds (which
need not be one of the row's generation lengths); an extension adds ``seconds`` of new video, one of the
row's ``extend_seconds`` (else its ``seconds``), and is priced at those. Either way the source must be
at one of the row's sizes: that size decides the resolution tier, so the price.

An edit's output is at the source's size unless the request names a ``size`` (a vidgate extension of
``/v1/videos/edits``): a row with the ``reframe`` feature takes any of its sizes at the source's tier
(another aspect ratio; the provider keeps the resolution), any other row only the source's own size.
The edit is priced at the output size's tier, which is what the provider makes.
"""

from __future__ import annotations

import dataclasses

from vidgate.catalog.spec import ModelSpec
from vidgate.catalog.validate import OPEN_MAX_SECONDS, empty_value, validate
from vidgate.errors import BadRequestError, invalid_value
from vidgate.types import SourceVideo, VideoRequest

ENDPOINTS = {"edit": "POST /v1/videos/edits", "extend": "POST /v1/videos/extensions"}
MAX_SOURCE_SECONDS = 600  # an edit longer than this is not priced (a header can claim anything)


def unsupported_task(spec: ModelSpec, task: str, model_name: str | None = None) -> BadRequestError:
    """The 400 for a model whose row lacks the ``edit``/``extend`` feature (named as the caller knows it)."""
    what = "video edits" if task == "edit" else "video extensions"
    name = model_name or spec.id
    return BadRequestError(
        f"Model '{name}' does not support {what} ({ENDPOINTS[task]}).",
        param="model",
        code="unsupported_operation",
    )


def extend_seconds(spec: ModelSpec, raw: str | int | None) -> int:
    """The requested extension length: one of the row's ``extend_seconds`` (else its ``seconds``)."""
    allowed = spec.extend_seconds or spec.seconds
    if raw is None:
        return spec.default_seconds if spec.default_seconds in allowed else allowed[0]
    if isinstance(raw, str) and not raw.strip():
        raise empty_value("seconds")
    text = str(raw)
    digits = not isinstance(raw, bool) and text.isascii() and text.isdigit() and len(text) <= 9
    if digits and spec.open_seconds and not spec.extend_seconds and 1 <= int(text) <= OPEN_MAX_SECONDS:
        return int(text)  # an open model takes any whole number of seconds
    if not digits or int(text) not in allowed:
        raise invalid_value("seconds", text[:40], [str(s) for s in allowed])
    return int(text)


def _source_size(spec: ModelSpec, source: SourceVideo, param: str) -> str:
    if source.size is None:
        # Never the gateway's: it refuses an upload with no readable frame size (``require_video(sized=
        # True)``) and an id's record has a size. Only the SDK's direct mode (the caller's own provider
        # account) gets here, with an id that carries no size or an upload it could not size.
        return spec.default_size
    if source.size in spec.sizes or spec.open_sizes:
        return source.size
    raise BadRequestError(
        f"Invalid '{param}': the video is {source.size}; {spec.id} takes videos of size "
        f"{', '.join(spec.sizes)}.",
        param=param,
        code="unsupported_video_size",
    )


def output_sizes(spec: ModelSpec, source_size: str) -> list[str]:
    """The sizes an edit of a ``source_size`` video may ask for: the row's sizes at the source's tier
    with the ``reframe`` feature, else the source's size alone."""
    if not spec.has("reframe"):
        return [source_size]
    tier = spec.tier(source_size)
    return [source_size, *(s for s in spec.sizes if s != source_size and spec.sizes[s] == tier)]


def _output_size(spec: ModelSpec, source_size: str, requested: str | None, name: str) -> str:
    if requested is None:
        return source_size
    if not requested.strip():
        raise empty_value("size")
    allowed = output_sizes(spec, source_size)
    if requested in allowed:
        return requested
    if spec.open_sizes and spec.has("reframe") and spec.tier(requested) == spec.tier(source_size):
        return requested  # an open row: any size at the source's tier
    if spec.has("reframe"):
        why = f"{name} reframes a video at its resolution ({spec.tier(source_size)})"
    else:
        why = f"{name} keeps the source video's size ({source_size}); it cannot reframe"
    raise BadRequestError(
        f"Invalid 'size': '{requested[:40]}'. {why}. Supported values are: "
        + ", ".join(f"'{s}'" for s in allowed)
        + ".",
        param="size",
        code="invalid_value",
    )


def validate_task(
    spec: ModelSpec,
    task: str,
    *,
    prompt: str | None,
    source: SourceVideo,
    seconds: str | int | None = None,
    size: str | None = None,
    user: str | None = None,
    model_name: str | None = None,
) -> VideoRequest:
    """A ``VideoRequest`` with ``task`` and ``source_video`` set, or the 400 that names what is wrong.
    ``seconds`` is the extension's length (an edit takes none); ``size`` the edit's output size (absent:
    the source's; an extension takes none)."""
    if task not in ENDPOINTS:
        raise BadRequestError(f"Unknown task '{task}'.", param="task")
    if not spec.has(task):
        raise unsupported_task(spec, task, model_name)
    if task != "edit" and size is not None:
        raise BadRequestError(
            "Unknown parameter: 'size'. An extension keeps the source video's size.",
            param="size",
            code="unknown_parameter",
        )
    source_size = _source_size(spec, source, "video")
    size = _output_size(spec, source_size, size, model_name or spec.id)
    base = validate(spec, prompt=prompt, size=size, user=user)
    if task == "edit":
        if seconds is not None:
            raise BadRequestError(
                "Unknown parameter: 'seconds'. An edit keeps the source video's length.",
                param="seconds",
                code="unknown_parameter",
            )
        length = source.seconds
        if length is None or not 1 <= length <= MAX_SOURCE_SECONDS:
            raise BadRequestError(
                f"Invalid 'video': its length must be 1 to {MAX_SOURCE_SECONDS} seconds.",
                param="video",
                code="invalid_video_length",
            )
    else:
        length = extend_seconds(spec, seconds)
    return dataclasses.replace(base, seconds=length, task=task, source_video=source)  # type: ignore[arg-type]
