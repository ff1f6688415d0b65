"""Gemini Omni through the Interactions API, shared by the Gemini API and Vertex AI adapters.

Omni is not a ``:predictLongRunning`` model: a create is ``POST {root}/interactions`` with
``background: true`` (else the call blocks until the video exists), then ``GET .../interactions/{id}``,
``POST .../{id}/cancel`` and ``DELETE .../{id}``. The video is ``output_video`` (``data`` base64 or
``uri``), and the price is settled from ``usage.total_output_tokens`` after completion.

The adapters tell the two families apart by the catalogue row (``is_omni``) on create and by the native
id on follow-ups: an interaction's native id is ``interactions/{id}``, never an operation name.

A ``completed`` interaction with no ``output_video`` is not done (a known Vertex bug returned that while
the video sat in GCS): it reads as ``in_progress`` until ``EMPTY_COMPLETION_GRACE_S`` after its
``updated`` time, then ``failed`` with code ``completed_without_output``.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import urlsplit

from vidgate.catalog import ModelSpec, Usage
from vidgate.errors import APIError, BadRequestError, NotFoundError, invalid_value
from vidgate.providers._google_wire.wire import Sample, decode_inline, json_object
from vidgate.providers.base import Credentials, Download, Flow, HttpCall, ProviderJob
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, SourceVideo, VideoError, VideoRequest, VideoStatus

PREFIX = "interactions/"
OMNI_MODEL_PREFIX = "gemini-omni-"
EMPTY_COMPLETION_GRACE_S = 120
RUNNING_PROGRESS = 50
MAX_REFERENCE_VIDEOS = 3  # Omni 1.1+: up to 3 reference images and 3 reference videos (reference §4.1)

# The Interactions API's names for what the gateway validates, permits or prices.
OMNI_RESERVED: Mapping[str, str] = {
    "model": "model",
    "input": "prompt",
    "response_format": "size",
    "generation_config": "seed",
    "previous_interaction_id": "remix",
    "background": "",
    "response_modalities": "",
    "agent": "",
}
# What a create may not pass through ``extra_body`` either: the gateway could not follow the interaction
# (``store`` false, ``stream``, ``webhook_config``) or price what it adds (``tools``, billed apart).
OMNI_UNFOLLOWABLE: Mapping[str, str] = {"store": "", "stream": "", "webhook_config": "", "tools": ""}

# Every Interaction status -> (vidgate status, error code when failed).
STATUSES: Mapping[str, tuple[VideoStatus, str | None]] = {
    "queued": ("queued", None),
    "in_progress": ("in_progress", None),
    "completed": ("completed", None),
    "failed": ("failed", "generation_failed"),
    "cancelled": ("failed", "cancelled"),
    "incomplete": ("failed", "incomplete"),
    "budget_exceeded": ("failed", "budget_exceeded"),
    # A video interaction has no tool the gateway could answer, and nothing resumes an idle or paused
    # one on its own: these end the job rather than being polled forever.
    "requires_action": ("failed", "requires_action"),
    "idle": ("failed", "idle"),
    "requires_continuation": ("failed", "requires_continuation"),
}
_MESSAGES: Mapping[str, str] = {
    "cancelled": "The interaction was cancelled.",
    "incomplete": "The interaction ended incomplete.",
    "budget_exceeded": "The interaction exceeded its budget.",
    "requires_action": "The interaction asked for a tool result, which a video request cannot give.",
    "idle": "The interaction went idle without a video.",
    "requires_continuation": "The interaction paused and asked for a continuation.",
}
# An interaction error whose code names a safety block is vidgate's ``moderation_blocked``.
SAFETY_WORDS = ("safety", "blocked", "prohibited")
TERMINAL = frozenset(s for s, (mapped, _) in STATUSES.items() if mapped != "in_progress" and s != "queued")


def is_omni(model: str) -> bool:
    """Whether a bare model id is served by the Interactions API (the Gemini Omni family)."""
    return model.rsplit("/", 1)[-1].startswith(OMNI_MODEL_PREFIX)


def is_interaction(native_id: str) -> bool:
    return native_id.startswith(PREFIX)


def omni_image_block(part: Mapping[str, str]) -> dict[str, str]:
    """Google's Veo image part (``bytesBase64Encoded``/``gcsUri`` + ``mimeType``) as an image block."""
    block = {"type": "image", "mime_type": part["mimeType"]}
    if "gcsUri" in part:
        block["uri"] = part["gcsUri"]
    else:
        block["data"] = part["bytesBase64Encoded"]
    return block


# google-genai 3.x's ``VideoContentMimeType`` values by file extension, for a video given by URL (the
# caller names no type; an unknown extension sends none, the field being optional in the SDK).
URL_MIME_TYPES: Mapping[str, str] = {
    ".mp4": "video/mp4",
    ".mpeg": "video/mpeg",
    ".mpg": "video/mpg",
    ".mov": "video/mov",
    ".avi": "video/avi",
    ".flv": "video/x-flv",
    ".webm": "video/webm",
    ".wmv": "video/wmv",
    ".3gp": "video/3gpp",
}


def url_video_block(url: str) -> dict[str, str]:
    """A video the caller gave by URL, as google-genai 3.x's ``VideoContent``: ``{type, uri[,
    mime_type]}``; the service fetches it (whether Vertex reads https URLs besides ``gs://`` is not
    verifiable offline)."""
    block = {"type": "video", "uri": url}
    path = urlsplit(url).path.lower()
    mime = next((m for ext, m in URL_MIME_TYPES.items() if path.endswith(ext)), None)
    if mime is not None:
        block["mime_type"] = mime
    return block


def omni_video_block(source: SourceVideo, uri: str | None, param: str, service: str) -> dict[str, str]:
    """A video content block: by the caller's URL when it gave one, by ``uri`` when the service can read
    the source where it already lies (its own output), else the bytes as ``data``."""
    if source.url is not None:
        return url_video_block(source.url)
    if uri is not None:
        return {"type": "video", "uri": uri, "mime_type": source.media_type}
    if source.data:
        return {
            "type": "video",
            "data": base64.b64encode(source.data).decode("ascii"),
            "mime_type": source.media_type,
        }
    raise BadRequestError(
        f"Invalid '{param}': the video has no bytes and no address {service} can read.", param=param
    )


def _parse_time(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def output_sample(interaction: Mapping[str, Any]) -> Sample | None:
    video = interaction.get("output_video")
    if not isinstance(video, dict) or not (video.get("uri") or video.get("data")):
        return None
    return Sample(video.get("uri"), video.get("data"), str(video.get("mime_type") or "video/mp4"))


def _redacted(interaction: Mapping[str, Any]) -> dict[str, Any]:
    raw = dict(interaction)
    video = raw.get("output_video")
    if isinstance(video, dict) and isinstance(video.get("data"), str):
        raw["output_video"] = {**video, "data": f"<{len(video['data'])} base64 chars>"}
    raw.pop("input", None)
    return raw


def _usage(interaction: Mapping[str, Any]) -> Usage | None:
    usage = interaction.get("usage")
    if not isinstance(usage, dict):
        return None
    tokens = usage.get("total_output_tokens")
    return Usage(output_tokens=tokens) if isinstance(tokens, int) and tokens >= 0 else None


def read_interaction(interaction: Mapping[str, Any], *, now: float, fallback_model: str = "") -> ProviderJob:
    """An Interaction as a ProviderJob; every status mapped, an unknown one read as still running."""
    native = str(interaction.get("id") or "")
    native_id = native if is_interaction(native) else f"{PREFIX}{native}"
    model = str(interaction.get("model") or fallback_model).removeprefix("models/")
    state = str(interaction.get("status") or "in_progress")
    status, code = STATUSES.get(state, ("in_progress", None))
    created = _parse_time(interaction.get("created"))
    updated = _parse_time(interaction.get("updated"))
    error: VideoError | None = None
    sample = output_sample(interaction)
    previous = interaction.get("previous_interaction_id")
    if status == "completed" and sample is None:
        since = updated if updated is not None else created
        if since is not None and now - since <= EMPTY_COMPLETION_GRACE_S:
            status = "in_progress"
        else:
            status, error = (
                "failed",
                VideoError(
                    code="completed_without_output",
                    message="The interaction completed without a video (checked for "
                    f"{EMPTY_COMPLETION_GRACE_S} s after completion).",
                ),
            )
    elif status == "failed":
        errors = interaction.get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        message = str(first.get("message") or _MESSAGES.get(state) or "The video generation failed.")
        native_code = str(first.get("code") or "") if state == "failed" else ""
        if any(word in native_code.lower() for word in SAFETY_WORDS):
            native_code = "moderation_blocked"
        error = VideoError(code=native_code or str(code), message=message)
    return ProviderJob(
        native_id=native_id,
        status=status,
        model=model,
        progress=100 if status == "completed" else (RUNNING_PROGRESS if status == "in_progress" else 0),
        created_at=int(created) if created is not None else None,
        completed_at=int(updated) if status == "completed" and updated is not None else None,
        error=error,
        outputs=(sample.uri or "inline:0",) if status == "completed" and sample else (),
        usage=_usage(interaction) if status == "completed" else None,
        remixed_from=f"{PREFIX}{previous}" if isinstance(previous, str) and previous else None,
        raw=_redacted(interaction),
    )


class OmniFlows(ABC):
    """Create, retrieve, download, remix and delete of Omni interactions; the subclass supplies where
    the interactions live and how a sample is fetched."""

    name: ClassVar[str]
    service: ClassVar[str]
    clock: Callable[[], float] = staticmethod(time.time)

    @abstractmethod
    def headers(self, creds: Credentials) -> dict[str, str]: ...

    @abstractmethod
    def interactions_url(self, creds: Credentials) -> str:
        """``.../interactions`` for this deployment."""

    @abstractmethod
    def omni_image(self, image: ImageInput, param: str) -> dict[str, str]:
        """An image content block (``type``, ``data``/``uri``, ``mime_type``)."""

    @abstractmethod
    def source_uri(self, source: SourceVideo) -> str | None:
        """Where this service can read ``source`` itself (one of its own outputs), if anywhere."""

    @abstractmethod
    def response_format_extra(self, extra: dict[str, Any]) -> dict[str, Any]:
        """Service-specific ``response_format`` fields (delivery and where to); may consume (pop) the
        ``extra_body`` keys that choose them."""

    @abstractmethod
    def omni_sample_call(self, uri: str, creds: Credentials) -> HttpCall: ...

    # ---- bodies -------------------------------------------------------------------------------

    def omni_body(self, req: VideoRequest, spec: ModelSpec | None, creds: Credentials) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [{"type": "text", "text": req.prompt}]
        task = "text_to_video"
        if req.input_reference is not None:
            parts.append(self.omni_image(req.input_reference, "input_reference"))
            task = "image_to_video"
        if req.last_frame is not None:
            parts.append(self.omni_image(req.last_frame, "last_frame"))
            task = "image_to_video"
        if req.reference_images:
            if req.input_reference is not None:
                raise BadRequestError(
                    "Gemini Omni takes either input_reference (image_to_video) or reference_images "
                    "(reference_to_video), not both.",
                    param="reference_images",
                )
            parts.extend(self.omni_image(img, "reference_images") for img in req.reference_images)
            task = "reference_to_video"
        if req.reference_videos:
            if req.input_reference is not None or req.last_frame is not None:
                raise BadRequestError(
                    "Gemini Omni takes reference_videos with reference_images (reference_to_video), not "
                    "with input_reference or last_frame.",
                    param="reference_videos",
                )
            if len(req.reference_videos) > MAX_REFERENCE_VIDEOS:
                raise BadRequestError(
                    f"Gemini Omni takes at most {MAX_REFERENCE_VIDEOS} reference_videos, got "
                    f"{len(req.reference_videos)}.",
                    param="reference_videos",
                )
            parts.extend(
                omni_video_block(video, self.source_uri(video), "reference_videos", self.service)
                for video in req.reference_videos
            )
            task = "reference_to_video"
        previous: str | None = None
        if req.task != "generate":
            task, previous = self._source_input(req, parts)
        generation: dict[str, Any] = {"video_config": {"task": task}}
        if req.seed is not None:
            generation["seed"] = req.seed
        body: dict[str, Any] = {
            "model": req.model.rsplit("/", 1)[-1].removeprefix("models/"),
            # google-genai 3.x sends a content list as one ``user_input`` step; so does the adapter.
            "input": [{"type": "user_input", "content": parts}] if len(parts) > 1 else req.prompt,
            "response_modalities": ["video"],
            "generation_config": generation,
            "background": True,
        }
        if previous is not None:
            body["previous_interaction_id"] = previous
        check_extra(req.extra_body, {**OMNI_RESERVED, **OMNI_UNFOLLOWABLE})
        extra = dict(req.extra_body)
        body["response_format"] = {
            "type": "video",
            "aspect_ratio": req.aspect_ratio,
            "resolution": req.resolution,
            "duration": f"{req.seconds}s",
            **self.response_format_extra(extra),
        }
        for key, value in extra.items():
            refuse_overlap({key: value}, body)
            body[key] = value
        return body

    def _source_input(self, req: VideoRequest, parts: list[dict[str, Any]]) -> tuple[str, str | None]:
        """An edit or extension: the source interaction (``previous_interaction_id``) when the source
        ran on this deployment, else the source video as an input block; (task, previous id)."""
        source = req.source_video
        if source is None:
            raise BadRequestError(f"A Gemini Omni {req.task} needs the source video.", param="video")
        given = [
            name
            for name, value in (
                ("input_reference", req.input_reference),
                ("last_frame", req.last_frame),
                ("reference_images", req.reference_images),
                ("reference_videos", req.reference_videos),
            )
            if value
        ]
        if given:
            raise BadRequestError(
                f"A Gemini Omni {req.task} takes the prompt and the video only, not {given[0]}.",
                param=given[0],
            )
        if source.native_id is not None and is_interaction(source.native_id):
            return req.task, source.native_id[len(PREFIX) :]
        parts.append(omni_video_block(source, self.source_uri(source), "video", self.service))
        return req.task, None

    def interaction_url(self, native_id: str, creds: Credentials, suffix: str = "") -> str:
        if (
            not is_interaction(native_id)
            or not native_id[len(PREFIX) :].replace("-", "").replace("_", "").isalnum()
        ):
            raise BadRequestError(
                f"Invalid interaction id '{native_id[:200]}': expected 'interactions/ID'.", param="video_id"
            )
        return f"{self.interactions_url(creds)}/{native_id[len(PREFIX) :]}{suffix}"

    def _read(self, body: Mapping[str, Any], fallback_model: str = "") -> ProviderJob:
        return read_interaction(body, now=self.clock(), fallback_model=fallback_model)

    # ---- flows --------------------------------------------------------------------------------

    def omni_create(self, req: VideoRequest, spec: ModelSpec | None, creds: Credentials) -> Flow[ProviderJob]:
        body = self.omni_body(req, spec, creds)
        reply = yield HttpCall(
            "POST", self.interactions_url(creds), headers=self.headers(creds), json=body, retry_safe=False
        )
        job = self._read(json_object(reply), fallback_model=body["model"])
        if job.native_id == PREFIX:
            raise APIError(f"{self.service} answered the create without an interaction id.", status_code=502)
        return _as_created(job, req.prompt, req.size, str(req.seconds))

    def omni_retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield HttpCall("GET", self.interaction_url(native_id, creds), headers=self.headers(creds))
        return self._read(json_object(reply))

    def omni_download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        if variant != "video":
            raise invalid_value("variant", variant, ["video"])
        reply = yield HttpCall("GET", self.interaction_url(native_id, creds), headers=self.headers(creds))
        body = json_object(reply)
        job = self._read(body)
        sample = output_sample(body)
        if job.status != "completed" or sample is None:
            reason = f": {job.error.message}" if job.error else ""
            raise BadRequestError(
                f"Video is not ready for download: status is '{job.status}'{reason}",
                code="video_not_ready",
                provider=self.name,
            )
        if sample.data_b64 is not None:
            return Download(media_type=sample.mime_type, data=decode_inline(sample))
        assert sample.uri is not None
        return Download(media_type=sample.mime_type, call=self.omni_sample_call(sample.uri, creds))

    def omni_remix(self, native_id: str, prompt: str, creds: Credentials) -> Flow[ProviderJob]:
        """An edit of a finished interaction (``previous_interaction_id``), same model and format."""
        reply = yield HttpCall("GET", self.interaction_url(native_id, creds), headers=self.headers(creds))
        source = json_object(reply)
        model = str(source.get("model") or "").removeprefix("models/")
        if not model:
            raise APIError(f"{self.service} returned an interaction without its model.", status_code=502)
        body: dict[str, Any] = {
            "model": model,
            "input": prompt,
            "response_modalities": ["video"],
            "previous_interaction_id": native_id[len(PREFIX) :],
            "generation_config": {"video_config": {"task": "edit"}},
            "background": True,
        }
        fmt = source.get("response_format")
        if isinstance(fmt, dict):
            body["response_format"] = dict(fmt)
        created = yield HttpCall(
            "POST", self.interactions_url(creds), headers=self.headers(creds), json=body, retry_safe=False
        )
        job = self._read(json_object(created), fallback_model=model)
        return _as_created(job, prompt, None, None, remixed_from=native_id)

    def omni_delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        """Cancel a running interaction, then delete it (a missing one is already gone)."""
        try:
            reply = yield HttpCall("GET", self.interaction_url(native_id, creds), headers=self.headers(creds))
            if str(json_object(reply).get("status")) not in TERMINAL:
                yield HttpCall(
                    "POST", self.interaction_url(native_id, creds, "/cancel"), headers=self.headers(creds)
                )
            yield HttpCall("DELETE", self.interaction_url(native_id, creds), headers=self.headers(creds))
        except NotFoundError:
            return False
        return True


def _as_created(
    job: ProviderJob, prompt: str, size: str | None, seconds: str | None, remixed_from: str | None = None
) -> ProviderJob:
    status: VideoStatus = "queued" if job.status == "in_progress" else job.status
    return replace(
        job,
        status=status,
        progress=0 if status == "queued" else job.progress,
        prompt=prompt,
        size=size or job.size,
        seconds=seconds or job.seconds,
        remixed_from=remixed_from or job.remixed_from,
    )
