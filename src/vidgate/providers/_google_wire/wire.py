"""What the Gemini API and Vertex AI adapters share: Google's error envelope, image parts, and the
long-running operation read into vidgate's terms.

Both services answer errors as ``{"error": {code, message, status, details}}`` and report Veo jobs as
operations (``done``, ``error``, ``response``); only the place of the samples differs (Gemini:
``response.generateVideoResponse.generatedSamples[].video``; Vertex: ``response.videos[]``), so one
reader handles both. Status mapping follows §7.1 of the wire-format reference.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
    error_class_for_status,
)
from vidgate.providers.base import HttpReply, ProviderJob
from vidgate.types import ImageInput, VideoError, VideoStatus

# google.rpc.Code numbers -> their names, lower-cased the way vidgate writes error codes.
GRPC_CODES: dict[int, str] = {
    1: "cancelled",
    2: "unknown",
    3: "invalid_argument",
    4: "deadline_exceeded",
    5: "not_found",
    6: "already_exists",
    7: "permission_denied",
    8: "resource_exhausted",
    9: "failed_precondition",
    10: "aborted",
    11: "out_of_range",
    12: "unimplemented",
    13: "internal",
    14: "unavailable",
    15: "data_loss",
    16: "unauthenticated",
}

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")  # Gemini API
VERTEX_IMAGE_TYPES = ("image/png", "image/jpeg")  # Vertex AI (REST reference: "image/jpeg|png")
RUNNING_PROGRESS = 10  # shown while running when the provider reports no progress of its own

# Google's wire field -> the vidgate param a client sent (for ``APIError.param``).
_PARAM_FOR_FIELD = {
    "prompt": "prompt",
    "durationSeconds": "seconds",
    "aspectRatio": "size",
    "resolution": "size",
    "sampleCount": "n",
    "negativePrompt": "negative_prompt",
    "personGeneration": "person_generation",
    "seed": "seed",
    "generateAudio": "generate_audio",
    "image": "input_reference",
    "lastFrame": "last_frame",
    "referenceImages": "reference_images",
}
_BACKTICKED = re.compile(r"`([A-Za-z]+)`")
_MODEL_IN_NAME = re.compile(r"models/([^/]+)/operations/")


# ---- errors -------------------------------------------------------------------------------------


def _envelope(reply: HttpReply) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        body = None
    if isinstance(body, list) and len(body) == 1:  # some Google frontends wrap the envelope in a list
        body = body[0]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    text = reply.content.decode("utf-8", "replace").strip()
    return {"message": text[:500] or f"HTTP {reply.status}"}


def _details(error: Mapping[str, Any], type_suffix: str) -> list[Mapping[str, Any]]:
    details = error.get("details")
    if not isinstance(details, list):
        return []
    return [d for d in details if isinstance(d, dict) and str(d.get("@type", "")).endswith(type_suffix)]


def _duration_seconds(text: object) -> float | None:
    """``"1.5s"`` (protobuf Duration JSON) or a plain number -> seconds."""
    value = str(text).strip().removesuffix("s")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _retry_after(error: Mapping[str, Any], reply: HttpReply) -> float | None:
    for info in _details(error, "google.rpc.RetryInfo"):
        seconds = _duration_seconds(info.get("retryDelay", ""))
        if seconds is not None:
            return seconds
    header = reply.header("retry-after")
    return _duration_seconds(header) if header else None


def _param(error: Mapping[str, Any]) -> str | None:
    for bad in _details(error, "google.rpc.BadRequest"):
        for violation in bad.get("fieldViolations") or []:
            field = str(violation.get("field", "")).split(".")[-1].split("[")[0]
            if field in _PARAM_FOR_FIELD:
                return _PARAM_FOR_FIELD[field]
    for name in _BACKTICKED.findall(str(error.get("message", ""))):
        if name in _PARAM_FOR_FIELD:
            return _PARAM_FOR_FIELD[name]
    return None


def google_error(reply: HttpReply, provider: str) -> APIError:
    """Google's error envelope -> vidgate's exception tree.

    The Gemini API answers a bad API key with **400** INVALID_ARGUMENT (reason ``API_KEY_INVALID``),
    so that case is an AuthenticationError, not a BadRequestError.
    """
    error = _envelope(reply)
    message = str(error.get("message") or f"HTTP {reply.status}")
    status = str(error.get("status") or "")
    reasons = {str(info.get("reason", "")) for info in _details(error, "google.rpc.ErrorInfo")}
    common: dict[str, Any] = {"provider": provider, "body": {"error": error}}
    if "API_KEY_INVALID" in reasons or reply.status == 401 or status == "UNAUTHENTICATED":
        return AuthenticationError(message, code="invalid_api_key", **common)
    code = status.lower() or None
    if reply.status == 429:
        return RateLimitError(message, code=code, retry_after=_retry_after(error, reply), **common)
    cls = error_class_for_status(reply.status)
    if issubclass(cls, BadRequestError):
        return cls(message, code=code, param=_param(error), **common)
    # Keep the provider's own status (a 504 stays 504, not Timeout's 408, which clients would retry).
    return cls(message, code=code, retry_after=_retry_after(error, reply), status_code=reply.status, **common)


# ---- images -------------------------------------------------------------------------------------


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _type_from_name(name: str | None) -> str | None:
    lowered = (name or "").lower()
    for suffix, mime in (
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".webp", "image/webp"),
    ):
        if lowered.endswith(suffix):
            return mime
    return None


def _data_url(url: str, param: str) -> tuple[bytes, str | None]:
    header, sep, payload = url.partition(",")
    if not sep or not header.endswith(";base64"):
        raise BadRequestError(
            f"Invalid '{param}': a data: URL must be base64 ('data:image/png;base64,...').", param=param
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequestError(f"Invalid '{param}': the data: URL is not valid base64.", param=param) from exc
    mime = header.removeprefix("data:").removesuffix(";base64") or None
    return data, mime


def image_part(
    image: ImageInput, param: str, *, service: str, allow_gcs: bool, types: tuple[str, ...] = IMAGE_TYPES
) -> dict[str, str]:
    """An image as Google's ``{bytesBase64Encoded, mimeType}`` (or ``{gcsUri, mimeType}`` on Vertex).

    Neither service fetches ``https`` URLs, and the Gemini API has no ``gcsUri``: those are rejected
    here, before any request, naming the param.
    """
    data = image.data
    mime = image.mime_type
    if image.file_id is not None:
        raise BadRequestError(
            f"Invalid '{param}': {service} cannot use a file id ('{image.file_id}'); pass the image itself.",
            param=param,
        )
    if image.url is not None:
        if image.url.startswith("data:"):
            data, url_mime = _data_url(image.url, param)
            mime = mime or url_mime
        elif image.url.startswith("gs://") and allow_gcs:
            gcs_mime = mime or _type_from_name(image.url)
            if gcs_mime not in types:
                raise BadRequestError(
                    f"Invalid '{param}': give the mime type of '{image.url}' (one of {', '.join(types)}).",
                    param=param,
                )
            return {"gcsUri": image.url, "mimeType": gcs_mime}
        else:
            accepted = (
                "image bytes, a file path, a data: URL or a gs:// URI"
                if allow_gcs
                else ("image bytes, a file path or a data: URL")
            )
            raise BadRequestError(
                f"Invalid '{param}': {service} cannot fetch images by URL ('{image.url[:100]}'); "
                f"pass {accepted}.",
                param=param,
                code="unsupported_image_url",
            )
    if not data:
        raise BadRequestError(f"Invalid '{param}': the image is empty.", param=param)
    mime = mime or _sniff(data) or _type_from_name(image.filename)
    if mime not in types:
        raise BadRequestError(
            f"Invalid '{param}': unsupported image type '{mime}'. Supported types are: {', '.join(types)}.",
            param=param,
        )
    return {"bytesBase64Encoded": base64.b64encode(data).decode("ascii"), "mimeType": mime}


# ---- operations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One generated video: a URI (Gemini file URI or ``gs://``) or inline base64 bytes."""

    uri: str | None
    data_b64: str | None
    mime_type: str


def _response(op: Mapping[str, Any]) -> Mapping[str, Any]:
    response = op.get("response")
    if not isinstance(response, dict):
        return {}
    nested = response.get("generateVideoResponse")
    return nested if isinstance(nested, dict) else response


def samples(op: Mapping[str, Any]) -> list[Sample]:
    """The videos of a done operation, in either service's layout."""
    response = _response(op)
    found: list[Sample] = []
    gemini = response.get("generatedSamples")
    if isinstance(gemini, list):
        for item in gemini:
            video = item.get("video") if isinstance(item, dict) else None
            if isinstance(video, dict) and (video.get("uri") or video.get("encodedVideo")):
                found.append(
                    Sample(video.get("uri"), video.get("encodedVideo"), video.get("encoding") or "video/mp4")
                )
    vertex = response.get("videos")
    if isinstance(vertex, list):
        for video in vertex:
            if isinstance(video, dict) and (video.get("gcsUri") or video.get("bytesBase64Encoded")):
                found.append(
                    Sample(
                        video.get("gcsUri"),
                        video.get("bytesBase64Encoded"),
                        video.get("mimeType") or "video/mp4",
                    )
                )
    return found


def _int(value: object) -> int:
    try:
        return int(float(str(value)))
    except ValueError:
        return 0


def _progress(op: Mapping[str, Any]) -> int:
    """Progress from ``metadata`` if the service sent any (fractions welcome), else a modest estimate."""
    metadata = op.get("metadata")
    if isinstance(metadata, dict):
        for key in ("progressPercent", "progressPercentage", "progress"):
            if key in metadata:
                try:
                    value = float(str(metadata[key]))
                except ValueError:
                    continue
                if value == value:  # not NaN
                    return max(0, min(99, int(value)))
    return RUNNING_PROGRESS


def _redacted(value: Any) -> Any:
    """The operation without inline video bytes (they can be many MB; ``raw`` is for logs and stores)."""
    if isinstance(value, dict):
        return {
            k: (
                f"<{len(v)} base64 chars>"
                if k in ("encodedVideo", "bytesBase64Encoded") and isinstance(v, str)
                else _redacted(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def model_from_name(name: str, fallback: str) -> str:
    match = _MODEL_IN_NAME.search(name)
    return match.group(1) if match else fallback


def read_operation(op: Mapping[str, Any], *, fallback_model: str = "") -> ProviderJob:
    """A Gemini/Vertex operation as a ProviderJob, mapping every terminal state explicitly (§7.1)."""
    name = str(op.get("name", ""))
    model = model_from_name(name, fallback_model)
    raw = _redacted(dict(op))
    if not op.get("done"):
        return ProviderJob(native_id=name, status="in_progress", model=model, progress=_progress(op), raw=raw)
    status: VideoStatus = "failed"
    error: VideoError | None = None
    outputs: tuple[str, ...] = ()
    failure = op.get("error")
    found = samples(op)
    if isinstance(failure, dict):
        raw_code = failure.get("code")
        code = (
            GRPC_CODES.get(raw_code, "unknown")
            if isinstance(raw_code, int)
            else str(raw_code or "unknown").lower()
        )
        error = VideoError(code=code, message=str(failure.get("message") or "The video generation failed."))
    elif found:
        status = "completed"
        outputs = tuple(s.uri or f"inline:{i}" for i, s in enumerate(found))
    else:
        response = _response(op)
        reasons = response.get("raiMediaFilteredReasons")
        if _int(response.get("raiMediaFilteredCount", 0)) > 0 or reasons:
            first = reasons[0] if isinstance(reasons, list) and reasons else None
            error = VideoError(
                code="moderation_blocked",
                message=str(first or "The video was blocked by the provider's safety filters."),
            )
        else:
            error = VideoError(code="no_output", message="The operation finished without any video.")
    return ProviderJob(
        native_id=name,
        status=status,
        model=model,
        progress=100 if status == "completed" else 0,
        error=error,
        outputs=outputs,
        raw=raw,
    )


def decode_inline(sample: Sample) -> bytes:
    assert sample.data_b64 is not None
    try:
        return base64.b64decode(sample.data_b64)
    except (binascii.Error, ValueError) as exc:
        raise InternalServerError(
            "The provider returned inline video bytes that are not valid base64."
        ) from exc


def json_object(reply: HttpReply) -> Mapping[str, Any]:
    """A successful reply's JSON object (an unreadable one is a 502: the provider misbehaved)."""
    try:
        body = reply.json()
    except ValueError as exc:
        raise APIError(
            f"Unreadable reply from the provider (HTTP {reply.status}).",
            status_code=502,
            body=reply.content[:500],
        ) from exc
    if not isinstance(body, dict):
        raise APIError(
            f"Unexpected reply from the provider (HTTP {reply.status}): not a JSON object.", status_code=502
        )
    return body
