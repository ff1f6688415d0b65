"""Runway's developer API as sans-I/O flows: ``POST /v1/{text,image}_to_video`` -> ``{id}``,
``GET /v1/tasks/{id}``, ``DELETE /v1/tasks/{id}`` (cancel, or delete once finished).

Every call carries ``Authorization: Bearer`` and the required ``X-Runway-Version``. A request with an
``input_reference`` goes to ``image_to_video`` (``promptImage``: the image alone, or ``[{uri,
position: first}, {uri, position: last}]`` with a ``last_frame``); without one, to ``text_to_video``.
``size`` "WxH" is Runway's pixel ``ratio`` "W:H". Reference images and videos: ``inputs.py``
(text_to_video only). Output URLs expire (24-48 h), so a download reads
the task again and fetches the fresh URL, without the API secret (the URL is signed).

Edits and extensions (``VideoRequest.task``) go to ``POST /v1/video_to_video`` (runwayml 5.24.0's
``VideoToVideoCreateParams``): ``aleph2`` edits (``videoUri``, ``promptText``; no ``ratio`` is sent, so
the output keeps the source's frame; aleph2 has no text- or image-to-video, so a plain create is a 400),
``seedance2_5`` edits (``mode: edit``, ``duration: "auto"``: Runway bills the variant maximum up front
and refunds the rest; vidgate prices the source's seconds) and extends (``mode: extend``, ``duration``
= the added seconds; no ``ratio``). The source is a fresh output URL of a task of this deployment
(``source_video.native_id``), else the bytes as a ``data:video/mp4`` URI, which Runway takes up to 5 MB
(larger uploads need Runway's upload API: not built, a 400 naming ``video``).
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    error_class_for_status,
    invalid_value,
)
from vidgate.providers.base import BaseProvider, Credentials, Download, Flow, HttpCall, HttpReply, ProviderJob
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.providers.runway.config import RUNWAY_VERSION
from vidgate.providers.runway.inputs import image_uri, reference_images, reference_videos
from vidgate.types import SourceVideo, VideoError, VideoRequest, VideoStatus

DEFAULT_BASE = "https://api.dev.runwayml.com"

STATUS: Mapping[str, VideoStatus] = {
    "PENDING": "queued",
    "THROTTLED": "queued",  # waiting for one of the organisation's concurrency slots
    "RUNNING": "in_progress",
    "SUCCEEDED": "completed",
    "FAILED": "failed",
    "CANCELLED": "failed",
}

# Models whose ``ratio`` is an aspect ratio ("16:9") beside a ``resolution`` (the row's tier, "768p"):
# runwayml 5.24.0's Hailuo3 params; the others take the pixel ratio "W:H".
ASPECT_AND_RESOLUTION: frozenset[str] = frozenset({"hailuo3"})
# Models with no text_to_video endpoint (the SDK's TextToVideoCreateParams lacks them).
IMAGE_ONLY: frozenset[str] = frozenset({"gen4_turbo", "gemini_omni_flash"})
# Models whose text_to_video takes fewer ratios than their image_to_video (SDK 5.24.0).
TEXT_RATIOS: Mapping[str, tuple[str, ...]] = {"gen4.5": ("1280x720", "720x1280")}

# video_to_video models (runwayml 5.24.0) -> the body field of their source video, and the tasks each
# serves; the first are video-to-video only.
VIDEO_FIELD: Mapping[str, str] = {"aleph2": "videoUri", "seedance2_5": "promptVideo"}
VIDEO_TASKS: Mapping[str, frozenset[str]] = {
    "aleph2": frozenset({"edit"}),
    "seedance2_5": frozenset({"edit", "extend"}),
}
VIDEO_ONLY: frozenset[str] = frozenset({"aleph2"})
MAX_SOURCE_SECONDS: Mapping[str, int] = {"aleph2": 30}  # "<=30 s input" (field-2026-12.md §4.2)
MAX_DATA_URI_BYTES = 5 * 1024 * 1024  # "base64 data URI (... up to 5MB)" (runwayml 5.24.0 docstrings)

# Runway's native names for what the gateway validates, permits or prices.
RUNWAY_RESERVED: Mapping[str, str] = {
    "promptText": "prompt",
    "promptImage": "input_reference",
    "ratio": "size",
    "resolution": "size",
    "duration": "seconds",
    "audio": "generate_audio",
    "seed": "seed",
    "negativePrompt": "negative_prompt",
    "references": "reference_images",
    "referenceImages": "reference_images",
    "referenceVideos": "reference_videos",
    "referenceAudio": "",
    "videoUri": "",
    "promptVideo": "",
    "mode": "",
    "keyframes": "",
    "targetAspectRatio": "size",
    "draft": "",  # a cheaper 480p preview: not what was priced
    "draftTaskId": "",
    "outputFormat": "",  # non-mp4 formats carry a per-second surcharge
    "proresProfile": "",
}

_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class RunwayProvider(BaseProvider):
    name: ClassVar[str] = "runway"
    reserved_params: ClassVar[Mapping[str, str]] = RUNWAY_RESERVED

    # ---- shared -------------------------------------------------------------------------------

    @staticmethod
    def base(creds: Credentials) -> str:
        return (creds.api_base or DEFAULT_BASE).rstrip("/")

    def headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.api_key:
            raise AuthenticationError(
                "No Runway API secret: pass api_key or set RUNWAYML_API_SECRET.",
                code="missing_api_key",
                provider=self.name,
            )
        return {
            **creds.extra_headers,
            "Authorization": f"Bearer {creds.api_key}",
            "X-Runway-Version": creds.api_version or RUNWAY_VERSION,
        }

    def task_url(self, native_id: str, creds: Credentials) -> str:
        if not _TASK_ID.match(native_id):
            raise BadRequestError(f"Invalid Runway task id '{native_id[:200]}'.", param="video_id")
        return f"{self.base(creds)}/v1/tasks/{native_id}"

    # ---- create -------------------------------------------------------------------------------

    def request_body(self, req: VideoRequest) -> tuple[str, dict[str, Any]]:
        """The endpoint (``text_to_video`` | ``image_to_video``) and body for a validated request;
        what the model cannot honour is a BadRequestError before any call."""
        check_extra(req.extra_body, self.reserved_params)
        model = req.model.removeprefix(f"{self.name}/")
        if model in VIDEO_ONLY:
            raise BadRequestError(
                f"Runway's {model} edits videos only: send the video to POST /v1/videos/edits.",
                param="model",
                code="unsupported_operation",
            )
        if req.input_reference is None and model in IMAGE_ONLY:
            raise BadRequestError(
                f"Runway's {model} is image-to-video only: 'input_reference' is required.",
                param="input_reference",
                code="missing_required_parameter",
            )
        text_ratios = TEXT_RATIOS.get(model)
        if req.input_reference is None and text_ratios is not None and req.size not in text_ratios:
            error = invalid_value("size", req.size, list(text_ratios))
            error.message += f" Runway's {model} takes the other sizes only with an input_reference."
            raise error
        width, _, height = req.size.partition("x")
        body: dict[str, Any] = {
            "model": model,
            "promptText": req.prompt,
            "ratio": f"{width}:{height}",
            "duration": int(req.seconds),
        }
        if model in ASPECT_AND_RESOLUTION:
            body.update(ratio=req.aspect_ratio, resolution=req.resolution)
        if req.reference_images:
            body["references"] = reference_images(model, req)
        if req.reference_videos:
            body["referenceVideos"] = reference_videos(model, req)
        endpoint = "text_to_video"
        if req.input_reference is not None:
            endpoint = "image_to_video"
            first = image_uri(req.input_reference, "input_reference")
            if req.last_frame is None:
                body["promptImage"] = first
            else:
                last = image_uri(req.last_frame, "last_frame")
                body["promptImage"] = [{"uri": first, "position": "first"}, {"uri": last, "position": "last"}]
        if req.seed is not None:
            body["seed"] = req.seed
        if req.generate_audio is not None:
            body["audio"] = req.generate_audio
        if req.negative_prompt is not None:
            body["negativePrompt"] = req.negative_prompt
        refuse_overlap(req.extra_body, body)
        body.update(req.extra_body)
        return endpoint, body

    def video_body(self, req: VideoRequest, video_uri: str) -> dict[str, Any]:
        """The ``video_to_video`` body of an edit or extension (after the model's rules)."""
        model = req.model.removeprefix(f"{self.name}/")
        if req.task not in VIDEO_TASKS.get(model, frozenset()):
            raise BadRequestError(
                f"Runway's {model} has no video {req.task}.", param="model", code="unsupported_operation"
            )
        for name, value in (
            ("input_reference", req.input_reference),
            ("last_frame", req.last_frame),
            ("reference_images", req.reference_images),
        ):
            if value:
                raise BadRequestError(f"A Runway video {req.task} takes no '{name}'.", param=name)
        limit = MAX_SOURCE_SECONDS.get(model)
        seconds = req.source_video.seconds if req.source_video is not None else None
        if limit is not None and seconds is not None and seconds - 1 >= limit:  # whole seconds round up
            raise BadRequestError(
                f"Runway's {model} edits videos of at most {limit} s; this one is {seconds} s.", param="video"
            )
        check_extra(req.extra_body, self.reserved_params)
        body: dict[str, Any] = {"model": model, VIDEO_FIELD[model]: video_uri, "promptText": req.prompt}
        if model != "aleph2":
            body["mode"] = req.task
            body["duration"] = "auto" if req.task == "edit" else int(req.seconds)
            if req.generate_audio is not None:
                body["audio"] = req.generate_audio
        if req.seed is not None:
            body["seed"] = req.seed
        refuse_overlap(req.extra_body, body)
        body.update(req.extra_body)
        return body

    def source_uri(self, source: SourceVideo, creds: Credentials) -> Flow[str]:
        """A fresh output URL of a finished task of this deployment, else the bytes as a data URI."""
        if source.native_id is not None and _TASK_ID.match(source.native_id):
            try:
                reply = yield HttpCall(
                    "GET", self.task_url(source.native_id, creds), headers=self.headers(creds)
                )
            except NotFoundError:
                reply = None  # deleted, or not a task of this key: fall back to the bytes
            if reply is not None:
                job = self.read_task(_object(reply), source.native_id)
                if job.status == "completed" and job.outputs:
                    return job.outputs[0]
        if not source.data:
            raise BadRequestError(
                "Invalid 'video': Runway cannot read this video (no bytes, no task).", param="video"
            )
        if len(source.data) > MAX_DATA_URI_BYTES:
            raise BadRequestError(
                f"Invalid 'video': Runway takes an uploaded video of at most "
                f"{MAX_DATA_URI_BYTES // 2**20} MB inline; this one is {len(source.data)} bytes.",
                param="video",
            )
        return f"data:{source.media_type};base64,{base64.b64encode(source.data).decode('ascii')}"

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        if req.task != "generate":
            if req.source_video is None:
                raise BadRequestError(f"A Runway video {req.task} needs the source video.", param="video")
            self.video_body(req, "")  # the model's rules, before any call
            video_uri = yield from self.source_uri(req.source_video, creds)
            endpoint, body = "video_to_video", self.video_body(req, video_uri)
        else:
            endpoint, body = self.request_body(req)
        url = f"{self.base(creds)}/v1/{endpoint}"
        reply = yield HttpCall("POST", url, headers=self.headers(creds), json=body, retry_safe=False)
        data = _object(reply)
        task_id = data.get("id")
        if not isinstance(task_id, str) or not task_id:
            raise _bad_reply("Runway answered the create without a task id.")
        return ProviderJob(
            native_id=task_id,
            status="queued",
            model=body["model"],
            prompt=req.prompt,
            size=req.size,
            seconds=str(req.seconds),
        )

    # ---- retrieve / download / delete ---------------------------------------------------------

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield HttpCall("GET", self.task_url(native_id, creds), headers=self.headers(creds))
        return self.read_task(_object(reply), native_id)

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        """Read the task again (its output URLs expire) and stream the first output."""
        if variant != "video":
            error = invalid_value("variant", variant, ["video"])
            error.message += " Runway has no thumbnail or spritesheet."
            error.provider = self.name
            raise error
        reply = yield HttpCall("GET", self.task_url(native_id, creds), headers=self.headers(creds))
        data = _object(reply)
        job = self.read_task(data, native_id)
        if job.status != "completed":
            reason = f": {job.error.message}" if job.error else ""
            raise BadRequestError(
                f"Video is not ready for download: status is '{job.status}'{reason}",
                code="video_not_ready",
                provider=self.name,
            )
        if not job.outputs:
            raise _bad_reply("Runway reported success without an output URL.")
        return Download(media_type="video/mp4", call=HttpCall("GET", job.outputs[0]))

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        """Cancels a pending, throttled or running task; deletes a finished one."""
        yield HttpCall("DELETE", self.task_url(native_id, creds), headers=self.headers(creds))
        return True

    # ---- reading replies ----------------------------------------------------------------------

    def read_task(self, data: Mapping[str, Any], native_id: str) -> ProviderJob:
        status_name = str(data.get("status"))
        # A status Runway adds later is read as still running, so the job keeps being polled rather than
        # failing a paid job or a client's retrieve (as the Kling, xAI, MiniMax and Ark adapters do).
        status = STATUS.get(status_name, "in_progress")
        outputs = data.get("output") if status == "completed" else None
        urls = tuple(u for u in outputs if isinstance(u, str) and u) if isinstance(outputs, list) else ()
        error = _failure(status_name, data)
        progress = _progress(status_name, data.get("progress"))
        if status == "completed" and not urls:  # nothing to download: failed, not charged
            status, progress = "failed", 0
            error = VideoError(code="no_output", message="Runway reported SUCCEEDED without an output URL.")
        return ProviderJob(
            native_id=str(data.get("id") or native_id),
            status=status,
            model="",
            progress=progress,
            created_at=_timestamp(data.get("createdAt")),
            error=error,
            outputs=urls,
            raw=dict(data),
        )

    def error_for(self, reply: HttpReply) -> APIError:
        """Runway answers ``{"error": "..."}`` (+ ``issues`` on validation); the status picks the class."""
        try:
            body = reply.json()
        except ValueError:
            body = None
        message = body.get("error") if isinstance(body, dict) else None
        if not isinstance(message, str) or not message:
            text = reply.content[:300].decode("utf-8", "replace").strip()
            message = f"Runway answered HTTP {reply.status}" + (f": {text}" if text else ".")
        param = _issue_param(body.get("issues")) if isinstance(body, dict) else None
        kind = error_class_for_status(reply.status)
        return kind(
            message,
            param=param,
            provider=self.name,
            status_code=reply.status,
            body=body,
            retry_after=_retry_after(reply.headers),
        )


def _object(reply: HttpReply) -> dict[str, Any]:
    try:
        data = reply.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise _bad_reply("Runway answered with a body that is not a JSON object.")
    return data


def _bad_reply(message: str) -> APIError:
    return APIError(message, status_code=502, provider="runway")


def _progress(status: str, raw: object) -> int:
    """Runway reports ``progress`` as a fraction 0..1 while RUNNING (read too under a status it adds
    later); OpenAI's is a percentage."""
    if status == "SUCCEEDED":
        return 100
    if STATUS.get(status, "in_progress") != "in_progress":
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return 0
    if not math.isfinite(raw):
        return 0
    return max(0, min(99, int(raw * 100)))


def _timestamp(raw: object) -> int | None:
    if not isinstance(raw, str):
        return None
    try:
        return int(dt.datetime.fromisoformat(raw).timestamp())
    except ValueError:
        return None


def _failure(status: str, data: Mapping[str, Any]) -> VideoError | None:
    if status == "CANCELLED":
        return VideoError(code="cancelled", message="The Runway task was cancelled.")
    if status != "FAILED":
        return None
    code = data.get("failureCode")
    message = data.get("failure")
    text = message if isinstance(message, str) and message else "The Runway task failed."
    if isinstance(code, str) and "SAFETY" in code.upper():
        return VideoError(code="moderation_blocked", message=text)
    return VideoError(code=code if isinstance(code, str) and code else "generation_failed", message=text)


def _issue_param(issues: object) -> str | None:
    """The first validation issue's field path (``["ratio"]`` -> ``ratio``)."""
    if isinstance(issues, list) and issues and isinstance(issues[0], dict):
        path = issues[0].get("path")
        if isinstance(path, list) and path:
            return ".".join(str(p) for p in path)
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None
