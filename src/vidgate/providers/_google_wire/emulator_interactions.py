"""Emulator of the Interactions API for Gemini Omni, mounted by the Gemini API and Vertex emulators.

- ``POST {root}/interactions`` (``model``, ``input`` text or content blocks, ``response_format``,
  ``generation_config.video_config.task``, ``previous_interaction_id``, ``background``) -> the
  Interaction (``id`` ``v1_...``, ``status`` ``in_progress``). Without ``background: true`` the call
  blocks until the video is done, as the real API does.
- ``GET {root}/interactions/{id}``; ``POST .../{id}/cancel``; ``DELETE .../{id}`` (``{}``).
- Video input blocks (``{"type": "video", "data" | "uri"[, "mime_type"]}``): the source of an ``edit``
  or ``extend`` (instead of ``previous_interaction_id``; a ``uri`` must be an output of this emulator), or
  up to 3 reference videos of ``reference_to_video``, on rows whose features allow it (there also an
  https URL of any other host: accepted unread, as the emulator makes no network calls). An edit keeps the
  source's length; an extension adds ``duration`` to it (at most 40 s in all) and is billed for the
  added seconds only.
- Status ``queued`` -> ``in_progress`` -> ``completed`` over ``processing_seconds``; ``[fault:fail]`` ->
  ``failed`` with ``errors``; ``[fault:filtered]`` -> ``failed`` with a safety error; cancel ->
  ``cancelled``. The other shared fault tokens act on create, poll and download as in the Veo routes.
- A completed interaction reports ``usage.total_output_tokens`` = 5,760 tokens per second of video (the
  emulator's own figure: 24 fps x 240 tokens) and ``output_video``: a Gemini file ``uri`` (downloaded
  through the Veo file route) or inline ``data`` base64.
- Vertex quirk (a known bug): the first read after completion answers ``completed`` with no output and
  no usage; the next read has them.

An interaction belongs to the caller who created it (API key, or Vertex project); others get 404.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vidgate.catalog import ModelSpec
from vidgate.emulators.common import EmuJob, PackageModels
from vidgate.emulators.faults import FaultBook
from vidgate.providers._google_wire.emulator_common import (
    Operation,
    VeoEmulator,
    create_fault,
    invalid,
    maybe_slow,
    mp4_seconds,
    not_found,
    operation_id,
    read_json,
    render_sample,
)

EMULATED_TOKENS_PER_SECOND = 5760
TASKS = frozenset({"text_to_video", "image_to_video", "reference_to_video", "edit", "extend", "upscale"})
ASPECTS = {"16:9": (16, 9), "9:16": (9, 16)}
HEIGHTS = {"360p": 360, "720p": 720, "1080p": 1080, "4k": 2160}
MAX_IMAGES = 3
MAX_VIDEOS = 3
MAX_EXTENDED_SECONDS = 40  # Omni 1.1: "up to 40 s cumulative" (reference §4.1)
_FILE_ID = re.compile(r"/files/([a-z0-9]+)")
_DURATION = re.compile(r"^(\d{1,3})s?$")


@dataclass
class Interaction:
    id: str
    owner: str
    model: str
    job: EmuJob
    response_format: dict[str, Any]
    generation_config: dict[str, Any]
    previous: str | None
    delivery: str
    file_id: str
    cancelled_at: float | None = None
    reads_after_completion: int = 0
    billed_seconds: int | None = None  # an extension bills the added seconds, not the whole clip
    extra: dict[str, Any] = field(default_factory=dict)


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text_and_images(raw: Any) -> tuple[str, list[bytes], list[dict[str, Any]]]:
    """The prompt, the decoded images and the video blocks of ``input``."""
    if isinstance(raw, str):
        return raw, [], []
    if not isinstance(raw, list):
        raise invalid("Invalid value at 'input': expected a string or a list of content blocks.")
    if raw and all(isinstance(step, dict) and step.get("type") == "user_input" for step in raw):
        # google-genai 3.x sends a content list as ``[{"type": "user_input", "content": [...]}]``
        raw = [block for step in raw for block in (step.get("content") or [])]
    texts: list[str] = []
    images: list[bytes] = []
    videos: list[dict[str, Any]] = []
    for i, block in enumerate(raw):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "video" and (isinstance(block.get("data"), str) or isinstance(block.get("uri"), str)):
            videos.append({**block, "index": i})
        elif kind == "image" and isinstance(block.get("data"), str):
            try:
                images.append(base64.b64decode(block["data"], validate=True))
            except (binascii.Error, ValueError) as exc:
                raise invalid(f"Invalid value at 'input[{i}].data': not base64.") from exc
        elif kind == "image" and isinstance(block.get("uri"), str):
            images.append(b"")
        else:
            raise invalid(f"Invalid value at 'input[{i}]': unsupported content block.")
    return "\n".join(texts), images, videos


def _seconds(spec: ModelSpec, raw: object) -> int:
    match = _DURATION.match(str(raw)) if raw is not None else None
    if raw is None:
        return spec.default_seconds
    if match is None or int(match.group(1)) not in spec.seconds:
        raise invalid(
            f"Invalid value at 'response_format.duration' ({raw}): {spec.model} supports "
            f"{min(spec.seconds)}s to {max(spec.seconds)}s."
        )
    return int(match.group(1))


def _size(spec: ModelSpec, aspect: object, resolution: object) -> tuple[int, int]:
    aspect = aspect or "16:9"
    resolution = resolution or "720p"
    if aspect not in ASPECTS:
        raise invalid(f"Invalid value at 'response_format.aspect_ratio' ({aspect}): use 16:9 or 9:16.")
    tiers = set(spec.sizes.values())
    if resolution not in HEIGHTS or resolution not in tiers:
        raise invalid(
            f"Invalid value at 'response_format.resolution' ({resolution}): {spec.model} supports "
            f"{', '.join(sorted(tiers))}."
        )
    short = HEIGHTS[str(resolution)]
    long_side = short * 16 // 9
    return (long_side, short) if aspect == "16:9" else (short, long_side)


class InteractionsEmulator:
    """The Interactions routes on top of a Veo emulator (its settings, faults and file store)."""

    def __init__(
        self,
        veo: VeoEmulator,
        models: PackageModels,
        provider: str,
        *,
        vertex: bool,
        authenticate: Callable[[Request], str],
        file_uri: Callable[[str], str],
        output_ref: Callable[[dict[str, Any]], str],
    ) -> None:
        self.veo = veo
        self.models = models
        self.provider = provider
        self.vertex = vertex
        self.authenticate = authenticate
        self.file_uri = file_uri  # the output reference -> the URI put in ``output_video.uri``
        self.output_ref = output_ref  # a new output's reference (a Gemini file id, a gs:// object)
        self.items: dict[str, Interaction] = {}

    # ---- create -------------------------------------------------------------------------------

    def _spec(self, model: object) -> ModelSpec:
        name = str(model or "").removeprefix("models/")
        spec = self.models.find(f"{self.provider}/{name}") if name else None
        if spec is None or spec.price_per_output_token is None:
            raise not_found(f"Model models/{name} is not found or does not support the Interactions API.")
        return spec

    def _owned(self, request: Request, owner: str) -> Interaction:
        item = self.items.get(request.path_params["interaction_id"])
        if item is None or item.owner != owner:
            raise not_found(f"Interaction {request.path_params['interaction_id']} not found.")
        return item

    async def create(self, request: Request) -> Response:
        owner = self.authenticate(request)
        body = await read_json(request)
        spec = self._spec(body.get("model"))
        prompt, images, videos = _text_and_images(body.get("input"))
        if not prompt.strip():
            raise invalid("Invalid value at 'input': a text prompt is required.")
        if len(images) > MAX_IMAGES + 1:
            raise invalid(f"Invalid value at 'input': at most {MAX_IMAGES} reference images.")
        previous_id = body.get("previous_interaction_id")
        previous: Interaction | None = None
        if previous_id is not None:
            previous = self.items.get(str(previous_id))
            if previous is None or previous.owner != owner:
                raise not_found(f"Interaction {previous_id} not found.")
            if previous.job.state()[0] != "completed" or previous.job.outcome != "ok":
                raise invalid(f"Interaction {previous_id} has no video to continue from.")
        fmt = body.get("response_format")
        if fmt is None and previous is not None:
            fmt = dict(previous.response_format)
        fmt = dict(fmt) if isinstance(fmt, dict) else {}
        if fmt.get("type", "video") != "video":
            raise invalid("Invalid value at 'response_format.type': this model outputs video.")
        config = body.get("generation_config") or {}
        if not isinstance(config, dict):
            raise invalid("Invalid value at 'generation_config'.")
        task = (config.get("video_config") or {}).get("task")
        if task is not None and task not in TASKS:
            raise invalid(f"Invalid value at 'generation_config.video_config.task' ({task}).")
        source_seconds = self._video_inputs(spec, task, videos, previous, owner)
        delivery = str(fmt.get("delivery") or "inline")
        if delivery not in ("inline", "uri"):
            raise invalid(f"Invalid value at 'response_format.delivery' ({delivery}): use inline or uri.")
        if delivery == "uri" and self.vertex and not str(fmt.get("gcs_uri") or "").startswith("gs://"):
            raise invalid("response_format.gcs_uri (gs://...) is required for uri delivery on Vertex AI.")
        billed: int | None = None
        if task == "edit" and source_seconds is not None:
            seconds = source_seconds  # an edit keeps the source's length, whatever duration says
        else:
            seconds = _seconds(spec, fmt.get("duration"))
        if task == "extend" and source_seconds is not None:
            if source_seconds + seconds > MAX_EXTENDED_SECONDS:
                raise invalid(
                    f"Invalid value at 'response_format.duration' ({seconds}s): an extended video may be "
                    f"at most {MAX_EXTENDED_SECONDS}s in all, and the source is {source_seconds}s."
                )
            seconds, billed = source_seconds + seconds, seconds
        width, height = _size(spec, fmt.get("aspect_ratio"), fmt.get("resolution"))
        plan = self.veo.faults.plan(prompt)
        await maybe_slow(self.veo.settings, plan)
        fault = create_fault(self.veo.faults, prompt, plan)
        if fault is not None:
            raise fault
        seed = config.get("seed")
        job = EmuJob(
            id="v1_" + operation_id(20),
            prompt=prompt,
            model=spec.model,
            seconds=seconds,
            width=width,
            height=height,
            processing_seconds=self.veo.settings.processing_seconds,
            outcome=FaultBook.outcome(plan),
            seed=seed if isinstance(seed, int) else 0,
            image=images[0] if images and images[0] else None,
            plan=plan,
        )
        item = Interaction(
            id=job.id,
            owner=owner,
            model=spec.model,
            job=job,
            response_format={"type": "video", **fmt},
            generation_config=config,
            previous=previous.id if previous else None,
            delivery=delivery,
            file_id=self.output_ref(fmt),
            billed_seconds=billed,
        )
        self.items[item.id] = item
        op = Operation(
            f"interactions/{item.id}", job=job, owner=owner, sample_count=1, outputs=[item.file_id]
        )
        self.veo.ops.add(op)
        if body.get("background") is not True:
            await asyncio.sleep(max(0.0, self.veo.settings.processing_seconds))
        return JSONResponse(await self.render(item))

    def _video_inputs(
        self,
        spec: ModelSpec,
        task: object,
        videos: list[dict[str, Any]],
        previous: Interaction | None,
        owner: str,
    ) -> int | None:
        """Check the video inputs against the task and the row; the source's length for an edit or
        extension (None when there is no source)."""
        if task in ("edit", "extend"):
            if not spec.has(str(task)):
                raise invalid(f"Task '{task}' isn't supported by {spec.model}.")
            if (previous is None) == (len(videos) != 1):
                raise invalid(f"Task '{task}' needs previous_interaction_id or exactly one input video.")
            return previous.job.seconds if previous is not None else self._video_seconds(videos[0], owner)
        if videos:
            if task != "reference_to_video" or not spec.has("reference_videos"):
                raise invalid(
                    f"Invalid value at 'input[{videos[0]['index']}]': video input needs task "
                    "edit, extend or reference_to_video on a model that takes it."
                )
            if len(videos) > MAX_VIDEOS:
                raise invalid(f"Invalid value at 'input': at most {MAX_VIDEOS} reference videos.")
            for video in videos:
                self._reference_video(video, owner)
        return None

    def _reference_video(self, block: dict[str, Any], owner: str) -> None:
        """A reference video: inline data or an output of this emulator (checked as a source is), or an
        https URL of elsewhere, which the real service fetches and the emulator accepts unread (it makes
        no network calls)."""
        uri = block.get("uri")
        if isinstance(uri, str) and uri.startswith("https://") and not self._is_own(uri):
            return
        self._video_seconds(block, owner)

    def _is_own(self, uri: str) -> bool:
        match = _FILE_ID.search(uri)
        return bool(self.veo.ops.output(uri) or (self.veo.ops.output(match.group(1)) if match else None))

    def _video_seconds(self, block: dict[str, Any], owner: str) -> int:
        """The length of a video block: decoded inline data, or an output of this emulator by URI."""
        where = f"input[{block['index']}]"
        if isinstance(block.get("data"), str):
            try:
                data = base64.b64decode(block["data"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise invalid(f"Invalid value at '{where}.data': not base64.") from exc
            return mp4_seconds(data, where)
        uri = str(block["uri"])
        match = _FILE_ID.search(uri)
        found = self.veo.ops.output(uri) or (self.veo.ops.output(match.group(1)) if match else None)
        if found is None or found[0].owner != owner:
            raise invalid(f"Invalid value at '{where}.uri': {uri[:200]} cannot be read.")
        op = found[0]
        if op.job.state()[0] != "completed" or op.job.outcome != "ok":
            raise invalid(f"Invalid value at '{where}.uri': {uri[:200]} is not ready.")
        return op.job.seconds

    # ---- read ---------------------------------------------------------------------------------

    async def render(self, item: Interaction) -> dict[str, Any]:
        job = item.job
        status, _progress = job.state()
        out: dict[str, Any] = {
            "id": item.id,
            "model": item.model,
            "created": _iso(job.created_at),
            "updated": _iso(job.created_at),
            "response_format": item.response_format,
            "generation_config": item.generation_config,
        }
        if item.previous:
            out["previous_interaction_id"] = item.previous
        if item.cancelled_at is not None:
            return {**out, "status": "cancelled", "updated": _iso(item.cancelled_at)}
        if status in ("queued", "in_progress"):
            return {**out, "status": status}
        out["updated"] = _iso(job.created_at + job.processing_seconds)
        if job.outcome == "fail":
            error = {"code": "internal", "message": "Video generation failed due to an internal error."}
            return {**out, "status": "failed", "errors": [error]}
        if job.outcome == "filtered":
            error = {"code": "safety", "message": "The video was blocked by safety filters."}
            return {**out, "status": "failed", "errors": [error]}
        item.reads_after_completion += 1
        if self.vertex and item.reads_after_completion == 1:
            return {**out, "status": "completed"}  # the known Vertex bug: no output, no usage yet
        if item.delivery == "uri":
            video: dict[str, Any] = {
                "type": "video",
                "uri": self.file_uri(item.file_id),
                "mime_type": "video/mp4",
            }
        else:
            path = await render_sample(self.veo.settings, job, 0)
            data = await anyio.to_thread.run_sync(path.read_bytes)
            video = {
                "type": "video",
                "data": base64.b64encode(data).decode("ascii"),
                "mime_type": "video/mp4",
            }
        tokens = EMULATED_TOKENS_PER_SECOND * (item.billed_seconds or job.seconds)
        usage = {"total_output_tokens": tokens, "total_tokens": tokens, "total_input_tokens": 0}
        return {**out, "status": "completed", "output_video": video, "usage": usage}

    async def get(self, request: Request) -> Response:
        item = self._owned(request, self.authenticate(request))
        op = self.veo.ops.get(f"interactions/{item.id}")
        assert op is not None
        dropped = await self.veo.poll_faults(op)
        return dropped if dropped is not None else JSONResponse(await self.render(item))

    async def cancel(self, request: Request) -> Response:
        item = self._owned(request, self.authenticate(request))
        if item.job.state()[0] in ("queued", "in_progress") and item.cancelled_at is None:
            item.cancelled_at = dt.datetime.now(dt.UTC).timestamp()
        return JSONResponse(await self.render(item))

    async def delete(self, request: Request) -> Response:
        item = self._owned(request, self.authenticate(request))
        del self.items[item.id]
        return JSONResponse({})


def interaction_routes(emulator: InteractionsEmulator, root: str) -> list[Route]:
    """The four routes under ``root`` (a path ending in ``/interactions``)."""
    return [
        Route(root, emulator.create, methods=["POST"]),
        Route(root + "/{interaction_id}", emulator.get, methods=["GET"]),
        Route(root + "/{interaction_id}", emulator.delete, methods=["DELETE"]),
        Route(root + "/{interaction_id}/cancel", emulator.cancel, methods=["POST"]),
    ]
