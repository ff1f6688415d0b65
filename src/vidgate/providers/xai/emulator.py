"""xAI's video REST API on loopback, for tests and ``vidgate emulate xai``. Imports no adapter code.

Wire facts it reproduces: ``POST /v1/videos/generations`` (and ``/edits``, ``/extensions`` for the
legacy model only; the source ``video.url`` is an output URL of this emulator or a ``data:video/mp4``
URI; an edit's source is at most 8.7 s and keeps its length, an extension adds ``duration`` 2-10 s
to it) answer ``{"request_id"}``; ``GET /v1/videos/{request_id}`` answers ``pending`` (with
``progress``) then ``done`` with ``video.url`` (a signed URL that expires after ``url_ttl`` seconds:
afterwards 403, and a new GET of the request signs a fresh one), ``failed`` with ``error``, or
``expired`` once the request is older than ``request_ttl``. Errors are ``{"code": <gRPC status text>,
"error": <message>}``; an incorrect key is a 400, as on api.x.ai. Moderation: ``done`` with
``video.respect_moderation: false``. Faults: the shared ``[fault:...]`` prompt tokens.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import io
import math
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import av
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from vidgate.emulators.common import (
    DropResponse,
    EmuJob,
    EmulatorSettings,
    PackageModels,
    faults_book,
    key_ok,
)
from vidgate.render import RenderSpec, render

MODELS = PackageModels("vidgate.providers.xai")
LEGACY = "grok-imagine-video"  # the only model xAI edits and extends
INVALID = "Client specified an invalid argument"
NOT_FOUND = "Some requested entity was not found"
MAX_EDIT_INPUT_SECONDS = 8.7  # docs.x.ai video overview: "8.7 seconds for editing input videos"
EXTENSION_SECONDS = (2, 10)  # the added seconds of an extension (secondary sources)
ASPECTS: dict[str, tuple[int, int]] = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:3": (4, 3),
    "3:4": (3, 4),
    "3:2": (3, 2),
    "2:3": (2, 3),
}
SHORT_SIDE = {"480p": 480, "720p": 720, "1080p": 1080}
WIDE_480 = 848  # 16:9 at 480p is 848x480 (the REST reference's `size` value), not 853.33


def dimensions(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    """Width and height for xAI's (aspect_ratio, resolution): the short side is the resolution."""
    w, h = ASPECTS[aspect_ratio]
    short = SHORT_SIDE[resolution]
    long_side = WIDE_480 if (resolution == "480p" and max(w, h) == 16) else short * max(w, h) // min(w, h)
    return (long_side, short) if w >= h else (short, long_side)


def error(status: int, message: str, code: str = INVALID, **headers: str) -> JSONResponse:
    return JSONResponse({"code": code, "error": message}, status_code=status, headers=headers)


@dataclass(frozen=True)
class Source:
    """The video an edit or extension starts from."""

    duration: float
    width: int
    height: int


class Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def create_app(
    settings: EmulatorSettings | None = None, *, url_ttl: float = 3600.0, request_ttl: float = 86400.0
) -> Starlette:
    settings = settings or EmulatorSettings()
    book = faults_book(settings)
    jobs: dict[str, EmuJob] = {}
    secret = secrets.token_bytes(16)

    def authorize(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refused(error(401, "Missing bearer authentication in header", code="Unauthenticated"))
        if not key_ok(settings, token):
            shown = f"{token[:2]}***{token[-2:]}" if len(token) > 4 else "***"
            raise Refused(
                error(
                    400,
                    f"Incorrect API key provided: {shown}. You can obtain an API key from https://console.x.ai.",
                )
            )

    async def slow(plan: Mapping[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(settings.slow_seconds)

    def transient(subject: str, plan: dict[str, int], prefix: str = "") -> None:
        if book.fire(subject, f"{prefix}429", plan):
            raise Refused(
                error(
                    429,
                    "Too many requests: rate limit exceeded",
                    "Resource has been exhausted (e.g. check quota).",
                    **{"Retry-After": "1"},
                )
            )
        if book.fire(subject, f"{prefix}500", plan):
            raise Refused(error(500, "Internal error", "Internal error encountered."))
        if book.fire(subject, f"{prefix}503", plan):
            raise Refused(
                error(
                    503,
                    "The service is currently unavailable",
                    "The service is currently unavailable.",
                    **{"Retry-After": "1"},
                )
            )

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise Refused(error(400, "Failed to deserialize the JSON body into the target type")) from None
        if not isinstance(body, dict):
            raise Refused(error(400, "Failed to deserialize the JSON body into the target type"))
        return body

    def image_bytes(field: Any, name: str) -> bytes | None:
        if field is None:
            return None
        url = field.get("url") if isinstance(field, dict) else None
        if not isinstance(url, str) or not url:
            raise Refused(error(400, f"{name}.url: expected a URL or a data URI"))
        if not url.startswith("data:"):
            return None  # an https URL: not fetched here
        try:
            return base64.b64decode(url.split(",", 1)[1], validate=True)
        except (IndexError, binascii.Error):
            raise Refused(error(400, f"{name}.url: invalid base64 data URI")) from None

    def checked(body: dict[str, Any]) -> tuple[str, str, int, int, int, bytes | None]:
        """(model, prompt, duration, width, height, first-frame bytes) of a valid generation request."""
        model = body.get("model")
        spec = MODELS.find(f"xai/{model}") if isinstance(model, str) else None
        if spec is None:
            raise Refused(
                error(
                    404,
                    f"The model {model} does not exist or your team does not have access to it.",
                    NOT_FOUND,
                )
            )
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise Refused(error(400, "prompt: must not be empty"))
        duration = body.get("duration", 6)
        if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 15:
            raise Refused(error(400, f"duration: must be an integer from 1 to 15, got {duration!r}"))
        aspect = body.get("aspect_ratio", "16:9")
        if aspect not in ASPECTS:
            raise Refused(
                error(
                    400, f"aspect_ratio: unsupported value {aspect!r}; expected one of {', '.join(ASPECTS)}"
                )
            )
        resolution = body.get("resolution", "720p")
        offered = set(spec.sizes.values())
        if resolution not in offered:
            raise Refused(
                error(
                    400,
                    f"resolution: {resolution!r} is not available for {model}; "
                    f"expected one of {', '.join(sorted(offered))}",
                )
            )
        refs = body.get("reference_images")
        if refs is not None:
            if not spec.has("reference_images"):
                raise Refused(error(400, f"reference_images are not supported for {model}"))
            if not isinstance(refs, list) or not 1 <= len(refs) <= 7:
                raise Refused(error(400, "reference_images: between 1 and 7 images"))
            if "image" in body:
                raise Refused(error(400, "image and reference_images cannot be combined"))
            if resolution == "1080p":
                raise Refused(error(400, "reference-to-video supports resolutions up to 720p"))
            for index, ref in enumerate(refs):
                image_bytes(ref, f"reference_images[{index}]")
        if "last_frame" in body:
            if not spec.has("last_frame"):
                raise Refused(error(400, f"last_frame is not supported for {model}"))
            image_bytes(body["last_frame"], "last_frame")
        width, height = dimensions(aspect, resolution)
        return str(model), prompt, duration, width, height, image_bytes(body.get("image"), "image")

    def add(model: str, prompt: str, seconds: int, width: int, height: int, image: bytes | None) -> EmuJob:
        plan = book.plan(prompt)
        job = EmuJob(
            id=f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}",
            prompt=prompt,
            model=model,
            seconds=seconds,
            width=width,
            height=height,
            processing_seconds=settings.processing_seconds,
            outcome=book.outcome(plan),
            image=image,
            plan=plan,
        )
        jobs[job.id] = job
        return job

    def signature(job_id: str, expires: int) -> str:
        return hmac.new(secret, f"{job_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def signed_url(request: Request, job: EmuJob) -> str:
        expires = math.ceil(time.time() + url_ttl)
        base = str(request.base_url).rstrip("/")
        return f"{base}/files/videos/{job.id}.mp4?expires={expires}&signature={signature(job.id, expires)}"

    def view(request: Request, job: EmuJob) -> dict[str, Any]:
        if time.time() - job.created_at >= request_ttl:
            return {"status": "expired", "model": job.model}
        state, progress = job.state()
        if state == "queued":
            return {"request_id": job.id}  # accepted, not started: no status yet
        if state == "in_progress":
            return {"status": "pending", "model": job.model, "progress": progress}
        if job.outcome == "fail":
            return {
                "status": "failed",
                "model": job.model,
                "error": {
                    "code": "internal_error",
                    "message": "Video generation failed (emulated [fault:fail]).",
                },
            }
        video = {
            "url": signed_url(request, job),
            "duration": job.seconds,
            "respect_moderation": job.outcome != "filtered",
        }
        return {
            "status": "done",
            "model": job.model,
            "progress": 100,
            "video": video,
            "usage": {"cost_in_usd_ticks": 0},
        }

    async def generations(request: Request) -> Response:
        try:
            authorize(request)
            body = await json_body(request)
            prompt = str(body.get("prompt") or "")
            plan = book.plan(prompt)
            await slow(plan)
            transient(prompt, plan)
            job = add(*checked(body))
        except Refused as refused:
            return refused.response
        return JSONResponse({"request_id": job.id})

    async def follow_up(request: Request) -> Response:
        """``/videos/edits`` and ``/videos/extensions``: the legacy model only."""
        kind = request.url.path.rsplit("/", 1)[-1]
        try:
            authorize(request)
            body = await json_body(request)
            model = body.get("model")
            if model != LEGACY:
                raise Refused(error(400, f"Video {kind} are not supported for model {model}; use {LEGACY}."))
            prompt = body.get("prompt")
            if not isinstance(prompt, str) or not prompt.strip():
                raise Refused(error(400, "prompt: must not be empty"))
            prompt = str(prompt)
            source = source_of(body.get("video"))
            if kind == "edits" and source.duration > MAX_EDIT_INPUT_SECONDS:
                raise Refused(
                    error(400, f"video: input videos for editing may be at most {MAX_EDIT_INPUT_SECONDS} s")
                )
            plan = book.plan(prompt)
            await slow(plan)
            transient(prompt, plan)
            extra = body.get("duration", 6) if kind == "extensions" else 0
            low, high = EXTENSION_SECONDS if kind == "extensions" else (0, 0)
            if isinstance(extra, bool) or not isinstance(extra, int) or not low <= extra <= high:
                raise Refused(error(400, f"duration: must be an integer from {low} to {high}"))
            seconds = max(1, round(source.duration)) + extra
            job = add(LEGACY, prompt, seconds, source.width, source.height, None)
        except Refused as refused:
            return refused.response
        return JSONResponse({"request_id": job.id})

    def source_of(video: Any) -> Source:
        """The source of an edit or extension: an output URL of this emulator, or a data URI of an MP4."""
        url = video.get("url") if isinstance(video, dict) else None
        if isinstance(url, str) and url.startswith("data:video/"):
            try:
                data = base64.b64decode(url.split(",", 1)[1], validate=True)
                with av.open(io.BytesIO(data), mode="r") as container:
                    stream = container.streams.video[0]
                    width, height = stream.codec_context.width, stream.codec_context.height
                    duration = (container.duration or 0) / 1_000_000
            except (IndexError, binascii.Error, av.FFmpegError, ValueError):
                raise Refused(error(400, "video.url: the data URI is not a readable video")) from None
            return Source(duration, width, height)
        if not isinstance(url, str) or "/files/videos/" not in url:
            raise Refused(error(400, "video.url: expected the URL of a video"))
        job = jobs.get(url.split("/files/videos/", 1)[1].split(".mp4", 1)[0])
        if job is None:
            raise Refused(error(400, "video.url: the video could not be fetched"))
        return Source(float(job.seconds), job.width, job.height)

    async def status(request: Request) -> Response:
        try:
            authorize(request)
            job = jobs.get(request.path_params["request_id"])
            if job is None:
                raise Refused(
                    error(404, f"Video request {request.path_params['request_id']} not found", NOT_FOUND)
                )
            await slow(job.plan)
            if book.fire(job.id, "drop", job.plan):
                return DropResponse()  # type: ignore[return-value]
            transient(job.id, job.plan, prefix="poll-")
        except Refused as refused:
            return refused.response
        return JSONResponse(view(request, job))

    async def file(request: Request) -> Response:
        """The signed output URL (no Authorization: like a storage bucket). Expired -> 403."""
        job = jobs.get(request.path_params["name"].removesuffix(".mp4"))
        query = request.query_params
        expires = query.get("expires", "")
        if (
            job is None
            or not expires.isdigit()
            or not hmac.compare_digest(query.get("signature", ""), signature(job.id, int(expires)))
        ):
            return PlainTextResponse("AccessDenied: invalid signature", status_code=403)
        if int(expires) < time.time():
            return PlainTextResponse("AccessDenied: Request has expired", status_code=403)
        await slow(job.plan)
        if book.fire(job.id, "download-503", job.plan):
            return PlainTextResponse("SlowDown", status_code=503, headers={"Retry-After": "1"})
        spec = RenderSpec(job.prompt, job.seconds, job.width, job.height, seed=job.seed, image=job.image)
        rendered = await anyio.to_thread.run_sync(render, spec, settings.cache_dir)
        return FileResponse(rendered.video, media_type="video/mp4")

    return Starlette(
        routes=[
            Route("/v1/videos/generations", generations, methods=["POST"]),
            Route("/v1/videos/edits", follow_up, methods=["POST"]),
            Route("/v1/videos/extensions", follow_up, methods=["POST"]),
            Route("/v1/videos/{request_id}", status, methods=["GET"]),
            Route("/files/videos/{name}", file, methods=["GET"]),
        ]
    )
