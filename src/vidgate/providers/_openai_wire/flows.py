"""The OpenAI Videos API wire format, shared by the ``openai`` and ``azure`` adapters (Azure's v1
``/openai/v1/videos`` surface is the same shape): create bodies, Video JSON -> ``ProviderJob``, and the
``{"error": {message, type, param, code}}`` envelope -> the vidgate error tree.

Pure functions only; the adapters add URLs and auth.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from vidgate.errors import (
    APIError,
    BadRequestError,
    ContentPolicyViolationError,
    InternalServerError,
    error_class_for_status,
    invalid_value,
)
from vidgate.providers.base import FileTuple, HttpReply, ProviderJob, ProviderPage
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import CONTENT_VARIANTS, ImageInput, VideoError, VideoRequest, VideoStatus

POLL_AFTER_HEADER = "openai-poll-after-ms"
VARIANT_MEDIA_TYPES: dict[str, str] = {
    "video": "video/mp4",
    "thumbnail": "image/webp",
    "spritesheet": "image/jpeg",
}
STATUSES: frozenset[str] = frozenset({"queued", "in_progress", "completed", "failed"})
# Error codes that mean "refused on content grounds" (OpenAI's moderation, Azure's content filter).
CONTENT_POLICY_CODES: frozenset[str] = frozenset(
    {"moderation_blocked", "content_policy_violation", "content_filter", "responsible_ai_policy_violation"}
)
_IMAGE_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
# The Videos API's own create fields (and Azure's older preview names for the same things): what
# ``extra_body`` may never set, since the gateway validates and prices them.
RESERVED: dict[str, str] = {
    "model": "model",
    "prompt": "prompt",
    "seconds": "seconds",
    "size": "size",
    "input_reference": "input_reference",
    "remix_video_id": "remix",
    "n_seconds": "seconds",
    "n_variants": "n",
    "inpaint_items": "input_reference",
}


@dataclass(frozen=True)
class CreateBody:
    """A create request's body: ``json``, or multipart ``data`` fields plus ``files``."""

    json: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    files: list[tuple[str, FileTuple]] | None = None


# ---- requests -----------------------------------------------------------------------------------


def create_body(req: VideoRequest) -> CreateBody:
    """JSON unless the reference image is raw bytes (then multipart, file part ``input_reference``).

    ``seconds`` is a string on the wire. ``extra_body`` keys are added only beside the validated
    fields: one naming a reserved field, or one the body already has, is a 400 and nothing is sent.
    """
    reject_unsupported(req)
    check_extra(req.extra_body, RESERVED)
    fields: dict[str, Any] = {
        "model": req.model,
        "prompt": req.prompt,
        "seconds": str(req.seconds),
        "size": req.size,
    }
    if req.user is not None:
        fields["user"] = req.user
    ref = req.input_reference
    if ref is not None and ref.data is None:
        fields["input_reference"] = reference_object(ref)
    refuse_overlap(req.extra_body, {**fields, "input_reference": None})
    fields.update(req.extra_body)
    if ref is not None and ref.data is not None:
        return CreateBody(data=form_fields(fields), files=[("input_reference", image_file(ref))])
    return CreateBody(json=fields)


TASK_PATHS: dict[str, str] = {"edit": "/videos/edits", "extend": "/videos/extensions"}


def task_body(req: VideoRequest, *, with_model: bool = False) -> tuple[str, CreateBody]:
    """An edit (``POST /videos/edits``: prompt, video) or extension (``POST /videos/extensions``: prompt,
    seconds, video). The source is ``{"id": ...}`` (JSON) when it is a job of this same deployment,
    else the uploaded MP4 (multipart, file part ``video``). OpenAI's endpoints take no ``model`` (the
    source decides it); an OpenAI-compatible server may serve several, so an upload names one there
    (``with_model``)."""
    path = TASK_PATHS.get(req.task)
    source = req.source_video
    if path is None or source is None:
        raise BadRequestError(f"'{req.task}' is not an edit or an extension.", param="video")
    check_extra(req.extra_body, RESERVED)
    fields: dict[str, Any] = {"prompt": req.prompt}
    if with_model and source.native_id is None:  # an id keeps its own model upstream
        fields["model"] = req.model
    if req.task == "extend":
        fields["seconds"] = str(req.seconds)
    if req.user is not None:
        fields["user"] = req.user
    refuse_overlap(req.extra_body, {**fields, "video": None})
    fields.update(req.extra_body)
    if source.native_id is not None:
        return path, CreateBody(json={**fields, "video": {"id": source.native_id}})
    if source.data is None:
        raise BadRequestError("The source video has neither an id here nor bytes to upload.", param="video")
    upload: FileTuple = (source.filename or "video.mp4", source.data, source.media_type)
    return path, CreateBody(data=form_fields(fields), files=[("video", upload)])


def reject_unsupported(req: VideoRequest) -> None:
    """The Videos API has no such fields; the catalogue rejects them first, this guards direct callers."""
    absent = {
        "last_frame": req.last_frame is not None,
        "reference_images": bool(req.reference_images),
        "negative_prompt": req.negative_prompt is not None,
        "person_generation": req.person_generation is not None,
        "seed": req.seed is not None,
        "generate_audio": req.generate_audio is not None,
        "n": req.n != 1,
    }
    for param, present in absent.items():
        if present:
            raise BadRequestError(
                f"The OpenAI Videos API has no '{param}' parameter.",
                param=param,
                code="unsupported_parameter",
            )


def reference_object(ref: ImageInput) -> dict[str, str]:
    """``{"image_url": ...}`` (https or data: URL) or ``{"file_id": ...}``."""
    if ref.file_id:
        return {"file_id": ref.file_id}
    url = ref.url or ""
    if not (url.startswith("https://") or url.startswith("data:")):
        raise BadRequestError(
            "Invalid 'input_reference': expected an https:// or data: URL, a file id, or image bytes; "
            f"got '{url[:60]}'.",
            param="input_reference",
        )
    return {"image_url": url}


def image_file(ref: ImageInput) -> FileTuple:
    """(filename, bytes, content type) for the multipart part, sniffing the type when not given."""
    data = ref.data or b""
    mime = ref.mime_type or sniff_image_type(data)
    name = ref.filename or f"input_reference.{_EXTENSIONS.get(mime, 'bin')}"
    return name, data, mime


def sniff_image_type(data: bytes) -> str:
    for magic, mime, _ in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def form_fields(values: Mapping[str, Any], *, objects_as_json: bool = False) -> dict[str, str]:
    """Flatten to multipart text fields the way the openai SDK does (``a[b]=...`` for objects).

    ``None`` is left out; booleans are ``true``/``false``; lists are sent as JSON text, and so are
    objects with ``objects_as_json`` (the engines behind ``/v1/videos`` read e.g. ``lora`` that way).
    """
    out: dict[str, str] = {}
    for key, value in values.items():
        _flatten(key, value, out, objects_as_json)
    return out


def _flatten(key: str, value: Any, out: dict[str, str], objects_as_json: bool = False) -> None:
    if value is None:
        return
    if isinstance(value, Mapping) and objects_as_json:
        out[key] = json.dumps(dict(value))
    elif isinstance(value, Mapping):
        for sub, inner in value.items():
            _flatten(f"{key}[{sub}]", inner, out)
    elif isinstance(value, bool):
        out[key] = "true" if value else "false"
    elif isinstance(value, list | tuple):
        out[key] = json.dumps(list(value))
    else:
        out[key] = str(value)


def check_variant(variant: str) -> str:
    if variant not in VARIANT_MEDIA_TYPES:
        raise invalid_value("variant", variant, list(CONTENT_VARIANTS))
    return variant


# ---- replies ------------------------------------------------------------------------------------


def json_object(reply: HttpReply, provider: str) -> dict[str, Any]:
    """The reply's JSON object, or InternalServerError when the provider sent something else."""
    try:
        data = reply.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        snippet = reply.content[:200].decode("utf-8", "replace")
        raise InternalServerError(
            f"{provider} answered HTTP {reply.status} with a body that is not a JSON object: {snippet!r}",
            provider=provider,
        )
    return data


def parse_video(data: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> ProviderJob:
    """A ``Video`` object -> ProviderJob. Status is the identity (one the server adds later reads as
    in_progress); a float ``progress`` is rounded."""
    native_id = data.get("id")
    if not isinstance(native_id, str) or not native_id:
        raise InternalServerError(f"The provider's Video object has no 'id': {dict(data)!r:.200}")
    status = _status(data.get("status"))
    error = _error(data.get("error"))
    if status == "failed" and error is None:
        error = VideoError(
            code="failed", message="The provider reported the video as failed without a reason."
        )
    progress = _progress(data.get("progress"), status)
    return ProviderJob(
        native_id=native_id,
        status=status,
        model=str(data.get("model") or ""),
        progress=progress,
        created_at=_int_or_none(data.get("created_at")),
        completed_at=_int_or_none(data.get("completed_at")),
        expires_at=_int_or_none(data.get("expires_at")),
        prompt=data.get("prompt") if isinstance(data.get("prompt"), str) else None,
        size=str(data["size"]) if data.get("size") is not None else None,
        seconds=str(data["seconds"]) if data.get("seconds") is not None else None,
        remixed_from=str(data["remixed_from_video_id"]) if data.get("remixed_from_video_id") else None,
        error=error,
        poll_after_ms=poll_after_ms(headers or {}),
        raw=dict(data),
    )


def parse_page(data: Mapping[str, Any]) -> ProviderPage:
    items = data.get("data")
    if not isinstance(items, list):
        raise InternalServerError("List reply has no 'data' array.")
    return ProviderPage(
        jobs=tuple(parse_video(item) for item in items if isinstance(item, Mapping)),
        has_more=bool(data.get("has_more", False)),
    )


def poll_after_ms(headers: Mapping[str, str]) -> int | None:
    value = headers.get(POLL_AFTER_HEADER)
    if value is None:
        return None
    try:
        ms = float(value)
    except ValueError:
        return None
    return max(0, round(ms)) if math.isfinite(ms) else None


def _status(raw: Any) -> VideoStatus:
    """A status the server adds later reads as in_progress: the job keeps being polled (as on the task
    APIs) rather than a 500 failing a paid job or a client's retrieve; no status at all is an error."""
    if raw in STATUSES:
        return cast(VideoStatus, raw)
    if raw in ("cancelled", "canceled"):
        return "failed"
    if not isinstance(raw, str) or not raw:
        raise InternalServerError(f"The provider's Video object has no status: {raw!r:.50}.")
    return "in_progress"


def _progress(raw: Any, status: VideoStatus) -> int:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return 100 if status == "completed" else 0
    if not math.isfinite(value):
        return 0
    return max(0, min(100, round(value)))


def _error(raw: Any) -> VideoError | None:
    if not isinstance(raw, Mapping):
        return None
    code = raw.get("code")
    message = raw.get("message")
    return VideoError(
        code=str(code) if code else "failed",
        message=str(message) if message else "The provider gave no message.",
    )


def _int_or_none(raw: Any) -> int | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 is inf
        return None


# ---- errors -------------------------------------------------------------------------------------


def error_from_reply(reply: HttpReply, provider: str) -> APIError:
    """Map an error reply (OpenAI envelope, Azure's ``{"error": {"code": "401", ...}}`` or plain text)."""
    body: Any
    try:
        body = reply.json()
    except ValueError:
        body = None
    envelope = body.get("error") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        envelope = body if isinstance(body, dict) else {}
    message = envelope.get("message")
    if not isinstance(message, str) or not message:
        text = reply.content[:300].decode("utf-8", "replace").strip()
        message = f"{provider} answered HTTP {reply.status}" + (f": {text}" if text else ".")
    code = envelope.get("code")
    param = envelope.get("param")
    kind = envelope.get("type")
    kwargs: dict[str, Any] = {
        "param": param if isinstance(param, str) else None,
        "code": str(code) if code is not None else None,
        "type": kind if isinstance(kind, str) else None,
        "provider": provider,
        "status_code": reply.status,
        "body": body if body is not None else reply.content[:1000].decode("utf-8", "replace"),
        "retry_after": retry_after(reply.headers),
    }
    if reply.status == 400 and _is_content_policy(kwargs["code"], kwargs["type"], message):
        return ContentPolicyViolationError(message, **kwargs)
    return error_class_for_status(reply.status)(message, **kwargs)


def _is_content_policy(code: str | None, kind: str | None, message: str) -> bool:
    if code in CONTENT_POLICY_CODES or kind in CONTENT_POLICY_CODES:
        return True
    lowered = message.lower()
    return "moderation system" in lowered or "content policy" in lowered or "safety system" in lowered


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or a numeric ``retry-after`` (the hint carried on the error)."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None
