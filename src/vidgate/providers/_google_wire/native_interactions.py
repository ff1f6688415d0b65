"""The Interactions API side of the Google pass-through codec: an Interactions create checked against the
catalogue (in the Interactions API's field names), and stored jobs rendered as Interactions.

Pure (no I/O), like ``native``: the gateway loads what a rendering needs (inline video bytes) or an
edit's price (its source's length) and calls these. The client sees the gateway's ids only: an
interaction's ``id`` is its video id (the same job is ``GET /v1/videos/{id}`` for the same key) and
``previous_interaction_id`` the earlier job's video id.

Statuses: a running job is ``queued``/``in_progress``; a completed one ``completed`` with
``output_video`` and the provider's ``usage``; a failed one keeps the Interaction status it ended in
(``cancelled``, ``incomplete``, ``budget_exceeded``, ...; ``omni.STATUSES`` maps them to error codes),
else ``failed`` with ``errors`` (e.g. ``completed_without_output`` after the grace period).

Follow-ups are priced as the provider bills them (the emulator's model): an ``edit`` at its source's
whole clip, whatever ``duration`` says (so a different ``response_format.duration`` is refused rather
than billed unasked); an ``extend`` at the seconds it adds; without ``response_format``, at the source's
format as the provider keeps it (what the API reuses), not at the source's recorded seconds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, cast

from vidgate.catalog import ModelSpec, aspect_ratio, validate
from vidgate.catalog.mp4 import probe
from vidgate.catalog.tasks import MAX_SOURCE_SECONDS
from vidgate.errors import BadRequestError
from vidgate.providers._google_wire.interaction_bodies import (
    FOLLOW_UP_TASKS,
    MAX_REFERENCE_IMAGES,
    InteractionBody,
)
from vidgate.providers._google_wire.omni import STATUSES, is_omni
from vidgate.types import SourceVideo, VideoRequest, VideoTask

if TYPE_CHECKING:  # ``native`` imports this module (its codec renders Interactions with it)
    from vidgate.providers._google_wire.native import StoredJob

# Forwarded as sent, so only the plain forms ("8s", "8") whose meaning no parser can read otherwise:
# ASCII digits (``\d`` takes "٨"), no padding, nothing after (``$`` lets "8s\n" through).
_DURATION = re.compile(r"([0-9]{1,4})s?")
_FIELD = {
    "prompt": "input",
    "seconds": "response_format.duration",
    "size": "response_format.aspect_ratio",
    "input_reference": "input",
    "last_frame": "input",
    "reference_images": "input",
    "reference_videos": "input",
    "seed": "generation_config.seed",
}
# A failed job's error code -> the Interaction status it ended in (the inverse of ``omni.STATUSES``).
_ENDED_AS = {code: status for status, (mapped, code) in STATUSES.items() if mapped == "failed" and code}
_ENDED_AS.pop("generation_failed", None)
_GENERATING_FEATURE = {"edit": ("remix", "edit"), "extend": ("extend",)}


def _invalid(message: str, field: str) -> BadRequestError:
    return BadRequestError(message, param=field, code="invalid_argument")


def _seconds(spec: ModelSpec, value: object, size: str, *, extend: bool = False) -> int | None:
    """The duration asked for, one the row allows at ``size`` (an extension: one it may add, the row's
    ``extend_seconds`` when it has them: Omni renders up to 15 s but extends by at most 10)."""
    if value is None:
        return None
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise _invalid(
            f"Invalid value at 'response_format.duration' ({value!r}): expected seconds such as \"8s\".",
            "response_format.duration",
        )
    seconds = int(match.group(1))
    allowed = spec.extend_seconds if extend and spec.extend_seconds else spec.allowed_seconds(size)
    if seconds not in allowed:
        what = "for an extension" if extend else f"at {spec.tier(size)}"
        raise _invalid(
            f"`response_format.duration` {seconds}s isn't supported by {spec.model} {what}. "
            f"Supported values are: {', '.join(f'{s}s' for s in allowed)}.",
            "response_format.duration",
        )
    return seconds


def _size(spec: ModelSpec, aspect: object, resolution: object, default: str) -> str:
    """The catalogue size for ``aspect_ratio`` + ``resolution`` (either absent: ``default``'s)."""
    for field, value in (("aspect_ratio", aspect), ("resolution", resolution)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise _invalid(
                f"`response_format.{field}` must be a non-empty string (leave it out for the default).",
                f"response_format.{field}",
            )
    wanted_aspect = str(aspect or aspect_ratio(default))
    wanted_tier = str(resolution or spec.tier(default)).lower()
    for size, tier in spec.sizes.items():
        if tier == wanted_tier and aspect_ratio(size) == wanted_aspect:
            return size
    aspects = sorted({aspect_ratio(s) for s in spec.sizes})
    if wanted_aspect not in aspects:
        raise _invalid(
            f"`response_format.aspect_ratio` {wanted_aspect!r} isn't supported by {spec.model}. Supported "
            f"values are: {', '.join(aspects)}.",
            "response_format.aspect_ratio",
        )
    tiers = sorted({t for s, t in spec.sizes.items() if aspect_ratio(s) == wanted_aspect})
    raise _invalid(
        f"`response_format.resolution` {wanted_tier!r} isn't supported by {spec.model} with aspect ratio "
        f"{wanted_aspect}. Supported values are: {', '.join(tiers)}.",
        "response_format.resolution",
    )


def _task(spec: ModelSpec, body: InteractionBody) -> str:
    """The task the body asks for, checked against its inputs and the model's features."""
    task = body.task
    if body.previous_interaction_id is not None:
        task = task or "edit"
        if task not in FOLLOW_UP_TASKS:
            raise _invalid(
                f"`previous_interaction_id` goes with the task edit or extend, not {task}.",
                "generation_config.video_config.task",
            )
        if not any(spec.has(feature) for feature in _GENERATING_FEATURE[task]):
            raise _invalid(
                f"The task {task} isn't supported by {spec.model} through vidgate.",
                "generation_config.video_config.task",
            )
        if body.images or body.videos:
            kind = "images" if body.images else "videos"
            raise _invalid(
                f"Input {kind} aren't supported with the task {task} through vidgate: it continues "
                "`previous_interaction_id` (or use POST /v1/videos/edits|extensions with the video).",
                "input",
            )
        return task
    if task in FOLLOW_UP_TASKS:
        if len(body.videos) != 1 or body.images:
            raise _invalid(
                f"The task {task} needs `previous_interaction_id`, or exactly one input video (the source) "
                "and no images.",
                "previous_interaction_id",
            )
        if not any(spec.has(feature) for feature in _GENERATING_FEATURE[task]):
            raise _invalid(
                f"The task {task} isn't supported by {spec.model} through vidgate.",
                "generation_config.video_config.task",
            )
        return task
    if task is None and (body.images or body.videos):
        raise _invalid(
            "`generation_config.video_config.task` is required with input images or videos: image_to_video "
            "(first, and optionally last, frame) or reference_to_video (up to 3 reference images and "
            "reference videos).",
            "generation_config.video_config.task",
        )
    task = task or "text_to_video"
    if body.videos and task != "reference_to_video":
        raise _invalid(
            f"Input videos go with the task reference_to_video through vidgate, not {task}.", "input"
        )
    if task == "reference_to_video" and not body.images and body.videos:
        return task  # reference videos only: their count is the row's to check (validate)
    limit = {"text_to_video": 0, "image_to_video": 2, "reference_to_video": MAX_REFERENCE_IMAGES}[task]
    if len(body.images) > limit or (task != "text_to_video" and not body.images):
        raise _invalid(
            f"The task {task} takes {'no' if not limit else f'1 to {limit}'} input image"
            f"{'s' if limit != 1 else ''}; got {len(body.images)}.",
            "input",
        )
    return task


def _renamed(err: BadRequestError) -> BadRequestError:
    """A catalogue error, its param renamed to the Interactions field the client sent."""
    field = _FIELD.get(err.param or "", err.param or "")
    message = err.message.replace(f"'{err.param}'", f"`{field}`") if err.param else err.message
    return BadRequestError(message, param=field or None, code="invalid_argument")


class PreviousJob(Protocol):
    """What the codec reads of the stored interaction a follow-up continues."""

    @property
    def size(self) -> str: ...
    @property
    def seconds(self) -> str: ...
    @property
    def native_payload(self) -> Mapping[str, Any]: ...


def _follow_up_duration(body: InteractionBody, previous: PreviousJob | None) -> object:
    """The ``duration`` the provider uses: the body's; a follow-up without ``response_format`` reuses
    its source's format as the provider keeps it (absent there: the model's default), not the source's
    length (an edit's is its source's; an extension's only what it added). The record's seconds stand in
    when the provider's reply holds no format."""
    if previous is None or body.has_format:
        return body.duration
    kept = previous.native_payload.get("response_format")
    if isinstance(kept, Mapping):
        return kept.get("duration")
    return previous.seconds


def _edit_seconds(body: InteractionBody, length: int | None) -> int:
    """An edit keeps its source's length, which the provider makes and bills whatever ``duration``
    says: a ``duration`` that differs is refused, so nobody is billed for a length they did not ask for."""
    if length is None or not 1 <= length <= MAX_SOURCE_SECONDS:
        raise _invalid(
            f"The video of `previous_interaction_id` must be 1 to {MAX_SOURCE_SECONDS} seconds long to be "
            "edited (an edit is priced at its source's length).",
            "previous_interaction_id",
        )
    sent = body.duration
    if sent is not None:
        readable = isinstance(sent, (str, int)) and not isinstance(sent, bool)
        match = _DURATION.fullmatch(str(sent)) if readable else None
        if match is None or int(match.group(1)) != length:
            raise _invalid(
                f"An edit keeps its source video's length ({length}s), which the provider bills: leave "
                f'`response_format.duration` out or send "{length}s".',
                "response_format.duration",
            )
    return length


def check_interaction(
    spec: ModelSpec,
    body: InteractionBody,
    *,
    previous: PreviousJob | None = None,
    clip_seconds: int | None = None,
) -> VideoRequest:
    """The body as the catalogue's VideoRequest (what is priced), or a 400 naming the Interactions
    field. ``previous``: the interaction ``previous_interaction_id`` continues; a follow-up without
    ``response_format`` keeps its format (size and duration), as the API does. The task ``edit`` keeps
    its source's length, so a follow-up edit is priced at ``clip_seconds`` (the source's whole clip, read
    by the gateway); an extension at the seconds it adds; a follow-up naming no task at the longer of
    its duration and ``clip_seconds`` (the API may edit, the emulator makes a clip of the duration)."""
    if not is_omni(spec.model):
        raise _invalid(
            f"`model` {spec.model} isn't served by the Interactions API: use its :predictLongRunning route.",
            "model",
        )
    task = _task(spec, body)
    size = _size(spec, body.aspect_ratio, body.resolution, previous.size if previous else spec.default_size)
    seed = body.seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise _invalid(
            f"Invalid value at 'generation_config.seed' (TYPE_INT32), {seed!r}", "generation_config.seed"
        )
    images = body.images
    source: SourceVideo | None = None
    length = clip_seconds
    if task in FOLLOW_UP_TASKS and body.previous_interaction_id is None:
        source, length = _input_source(task, body.videos[0])
    edit = body.task == "edit"
    seconds = (
        None if edit else _seconds(spec, _follow_up_duration(body, previous), size, extend=task == "extend")
    )
    priced = _edit_seconds(body, length) if edit else None
    try:
        req = validate(
            spec,
            prompt=body.prompt,
            seconds=seconds,
            size=size,
            input_reference=images[0] if task == "image_to_video" else None,
            last_frame=images[1] if task == "image_to_video" and len(images) > 1 else None,
            reference_images=images if task == "reference_to_video" else (),
            reference_videos=body.videos if task == "reference_to_video" else (),
            seed=seed,
        )
    except BadRequestError as exc:
        raise _renamed(exc) from exc
    if body.task is None and body.previous_interaction_id is not None and length is not None:
        # No task: the API calls this a conversational edit, which may keep the source's length, while
        # the emulator makes a clip of the duration asked for. The token bound covers the longer; the
        # reported usage settles what was made.
        return replace(req, seconds=max(req.seconds, length))
    if body.task not in FOLLOW_UP_TASKS:
        return req
    seconds = priced if priced is not None else req.seconds
    return replace(req, seconds=seconds, task=cast(VideoTask, task), source_video=source)


def _input_source(task: str, video: SourceVideo) -> tuple[SourceVideo, int | None]:
    """The source of an edit or extension sent as an input block, and the edit's length. An extension
    is priced at its requested duration; an edit keeps the source's length, which only its bytes tell
    (a URL is never fetched by the gateway), so an edit's source must come as ``data``."""
    if task != "edit":
        return video, None
    if video.data is None:
        raise _invalid(
            "An edit of an input video is priced at the video's length, which the gateway reads from its "
            "bytes: send the video as `data` (or continue `previous_interaction_id`).",
            "input",
        )
    info = probe(video.data)
    if info is None:
        raise _invalid("The input video is not an MP4 with a readable duration.", "input")
    length = info.whole_seconds
    if length > MAX_SOURCE_SECONDS:
        raise _invalid(f"The input video is longer than {MAX_SOURCE_SECONDS} seconds.", "input")
    return replace(video, seconds=length, size=info.size), length


# ---- jobs as Interactions -------------------------------------------------------------------------


def _iso(epoch: int | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stored_output(job: StoredJob) -> dict[str, Any] | None:
    """The provider's ``output_video`` as stored (inline ``data`` replaced by a placeholder)."""
    video = job.native_payload.get("output_video")
    return dict(video) if isinstance(video, dict) else None


def output_is_inline(job: StoredJob) -> bool:
    """Whether a completed job's video came inline (the rendering then needs its bytes)."""
    video = stored_output(job)
    return video is None or not isinstance(video.get("uri"), str) or not video["uri"]


def inline_video(data_b64: str, mime_type: str) -> dict[str, Any]:
    return {"type": "video", "data": data_b64, "mime_type": mime_type}


def uri_video(job: StoredJob, gateway_uri: str | None) -> dict[str, Any]:
    """A completed job's ``uri`` output: ``gateway_uri`` (a file the gateway serves in the provider's
    stead), else the provider's URI as it is (a ``gs://`` object the client's bucket holds)."""
    video = stored_output(job) or {}
    mime = str(video.get("mime_type") or "video/mp4")
    return {"type": "video", "uri": gateway_uri or str(video.get("uri") or ""), "mime_type": mime}


def interaction(
    job: StoredJob,
    *,
    model: str,
    previous_interaction_id: str | None,
    created_at: int,
    updated_at: int | None,
    output_video: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A job as an Interaction with the gateway's ids (``output_video``: given for a completed job)."""
    payload = job.native_payload
    out: dict[str, Any] = {"id": job.id, "model": model, "created": _iso(created_at)}
    out["updated"] = _iso(updated_at or created_at)
    for key in ("response_format", "generation_config", "response_modalities"):
        if isinstance(payload.get(key), (dict, list)):
            out[key] = payload[key]
    if previous_interaction_id is not None:
        out["previous_interaction_id"] = previous_interaction_id
    if job.status in ("queued", "in_progress"):
        out["status"] = job.status
    elif job.status == "completed":
        out["status"] = "completed"
        if output_video is not None:
            out["output_video"] = output_video
        if isinstance(payload.get("usage"), dict):
            out["usage"] = payload["usage"]
    else:
        ended = _ENDED_AS.get(job.error_code or "")
        out["status"] = ended or "failed"
        if ended is None:
            message = job.error_message or "The video generation failed."
            out["errors"] = [{"code": job.error_code or "generation_failed", "message": message}]
    return out
