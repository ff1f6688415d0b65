"""BFL's FLUX 3 video API on loopback, for tests and ``vidgate emulate bfl``. Imports no adapter code.

Wire facts it reproduces (BFL's documented REST examples): ``POST /v1/flux-3-video`` with header
``x-key`` and a strict JSON body (an unknown field or one outside its mode is a 422) answers ``{id,
polling_url}``; ``GET {polling_url}`` (``/v1/get_result?id=``) answers ``{id, status}`` with status
Pending, then Ready with ``result.sample`` (a signed URL that expires after ``url_ttl`` seconds; a new
poll signs a fresh one), Error, or Content Moderated; an unknown id answers 200 with status ``Task not
found``. Errors are FastAPI's ``{"detail": ...}``: no key 403 "Not authenticated", a wrong key 401.
``polling_base`` makes the emulator hand out polling URLs on another origin (to test that a client
refuses them). Faults: the shared ``[fault:...]`` prompt tokens; ``filtered`` ends Content Moderated.
Webhooks: with ``webhook_url`` the final poll body (plus ``timestamp``) is POSTed there when the task
ends, with ``webhook_secret`` signed ``X-BFL-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` (BFL's
webhook guide in ``black-forest-labs/skills``; unverified for FLUX 3 video); retried on a non-2xx answer,
``[fault:callback-dup]`` / ``[fault:callback-drop]`` (``emulators.callbacks``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from vidgate.emulators.callbacks import CallbackSender
from vidgate.emulators.common import DropResponse, EmuJob, EmulatorSettings, faults_book, key_ok
from vidgate.render import RenderSpec, render

ASPECTS: dict[str, tuple[int, int]] = {
    "21:9": (21, 9),
    "2:1": (2, 1),
    "16:9": (16, 9),
    "4:3": (4, 3),
    "1:1": (1, 1),
    "3:4": (3, 4),
    "9:16": (9, 16),
}
SHORT_SIDE = {"hd": 720, "fhd": 1080}
MODES = {
    "t2v": {"prompt"},
    "i2v": {"prompt", "keyframes"},
}
COMMON = {
    "mode",
    "prompt",
    "aspect_ratio",
    "resolution",
    "duration",
    "generate_audio",
    "version",
    "seed",
    "webhook_url",
    "webhook_secret",
}


def dimensions(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    w, h = ASPECTS["16:9" if aspect_ratio == "auto" else aspect_ratio]
    short = SHORT_SIDE[resolution]
    long_side = short * max(w, h) // min(w, h)
    return (long_side, short) if w >= h else (short, long_side)


def error(status: int, detail: Any, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def invalid(field: str, message: str) -> JSONResponse:
    return error(422, [{"loc": ["body", field], "msg": message, "type": "value_error"}])


class Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def create_app(
    settings: EmulatorSettings | None = None, *, url_ttl: float = 7200.0, polling_base: str | None = None
) -> Starlette:
    settings = settings or EmulatorSettings()
    book = faults_book(settings)
    jobs: dict[str, EmuJob] = {}
    secret = secrets.token_bytes(16)
    callbacks = CallbackSender()
    webhooks: dict[str, dict[str, str]] = {}  # job id -> {webhook_url: webhook_secret}, for tests

    def authorize(request: Request) -> None:
        key = request.headers.get("x-key")
        if not key:
            raise Refused(error(403, "Not authenticated"))
        if not key_ok(settings, key):
            raise Refused(error(401, "Invalid API key"))

    def transient(subject: str, plan: dict[str, int], prefix: str = "") -> None:
        if book.fire(subject, f"{prefix}429", plan):
            raise Refused(error(429, "Too many active tasks", **{"Retry-After": "1"}))
        if book.fire(subject, f"{prefix}500", plan):
            raise Refused(error(500, "Internal Server Error"))
        if book.fire(subject, f"{prefix}503", plan):
            raise Refused(error(503, "Service temporarily unavailable", **{"Retry-After": "1"}))

    async def slow(plan: Mapping[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(settings.slow_seconds)

    def first_frame(keyframes: Any) -> bytes | None:
        frames = [keyframes] if isinstance(keyframes, str) else keyframes
        if not isinstance(frames, list) or not 1 <= len(frames) <= 10:
            raise Refused(invalid("keyframes", "expected an image, or a list of 1 to 10 images"))
        first = frames[0][1] if isinstance(frames[0], list) and len(frames[0]) == 2 else frames[0]
        if not isinstance(first, str) or not first:
            raise Refused(invalid("keyframes", "expected an image URL or base64"))
        if first.startswith(("http://", "https://")):
            return None  # a URL: not fetched here
        try:
            return base64.b64decode(first, validate=True)
        except binascii.Error:
            raise Refused(invalid("keyframes", "invalid base64 image")) from None

    def checked(body: dict[str, Any]) -> EmuJob:
        mode = body.get("mode", "t2v")
        if mode not in MODES:
            raise Refused(invalid("mode", f"input should be one of {', '.join(MODES)} (emulated modes)"))
        allowed = COMMON | MODES[mode]
        for field in body:
            if field not in allowed:
                raise Refused(invalid(field, f"extra inputs are not permitted for mode {mode}"))
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise Refused(invalid("prompt", "field required"))
        duration = body.get("duration", 5)
        if isinstance(duration, bool) or not isinstance(duration, int) or not 5 <= duration <= 20:
            raise Refused(invalid("duration", "must be 'auto' or a whole number from 5 to 20"))
        aspect = body.get("aspect_ratio", "auto")
        if aspect != "auto" and aspect not in ASPECTS:
            raise Refused(invalid("aspect_ratio", f"input should be one of auto, {', '.join(ASPECTS)}"))
        resolution = body.get("resolution", "fhd")
        if resolution not in SHORT_SIDE:
            raise Refused(invalid("resolution", "input should be 'hd' or 'fhd'"))
        audio = body.get("generate_audio", True)
        if not isinstance(audio, bool):
            raise Refused(invalid("generate_audio", "input should be a valid boolean"))
        image = first_frame(body["keyframes"]) if mode == "i2v" else None
        width, height = dimensions(str(aspect), str(resolution))
        plan = book.plan(prompt)
        return EmuJob(
            id=str(uuid.uuid4()),
            prompt=prompt,
            model="flux-3-video",
            seconds=duration,
            width=width,
            height=height,
            processing_seconds=settings.processing_seconds,
            outcome=book.outcome(plan),
            image=image,
            plan=plan,
        )

    def signature(job_id: str, expires: int) -> str:
        return hmac.new(secret, f"{job_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def view(request: Request, job: EmuJob) -> dict[str, Any]:
        state, progress = job.state()
        if state in ("queued", "in_progress"):
            return {"id": job.id, "status": "Pending", "result": None, "progress": progress / 100}
        if job.outcome == "filtered":
            return {"id": job.id, "status": "Content Moderated", "result": None}
        if job.outcome != "ok":
            return {
                "id": job.id,
                "status": "Error",
                "result": None,
                "error": "Generation failed (emulated [fault:fail]).",
            }
        expires = math.ceil(time.time() + url_ttl)
        base = str(request.base_url).rstrip("/")
        sample = f"{base}/results/{job.id}/sample.mp4?se={expires}&sig={signature(job.id, expires)}"
        return {
            "id": job.id,
            "status": "Ready",
            "result": {"sample": sample, "prompt": job.prompt, "duration": job.seconds},
        }

    async def submit(request: Request) -> Response:
        try:
            authorize(request)
            try:
                body = await request.json()
            except ValueError:
                raise Refused(invalid("body", "JSON decode error")) from None
            if not isinstance(body, dict):
                raise Refused(invalid("body", "input should be a valid object"))
            prompt = str(body.get("prompt") or "")
            plan = book.plan(prompt)
            await slow(plan)
            transient(prompt, plan)
            job = checked(body)
        except Refused as refused:
            return refused.response
        jobs[job.id] = job
        webhook, webhook_secret = body.get("webhook_url"), body.get("webhook_secret")
        if isinstance(webhook, str) and webhook.startswith(("http://", "https://")):
            key = webhook_secret.encode() if isinstance(webhook_secret, str) and webhook_secret else None
            webhooks[job.id] = {webhook: str(webhook_secret or "")}
            call_back(request, job, webhook, key)
        base = polling_base or str(request.base_url).rstrip("/")
        return JSONResponse({"id": job.id, "polling_url": f"{base}/v1/get_result?id={job.id}"})

    def call_back(request: Request, job: EmuJob, url: str, key: bytes | None) -> None:
        """POST the result when the task ends; signed ``X-BFL-Signature: sha256=<hex HMAC>`` of the raw
        body with the request's ``webhook_secret`` when one was given."""

        def render_delivery() -> tuple[bytes, dict[str, str]]:
            payload = {**view(request, job), "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            body = json.dumps(payload).encode()
            headers = {"content-type": "application/json"}
            if key is not None:
                headers["x-bfl-signature"] = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
            return body, headers

        callbacks.schedule(job, url, render_delivery)

    async def get_result(request: Request) -> Response:
        try:
            authorize(request)
            task_id = request.query_params.get("id", "")
            job = jobs.get(task_id)
            if job is None:
                return JSONResponse({"id": task_id, "status": "Task not found", "result": None})
            await slow(job.plan)
            if book.fire(job.id, "drop", job.plan):
                return DropResponse()  # type: ignore[return-value]
            transient(job.id, job.plan, prefix="poll-")
        except Refused as refused:
            return refused.response
        return JSONResponse(view(request, job))

    async def sample(request: Request) -> Response:
        """The signed delivery URL (no key, like a storage bucket). Expired or forged -> 403."""
        job = jobs.get(request.path_params["id"])
        expires = request.query_params.get("se", "")
        if (
            job is None
            or not expires.isdigit()
            or not hmac.compare_digest(request.query_params.get("sig", ""), signature(job.id, int(expires)))
        ):
            return PlainTextResponse("AuthenticationFailed", status_code=403)
        if int(expires) < time.time():
            return PlainTextResponse("AuthenticationFailed: Signed expiry time has passed", status_code=403)
        await slow(job.plan)
        if book.fire(job.id, "download-503", job.plan):
            return PlainTextResponse("ServerBusy", status_code=503, headers={"Retry-After": "1"})
        spec = RenderSpec(job.prompt, job.seconds, job.width, job.height, seed=job.seed, image=job.image)
        rendered = await anyio.to_thread.run_sync(render, spec, settings.cache_dir)
        return FileResponse(rendered.video, media_type="video/mp4")

    app = Starlette(
        routes=[
            Route("/v1/flux-3-video", submit, methods=["POST"]),
            Route("/v1/get_result", get_result, methods=["GET"]),
            Route("/results/{id}/sample.mp4", sample, methods=["GET"]),
        ]
    )
    app.state.jobs = jobs  # for tests: what arrived
    app.state.callbacks = callbacks
    app.state.webhooks = webhooks
    return app
