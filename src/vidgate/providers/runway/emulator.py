"""Runway's developer API on loopback, for tests and ``vidgate emulate runway``. Imports no adapter code.

What it reproduces: Bearer auth (401) and the required ``X-Runway-Version`` (400 when absent or
unknown); ``POST /v1/text_to_video`` and ``/v1/image_to_video`` validated against this package's rows
and the SDK's per-endpoint rules (gen4_turbo has no text-to-video; gen4.5 text-to-video takes two
ratios); errors as ``{"error": ...}`` (validation adds ``issues``); tasks moving PENDING -> RUNNING
(fractional ``progress``) -> SUCCEEDED | FAILED, THROTTLED while more than ``concurrency`` tasks are
active; ``estimatedCost``/``cost`` in credits; signed output URLs that expire (403 afterwards, a fresh
one on every read); ``DELETE`` cancels or deletes (the task is gone afterwards). Faults: the shared
``[fault:...]`` tokens.

``POST /v1/video_to_video`` (runwayml 5.24.0's ``VideoToVideoCreateParams``) for ``aleph2`` (``videoUri``;
an edit keeping the source's length, at most 30 s; ``ratio`` optional) and ``seedance2_5``
(``promptVideo``; ``mode`` ``edit`` with ``duration: "auto"`` and no ``ratio``, ``extend`` with a
``duration`` added to the source and no ``ratio``, or ``reference`` with ``duration`` and ``ratio``). The
source is an output URL of this emulator or a ``data:video/...;base64`` URI of at most 5 MB; aleph2 is
refused on text- and image-to-video.

``references`` (image references) and ``referenceVideos`` on ``text_to_video`` for the rows that may
offer them (Hailuo3, Seedance 2), checked for shape and count only (the emulator reads no reference).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hashlib
import hmac
import io
import math
import secrets
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import anyio
import av
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from vidgate.catalog import ModelSpec
from vidgate.catalog.ratios import ratio_of
from vidgate.emulators.common import DropResponse, EmulatorSettings, PackageModels, faults_book, key_ok
from vidgate.emulators.faults import FaultBook, parse_faults
from vidgate.render import RenderSpec, render

MODELS_PACKAGE = "vidgate.providers.runway"
VERSION = "2024-11-06"
URL_TTL_SECONDS = 24 * 3600  # the SDK: output URLs "expire within 24-48 hours"
TEXT_TO_VIDEO_RATIOS: dict[str, tuple[str, ...]] = {"gen4.5": ("1280:720", "720:1280")}
NO_TEXT_TO_VIDEO = frozenset({"gen4_turbo", "gemini_omni_flash"})
# ratio = an aspect ratio beside resolution = the tier (runwayml 5.24.0's Hailuo3 params)
ASPECT_AND_RESOLUTION = frozenset({"hailuo3"})
VIDEO_TO_VIDEO = {"aleph2": "videoUri", "seedance2_5": "promptVideo"}  # model -> its source field
MAX_ALEPH_SECONDS = 30
MAX_DATA_URI_BYTES = 5 * 1024 * 1024
MAX_REFERENCE_IMAGES = 9  # "An optional array of image references (up to 9)" (runwayml 5.24.0)
FAILURES: dict[str, tuple[str, str]] = {
    "fail": ("INTERNAL.BAD_OUTPUT.CODE01", "An unexpected error occurred while generating the output."),
    "filtered": ("SAFETY.INPUT.TEXT", "The prompt did not pass our content moderation."),
}


@dataclass
class Task:
    id: str
    model: str
    prompt: str
    duration: int
    width: int
    height: int
    credits: int
    created_at: float
    throttled_for: float
    processing_seconds: float
    plan: dict[str, int]
    image: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def status(self, now: float) -> tuple[str, float]:
        elapsed = now - self.created_at - self.throttled_for
        if elapsed < 0:
            return "THROTTLED", 0.0
        if elapsed >= self.processing_seconds:
            return ("SUCCEEDED" if FaultBook.outcome(self.plan) == "ok" else "FAILED"), 1.0
        if elapsed < self.processing_seconds * 0.1:
            return "PENDING", 0.0
        return "RUNNING", round(elapsed / self.processing_seconds, 3)


class WireError(Exception):
    def __init__(self, status: int, message: str, issues: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.issues = status, message, issues


def invalid(path: str, message: str) -> WireError:
    return WireError(400, "Validation of body failed", [{"path": [path], "message": message}])


def create_app(
    settings: EmulatorSettings | None = None,
    *,
    url_ttl_seconds: float = URL_TTL_SECONDS,
    concurrency: int | None = None,
) -> Starlette:
    """``concurrency``: active tasks beyond it start THROTTLED (None: never throttled)."""
    settings = settings or EmulatorSettings()
    tasks: dict[str, Task] = {}
    faults = faults_book(settings)
    signing_key = secrets.token_bytes(32)
    rows: dict[str, ModelSpec] = {}

    def model_row(name: object) -> ModelSpec:
        if not rows:
            rows.update({spec.model: spec for spec in PackageModels(MODELS_PACKAGE).rows()})
        if not isinstance(name, str) or name not in rows:
            raise invalid("model", f"Invalid enum value. Expected {' | '.join(repr(m) for m in rows)}")
        return rows[name]

    def authenticate(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not key_ok(settings, token.strip()):
            raise WireError(401, "Invalid API key. Check the Authorization header.")
        version = request.headers.get("x-runway-version")
        if version is None:
            raise WireError(400, "The X-Runway-Version header is required. Use '2024-11-06'.")
        if version != VERSION:
            raise WireError(400, f"Invalid X-Runway-Version '{version[:40]}'. Use '2024-11-06'.")

    async def slow(plan: dict[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(settings.slow_seconds)

    def signed_url(request: Request, task: Task) -> str:
        expires = math.ceil(time.time() + url_ttl_seconds)
        sig = hmac.new(signing_key, f"{task.id}:{expires}".encode(), hashlib.sha256).hexdigest()
        return f"{str(request.base_url).rstrip('/')}/_output/{task.id}.mp4?Expires={expires}&Signature={sig}"

    def task_json(request: Request, task: Task) -> dict[str, Any]:
        status, progress = task.status(time.time())
        created = dt.datetime.fromtimestamp(task.created_at, dt.UTC).isoformat().replace("+00:00", "Z")
        out: dict[str, Any] = {"id": task.id, "createdAt": created, "status": status}
        if status in ("PENDING", "THROTTLED", "RUNNING"):
            out["estimatedCost"] = {"credits": task.credits}
        if status == "RUNNING":
            out["progress"] = progress
        if status == "SUCCEEDED":
            out["cost"] = {"credits": task.credits}
            out["output"] = [signed_url(request, task)]
        if status == "FAILED":
            code, message = FAILURES[FaultBook.outcome(task.plan)]
            out.update(cost={"credits": 0}, failure=message, failureCode=code)
        return out

    async def read_body(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise WireError(400, "Request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise WireError(400, "Request body must be a JSON object.")
        return body

    def prompt_image(body: dict[str, Any], row: ModelSpec) -> bytes | None:
        raw = body.get("promptImage")
        if isinstance(raw, str):
            return image_bytes(raw, "promptImage")
        if not isinstance(raw, list) or not raw:
            raise invalid("promptImage", "Expected a URI string or an array of {uri, position}.")
        first: bytes | None = None
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or item.get("position") not in ("first", "last"):
                raise invalid(f"promptImage.{i}", "Expected {uri, position: 'first' | 'last'}.")
            if item["position"] == "last" and not row.has("last_frame"):
                raise invalid(f"promptImage.{i}.position", f"{row.model} takes only a 'first' image.")
            data = image_bytes(item.get("uri"), f"promptImage.{i}.uri")
            if item["position"] == "first":
                first = data
        return first

    def aspect_size(body: dict[str, Any], row: ModelSpec) -> tuple[int, int]:
        """Hailuo3's ``ratio`` (an aspect ratio) and ``resolution`` -> the row's size of that shape."""
        ratio, resolution = body.get("ratio"), body.get("resolution")
        for size, tier in row.sizes.items():
            if ratio_of(size) == ratio and tier == resolution:
                width, height = size.split("x")
                return int(width), int(height)
        shapes = sorted({f"{ratio_of(size)} at {tier}" for size, tier in row.sizes.items()})
        raise invalid("ratio", f"{row.model} here takes {', '.join(shapes)}; got {ratio} at {resolution}.")

    def references(body: dict[str, Any], row: ModelSpec, endpoint: str) -> None:
        """``references`` (``{uri}`` images, up to 9) and ``referenceVideos`` (``{type: "video", uri}``,
        an HTTPS URL or a ``data:video`` URI; the 15 s total is Runway's to check once it reads them):
        text_to_video only, on the rows that take them (Hailuo3, Seedance 2: runwayml 5.24.0)."""
        for key, feature, kind, limit in (
            ("references", "reference_images", "image", MAX_REFERENCE_IMAGES),
            ("referenceVideos", "reference_videos", "video", row.max_reference_videos),
        ):
            if key not in body:
                continue
            if not row.may_offer(feature) or endpoint != "text_to_video":
                raise invalid(key, f"Unrecognized key for {row.model} on {endpoint}.")
            items = body[key]
            if not isinstance(items, list) or not 1 <= len(items) <= limit:
                raise invalid(key, f"Expected an array of 1 to {limit} items.")
            for i, item in enumerate(items):
                uri = item.get("uri") if isinstance(item, dict) else None
                if not isinstance(item, dict) or (kind == "video" and item.get("type") != "video"):
                    shape = "{type: 'video', uri}" if kind == "video" else "{uri}"
                    raise invalid(f"{key}.{i}", f"Expected {shape}.")
                if not isinstance(uri, str) or not uri.startswith(("https://", f"data:{kind}/")):
                    raise invalid(f"{key}.{i}.uri", "Expected an HTTPS URL or a base64 data URI.")
                if kind == "image":
                    image_bytes(uri, f"{key}.{i}.uri")

    def image_bytes(uri: object, path: str) -> bytes | None:
        if isinstance(uri, str) and uri.startswith("https://"):
            return None
        if isinstance(uri, str) and uri.startswith("data:image/") and ";base64," in uri:
            try:
                return base64.b64decode(uri.split(";base64,", 1)[1], validate=True)
            except (binascii.Error, ValueError):
                raise invalid(path, "Invalid base64 data URI.") from None
        raise invalid(path, "Expected an HTTPS URL or a base64 data URI.")

    async def create(request: Request, endpoint: str) -> Response:
        authenticate(request)
        body = await read_body(request)
        prompt = body.get("promptText")
        if not isinstance(prompt, str) or not prompt.strip():
            raise invalid("promptText", "Required: a non-empty string.")
        plan = faults.plan(prompt)
        await slow(plan)
        for name, status in (("429", 429), ("500", 500), ("503", 503)):
            if faults.fire(prompt, name, plan):
                message = {429: "Rate limit exceeded.", 500: "Internal server error.", 503: "Service busy."}
                raise WireError(status, message[status])
        row = model_row(body.get("model"))
        if row.model in VIDEO_TO_VIDEO and not row.has("image_input"):
            raise invalid("model", f"{row.model} is available on video_to_video only.")
        if endpoint == "text_to_video" and row.model in NO_TEXT_TO_VIDEO:
            raise invalid("model", f"{row.model} is not available on text_to_video.")
        ratio: Any
        if row.model in ASPECT_AND_RESOLUTION:
            width, height = aspect_size(body, row)
            ratio = f"{width}:{height}"
        else:
            ratios = [size.replace("x", ":") for size in row.sizes]
            if endpoint == "text_to_video":
                ratios = list(TEXT_TO_VIDEO_RATIOS.get(row.model, ratios))
            ratio = body.get("ratio")
            if ratio not in ratios:
                raise invalid("ratio", f"Invalid enum value. Expected {' | '.join(repr(r) for r in ratios)}")
        references(body, row, endpoint)
        duration = body.get("duration", row.default_seconds)
        if isinstance(duration, bool) or duration not in row.seconds:
            raise invalid("duration", f"Expected one of {list(row.seconds)}.")
        image = prompt_image(body, row) if endpoint == "image_to_video" else None
        if "audio" in body and (not row.has("audio_toggle") or not isinstance(body["audio"], bool)):
            wrong = "Expected a boolean." if row.has("audio_toggle") else f"{row.model} takes no 'audio'."
            raise invalid("audio", wrong)
        width, height = (int(v) for v in str(ratio).split(":"))
        tier = row.sizes[f"{width}x{height}"]
        credits = int(row.prices[tier] * Decimal(100) * int(duration))
        now = time.time()
        active = sum(1 for t in tasks.values() if t.status(now)[0] in ("PENDING", "THROTTLED", "RUNNING"))
        throttled = concurrency is not None and active >= concurrency
        task = Task(
            id=str(uuid.uuid4()),
            model=row.model,
            prompt=prompt,
            duration=int(duration),
            width=width,
            height=height,
            credits=credits,
            created_at=now,
            throttled_for=settings.processing_seconds if throttled else 0.0,
            processing_seconds=settings.processing_seconds,
            plan=plan,
            image=image,
            extra={"body": body},
        )
        tasks[task.id] = task
        return JSONResponse({"id": task.id})

    def source_video(uri: object, path: str) -> tuple[int, int, int]:
        """(seconds, width, height) of a video input: an output URL of this emulator or a data URI."""
        if isinstance(uri, str) and uri.startswith("data:video/") and ";base64," in uri:
            try:
                data = base64.b64decode(uri.split(";base64,", 1)[1], validate=True)
            except (binascii.Error, ValueError):
                raise invalid(path, "Invalid base64 data URI.") from None
            if len(data) > MAX_DATA_URI_BYTES:
                raise invalid(path, "Data URIs may be at most 5MB.")
            try:
                with av.open(io.BytesIO(data), mode="r") as container:
                    codec = container.streams.video[0].codec_context
                    seconds = round((container.duration or 0) / 1_000_000)
                    return max(1, seconds), codec.width, codec.height
            except (av.FFmpegError, IndexError, ValueError):
                raise invalid(path, "The data URI is not a readable video.") from None
        if isinstance(uri, str) and "/_output/" in uri:
            source = tasks.get(uri.split("/_output/", 1)[1].split(".mp4", 1)[0])
            if source is not None and source.status(time.time())[0] == "SUCCEEDED":
                return source.duration, source.width, source.height
        raise invalid(path, "Expected an HTTPS URL, a Runway upload URI or a base64 data URI of a video.")

    async def video_to_video(request: Request) -> Response:
        authenticate(request)
        body = await read_body(request)
        name = body.get("model")
        if name not in VIDEO_TO_VIDEO:
            expected = " | ".join(repr(m) for m in VIDEO_TO_VIDEO)
            raise invalid("model", f"Invalid enum value. Expected {expected}")
        row = model_row(name)
        field_name = VIDEO_TO_VIDEO[row.model]
        prompt = body.get("promptText", "")
        if not isinstance(prompt, str):
            raise invalid("promptText", "Expected a string.")
        plan = faults.plan(prompt)
        await slow(plan)
        for fault, status in (("429", 429), ("500", 500), ("503", 503)):
            if faults.fire(prompt, fault, plan):
                message = {429: "Rate limit exceeded.", 500: "Internal server error.", 503: "Service busy."}
                raise WireError(status, message[status])
        seconds, width, height = source_video(body.get(field_name), field_name)
        ratio = body.get("ratio")
        mode = body.get("mode", "reference") if row.model != "aleph2" else "edit"
        if mode not in ("reference", "extend", "edit"):
            raise invalid("mode", "Invalid enum value. Expected 'reference' | 'extend' | 'edit'")
        if mode in ("extend", "edit") and row.model != "aleph2":
            if not prompt.strip():
                raise invalid("promptText", f"Required with mode '{mode}'.")
            if ratio is not None:
                raise invalid("ratio", f"Not accepted with mode '{mode}'.")
        if ratio is not None:
            ratios = [size.replace("x", ":") for size in row.sizes]
            if ratio not in ratios:
                raise invalid("ratio", f"Invalid enum value. Expected {' | '.join(repr(r) for r in ratios)}")
            width, height = (int(v) for v in str(ratio).split(":"))
        duration = body.get("duration", row.default_seconds)
        if row.model == "aleph2" or mode == "edit":
            if row.model != "aleph2" and duration != "auto":
                raise invalid("duration", "Must be 'auto' with mode 'edit'.")
            if row.model == "aleph2" and seconds > MAX_ALEPH_SECONDS:
                raise invalid(field_name, f"The input video may be at most {MAX_ALEPH_SECONDS} seconds.")
            billed = output = seconds
        else:
            if isinstance(duration, bool) or duration not in row.seconds:
                raise invalid("duration", f"Expected one of {list(row.seconds)}.")
            billed = int(duration)
            output = seconds + billed if mode == "extend" else billed
        now = time.time()
        task = Task(
            id=str(uuid.uuid4()),
            model=row.model,
            prompt=prompt or "video to video",
            duration=output,
            width=width,
            height=height,
            credits=int(min(row.prices.values()) * Decimal(100) * billed),
            created_at=now,
            throttled_for=0.0,
            processing_seconds=settings.processing_seconds,
            plan=plan,
            extra={"body": {k: v for k, v in body.items() if k != field_name}},
        )
        tasks[task.id] = task
        return JSONResponse({"id": task.id})

    async def text_to_video(request: Request) -> Response:
        return await create(request, "text_to_video")

    async def image_to_video(request: Request) -> Response:
        return await create(request, "image_to_video")

    def find(request: Request) -> Task:
        task = tasks.get(request.path_params["task_id"])
        if task is None:
            raise WireError(404, "Task not found.")
        return task

    async def get_task(request: Request) -> Response:
        authenticate(request)
        task = find(request)
        await slow(task.plan)
        if faults.fire(task.id, "drop", task.plan):
            return DropResponse()  # type: ignore[return-value]
        for name, status in (("poll-429", 429), ("poll-500", 500), ("poll-503", 503)):
            if faults.fire(task.id, name, task.plan):
                raise WireError(status, "Rate limit exceeded." if status == 429 else "Service busy.")
        return JSONResponse(task_json(request, task))

    async def delete_task(request: Request) -> Response:
        authenticate(request)
        task = find(request)
        del tasks[task.id]  # cancelled if it was active, deleted if finished: unreadable either way
        return Response(status_code=204)

    async def output(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        expires = request.query_params.get("Expires", "")
        given = request.query_params.get("Signature", "")
        wanted = hmac.new(signing_key, f"{task_id}:{expires}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), wanted.encode()) or not expires.isdigit():
            return Response("<Error><Code>AccessDenied</Code></Error>", 403, media_type="application/xml")
        if int(expires) < time.time():
            return Response(
                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                403,
                media_type="application/xml",
            )
        task = tasks.get(task_id)
        if task is None:
            return Response("<Error><Code>NoSuchKey</Code></Error>", 404, media_type="application/xml")
        if faults.fire(task.id, "download-503", task.plan):
            return Response("Service Unavailable", 503, headers={"Retry-After": "1"})
        spec = RenderSpec(drawn(task.prompt), task.duration, task.width, task.height, image=task.image)
        rendered = await anyio.to_thread.run_sync(render, spec, settings.cache_dir)
        return FileResponse(rendered.video, media_type="video/mp4")

    async def wire_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WireError)
        body: dict[str, Any] = {"error": exc.message}
        if exc.issues is not None:
            body["issues"] = exc.issues
        headers = {"Retry-After": "1"} if exc.status in (429, 503) else None
        return JSONResponse(body, status_code=exc.status, headers=headers)

    return Starlette(
        routes=[
            Route("/v1/text_to_video", text_to_video, methods=["POST"]),
            Route("/v1/image_to_video", image_to_video, methods=["POST"]),
            Route("/v1/video_to_video", video_to_video, methods=["POST"]),
            Route("/v1/tasks/{task_id}", get_task, methods=["GET"]),
            Route("/v1/tasks/{task_id}", delete_task, methods=["DELETE"]),
            Route("/_output/{task_id}.mp4", output, methods=["GET"]),
        ],
        exception_handlers={WireError: wire_error},
    )


def drawn(prompt: str) -> str:
    """The prompt as drawn on the frames: fault tokens are test plumbing, not content."""
    text = prompt
    for name, times in parse_faults(prompt).items():
        text = text.replace(f"[fault:{name}x{times}]", "").replace(f"[fault:{name}]", "")
    return " ".join(text.split()) or prompt
