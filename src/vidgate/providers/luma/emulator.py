"""Luma's generations API on loopback, for tests and ``vidgate emulate luma``. Imports no adapter code.

Serves two dialects of one store: the Agents API (``/v1/generations``: ``POST`` with ``type`` video,
video_edit or video_reframe; ``GET``/``DELETE /v1/generations/{id}``; list ``GET /v1/generations``; every
reply carries ``X-API-Version: 2026-04-01``) and the legacy Dream Machine API the official ``lumaai``
1.21.0 SDK speaks (``POST /dream-machine/v1/generations/video`` with ``generation_type``, same get, delete
and list). A Generation is ``{id, generation_type, state, failure_reason, created_at, assets, model,
request}``; ``state`` runs queued -> dreaming -> completed | failed; ``assets.video`` is a signed URL
that expires after ``url_ttl`` seconds (then 403; a new GET signs a fresh one). Errors are FastAPI's
``{"detail": ...}``: 401 for a bad key, 404 for an unknown id, 422 for an invalid body. Faults: the
shared ``[fault:...]`` prompt tokens; ``filtered`` fails with a moderation reason.

Edits: ``type: video_edit`` (legacy ``POST .../generations/video/modify``, ``generation_type:
modify_video``) with ``media: {url}`` and one of the SDK's nine ``mode`` values keeps the source's frame
and length; ``type: video_reframe`` (legacy ``.../video/reframe``, ``reframe_video``) with ``media`` and
``aspect_ratio`` redraws it at that aspect ratio (same short side, same length). ``media.url`` must be an
asset URL of this emulator (Luma reads media from URLs). The field names are the SDK's (``media``,
``mode``, ``aspect_ratio``); that the Agents API takes the same fields under ``type`` is unverified.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import anyio
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

MODELS = PackageModels("vidgate.providers.luma")
API_VERSION = "2026-04-01"
AGENT_TYPES = ("video", "video_edit", "video_reframe")
ASPECTS: dict[str, tuple[int, int]] = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:3": (4, 3),
    "3:4": (3, 4),
    "21:9": (21, 9),
    "9:21": (9, 21),
}
SHORT_SIDE = {"540p": 540, "720p": 720, "1080p": 1080}
DURATIONS = {"5s": 5, "9s": 9}
# lumaai 1.21.0 VideoModifyParams.mode
MODIFY_MODES = tuple(f"{kind}_{n}" for kind in ("adhere", "flex", "reimagine") for n in (1, 2, 3))
LEGACY_EDIT_TYPES = {"modify_video": "video_edit", "reframe_video": "video_reframe"}


def dimensions(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    w, h = ASPECTS[aspect_ratio]
    short = SHORT_SIDE[resolution]
    long_side = short * max(w, h) // min(w, h)
    return (long_side, short) if w >= h else (short, long_side)


def error(status: int, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def create_app(settings: EmulatorSettings | None = None, *, url_ttl: float = 3600.0) -> Starlette:
    settings = settings or EmulatorSettings()
    book = faults_book(settings)
    jobs: dict[str, EmuJob] = {}
    secret = secrets.token_bytes(16)

    def authorize(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key_ok(settings, token):
            raise Refused(error(401, "Invalid API key"))

    def transient(subject: str, plan: dict[str, int], prefix: str = "") -> None:
        if book.fire(subject, f"{prefix}429", plan):
            raise Refused(error(429, "Too many requests", **{"Retry-After": "1"}))
        if book.fire(subject, f"{prefix}500", plan):
            raise Refused(error(500, "Internal server error"))
        if book.fire(subject, f"{prefix}503", plan):
            raise Refused(error(503, "Service unavailable", **{"Retry-After": "1"}))

    async def slow(plan: Mapping[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(settings.slow_seconds)

    def enum(body: Mapping[str, Any], name: str, allowed: Mapping[str, Any], default: str) -> str:
        value = body.get(name, default)
        if value not in allowed:
            raise Refused(error(422, f"{name}: input should be one of {', '.join(allowed)}; got {value!r}"))
        return str(value)

    def checked(body: Mapping[str, Any]) -> EmuJob:
        model = body.get("model")
        if not isinstance(model, str) or MODELS.find(f"luma/{model}") is None:
            raise Refused(error(422, f"model: unknown model {model!r}"))
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise Refused(error(422, "prompt: field required"))
        seconds = DURATIONS[enum(body, "duration", DURATIONS, "5s")]
        width, height = dimensions(
            enum(body, "aspect_ratio", ASPECTS, "16:9"), enum(body, "resolution", SHORT_SIDE, "720p")
        )
        keyframes = body.get("keyframes", {})
        if not isinstance(keyframes, dict) or set(keyframes) - {"frame0", "frame1"}:
            raise Refused(error(422, "keyframes: expected frame0 and/or frame1"))
        for name, frame in keyframes.items():
            if not isinstance(frame, dict) or frame.get("type") not in ("image", "generation"):
                raise Refused(error(422, f"keyframes.{name}: expected {{type: image, url}}"))
        plan = book.plan(prompt)
        return EmuJob(
            id=str(uuid.uuid4()),
            prompt=prompt,
            model=model,
            seconds=seconds,
            width=width,
            height=height,
            processing_seconds=settings.processing_seconds,
            outcome=book.outcome(plan),
            plan=plan,
            extra={"request": dict(body)},
        )

    def edited(body: Mapping[str, Any], kind: str) -> EmuJob:
        """A video_edit or video_reframe of an asset of this emulator."""
        model = body.get("model")
        if not isinstance(model, str) or MODELS.find(f"luma/{model}") is None:
            raise Refused(error(422, f"model: unknown model {model!r}"))
        prompt = body.get("prompt", "")
        if not isinstance(prompt, str):
            raise Refused(error(422, "prompt: input should be a string"))
        media = body.get("media")
        url = media.get("url") if isinstance(media, dict) else None
        if not isinstance(url, str) or not url:
            raise Refused(error(422, "media: field required ({url})"))
        name = url.split("/files/", 1)[1].split(".mp4", 1)[0] if "/files/" in url else ""
        source = jobs.get(name)
        if source is None or source.state()[0] != "completed" or source.outcome != "ok":
            raise Refused(error(422, "media.url: the video could not be fetched"))
        width, height = source.width, source.height
        if kind == "video_edit":
            enum(body, "mode", dict.fromkeys(MODIFY_MODES), "")
        else:
            w, h = ASPECTS[enum(body, "aspect_ratio", ASPECTS, "")]
            short = min(width, height)
            long_side = short * max(w, h) // min(w, h)
            width, height = (long_side, short) if w >= h else (short, long_side)
        plan = book.plan(prompt)
        return EmuJob(
            id=str(uuid.uuid4()),
            prompt=prompt or kind,
            model=model,
            seconds=source.seconds,
            width=width,
            height=height,
            processing_seconds=settings.processing_seconds,
            outcome=book.outcome(plan),
            plan=plan,
            extra={"request": dict(body), "type": kind},
        )

    def signature(job_id: str, expires: int) -> str:
        return hmac.new(secret, f"{job_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def view(request: Request, job: EmuJob) -> dict[str, Any]:
        state, _ = job.state()
        native = {"queued": "queued", "in_progress": "dreaming"}.get(state, state)
        assets: dict[str, Any] | None = None
        reason: str | None = None
        if native == "completed":
            expires = math.ceil(time.time() + url_ttl)
            base = str(request.base_url).rstrip("/")
            assets = {
                "video": f"{base}/files/{job.id}.mp4?expires={expires}&sig={signature(job.id, expires)}"
            }
        elif native == "failed":
            reason = (
                "The prompt was blocked by content moderation (emulated [fault:filtered])."
                if job.outcome == "filtered"
                else "Generation failed (emulated [fault:fail])."
            )
        return {
            "id": job.id,
            "generation_type": job.extra.get("type", "video"),
            "state": native,
            "failure_reason": reason,
            "created_at": datetime.fromtimestamp(job.created_at, UTC).isoformat(),
            "assets": assets,
            "model": job.model,
            "request": job.extra.get("request"),
        }

    def respond(request: Request, payload: Any, status: int = 200) -> Response:
        headers = {"X-API-Version": API_VERSION} if request.url.path.startswith("/v1/") else {}
        if payload is None:
            return Response(status_code=status, headers=headers)
        return JSONResponse(payload, status_code=status, headers=headers)

    async def create(request: Request) -> Response:
        try:
            authorize(request)
            try:
                body = await request.json()
            except ValueError:
                raise Refused(error(422, "body: invalid JSON")) from None
            if not isinstance(body, dict):
                raise Refused(error(422, "body: expected an object"))
            kind = "video"
            if request.url.path.startswith("/v1/"):
                kind = str(body.get("type"))
                if kind not in AGENT_TYPES:
                    raise Refused(error(422, f"type: input should be one of {', '.join(AGENT_TYPES)}"))
            elif request.url.path.endswith(("/modify", "/reframe")):
                wanted = "modify_video" if request.url.path.endswith("/modify") else "reframe_video"
                if body.get("generation_type") != wanted:
                    raise Refused(error(422, f"generation_type: input should be '{wanted}'"))
                kind = LEGACY_EDIT_TYPES[wanted]
            elif body.get("generation_type", "video") != "video":
                raise Refused(error(422, "generation_type: input should be 'video'"))
            prompt = str(body.get("prompt") or "")
            plan = book.plan(prompt)
            await slow(plan)
            transient(prompt, plan)
            job = checked(body) if kind == "video" else edited(body, kind)
        except Refused as refused:
            return refused.response
        jobs[job.id] = job
        return respond(request, view(request, job), 201)

    def find(request: Request) -> EmuJob:
        authorize(request)
        job = jobs.get(request.path_params["id"])
        if job is None:
            raise Refused(error(404, "Generation not found"))
        return job

    async def get(request: Request) -> Response:
        try:
            job = find(request)
            await slow(job.plan)
            if book.fire(job.id, "drop", job.plan):
                return DropResponse()  # type: ignore[return-value]
            transient(job.id, job.plan, prefix="poll-")
        except Refused as refused:
            return refused.response
        return respond(request, view(request, job))

    async def delete(request: Request) -> Response:
        try:
            job = find(request)
        except Refused as refused:
            return refused.response
        del jobs[job.id]
        return respond(request, None, 204)

    async def listing(request: Request) -> Response:
        try:
            authorize(request)
            limit, offset = (
                int(request.query_params.get(n, d)) for n, d in (("limit", "100"), ("offset", "0"))
            )
        except Refused as refused:
            return refused.response
        except ValueError:
            return error(422, "limit and offset: expected integers")
        if limit < 1 or offset < 0:
            return error(422, "limit must be >= 1 and offset >= 0")
        ordered = sorted(jobs.values(), key=lambda j: j.created_at, reverse=True)
        page = ordered[offset : offset + limit]
        return respond(
            request,
            {
                "generations": [view(request, job) for job in page],
                "count": len(page),
                "has_more": offset + limit < len(ordered),
                "limit": limit,
                "offset": offset,
            },
        )

    async def file(request: Request) -> Response:
        """The signed asset URL (no Authorization, like a CDN). Expired or forged -> 403."""
        job = jobs.get(request.path_params["name"].removesuffix(".mp4"))
        expires = request.query_params.get("expires", "")
        if (
            job is None
            or not expires.isdigit()
            or not hmac.compare_digest(request.query_params.get("sig", ""), signature(job.id, int(expires)))
        ):
            return PlainTextResponse("AccessDenied", status_code=403)
        if int(expires) < time.time():
            return PlainTextResponse("AccessDenied: Request has expired", status_code=403)
        await slow(job.plan)
        if book.fire(job.id, "download-503", job.plan):
            return PlainTextResponse("SlowDown", status_code=503, headers={"Retry-After": "1"})
        spec = RenderSpec(job.prompt, job.seconds, job.width, job.height, seed=job.seed)
        rendered = await anyio.to_thread.run_sync(render, spec, settings.cache_dir)
        return FileResponse(rendered.video, media_type="video/mp4")

    routes = [Route("/files/{name}", file, methods=["GET"])]
    for root, create_path in (
        ("/v1", "/v1/generations"),
        ("/dream-machine/v1", "/dream-machine/v1/generations/video"),
    ):
        routes += [
            Route(create_path, create, methods=["POST"]),
            Route(f"{root}/generations", listing, methods=["GET"]),
            Route(f"{root}/generations/{{id}}", get, methods=["GET"]),
            Route(f"{root}/generations/{{id}}", delete, methods=["DELETE"]),
        ]
    legacy = "/dream-machine/v1/generations/video"
    routes += [Route(f"{legacy}/{verb}", create, methods=["POST"]) for verb in ("modify", "reframe")]
    return Starlette(routes=routes)
