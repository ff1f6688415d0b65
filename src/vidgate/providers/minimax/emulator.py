"""Emulator of MiniMax's V2 video API (``api.minimax.io``). Imports no adapter code.

- ``POST /v2/video_generation`` -> ``{"task_id", "base_resp": {"status_code": 0, "status_msg": "success"}}``
- ``GET /v2/query/video_generation/{task_id}`` -> ``{"task": {id, model, status, duration, resolution,
  created_at, content: {url}?, error?}, "base_resp"}``: ``queued`` -> ``running`` -> ``succeeded`` (or
  ``failed``); a task cancelled while unfinished reads ``cancelled``; ``expired`` once its output's
  retention has passed (``RETENTION_SECONDS``)
- ``GET /v2/query/video_generation?page_num=&page_size=`` -> ``{"tasks": [...], "has_more", "base_resp"}``,
  newest first
- ``DELETE /v2/video_generation/{task_id}`` -> cancels an unfinished task, deletes a finished one
- ``GET /_cdn/{task_id}.mp4?expires=&signature=`` -> the MP4; each query signs a fresh, time-limited URL
- ``callback_url`` on create: first ``{"challenge": ...}`` is POSTed there (MiniMax's documented URL
  check; the create is refused with 2013 unless the same value comes back); when the task ends, the
  query's body (``{"task": ..., "base_resp"}``) is POSTed, unsigned; retried on a non-2xx answer,
  ``[fault:callback-dup]`` / ``[fault:callback-drop]`` (``emulators.callbacks``)

MiniMax's quirk, kept faithfully: a bad key, a rate limit, an empty balance, invalid parameters and
sensitive content are answered with **HTTP 200** and ``base_resp.status_code`` 1004 / 1002 / 1008 /
2013 / 1026. Besides the shared fault tokens (``429``/``503`` are real HTTP refusals with Retry-After, as
an edge proxy sends, ``500`` a server error), ``[minimax:CODE]`` in the prompt makes the create answer
HTTP 200 with that ``base_resp`` code. Reference videos are ``video_url`` items (https, at most 3, on a
row with the ``reference_videos`` feature), checked but not downloaded. An unknown task id is HTTP 404
with ``base_resp`` 2013 (unverified: the reply MiniMax gives is not documented in what we read).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from vidgate.catalog import ModelSpec
from vidgate.catalog.images import sniff
from vidgate.emulators.callbacks import CallbackSender
from vidgate.emulators.common import (
    DropResponse,
    EmuJob,
    EmulatorSettings,
    PackageModels,
    faults_book,
    key_ok,
)
from vidgate.emulators.faults import FaultBook
from vidgate.emulators.media import SignedUrls, render_job

MODELS = PackageModels("vidgate.providers.minimax")
RETENTION_SECONDS = 7 * 24 * 3600
CHALLENGE_TIMEOUT = 3.0
MAX_REFERENCE_VIDEOS = 3
ROLES = ("first_frame", "last_frame", "reference_image", "reference_video", "reference_audio")
CODE_TOKEN = re.compile(r"\[minimax:(\d+)\]")
MESSAGES = {
    1002: "rate limit exceeded(RPM)",
    1004: "login fail: Please carefully check the API secret key",
    1008: "insufficient balance",
    1026: "input new_sensitive",
    2013: "invalid params",
}
FAILED = {"code": "1000", "message": "video generation failed: unknown error"}
FILTERED = {"code": "1027", "message": "output new_sensitive: the generated video was blocked"}


def _base(code: int = 0, message: str = "success") -> dict[str, Any]:
    return {"status_code": code, "status_msg": message}


class MiniMaxError(Exception):
    """A failure in MiniMax's envelope; ``http`` is 200 for the failures MiniMax sends as HTTP 200."""

    def __init__(
        self, code: int, message: str | None = None, http: int = 200, retry_after: bool = False
    ) -> None:
        super().__init__(message)
        self.code, self.http, self.retry_after = code, http, retry_after
        self.message = message or MESSAGES.get(code, "error")

    def response(self) -> JSONResponse:
        headers = {"Retry-After": "1"} if self.retry_after else None
        return JSONResponse(
            {"base_resp": _base(self.code, self.message)}, status_code=self.http, headers=headers
        )


@dataclass
class Task:
    owner: str
    job: EmuJob
    resolution: str
    cancelled: bool = False
    created: float = field(default_factory=time.time)
    callback_url: str | None = None

    def status(self, now: float) -> str:
        if self.cancelled:
            return "cancelled"
        state, _ = self.job.state(now)
        if state == "completed" and now - self.created > RETENTION_SECONDS:
            return "expired"
        return {"queued": "queued", "in_progress": "running", "completed": "succeeded"}.get(state, "failed")


def _dims(spec: ModelSpec, resolution: str, ratio: tuple[int, int]) -> tuple[int, int] | None:
    for size, tier in spec.sizes.items():
        width, _, height = size.partition("x")
        w, h = int(width), int(height)
        if tier == resolution and abs(w * ratio[1] - h * ratio[0]) <= max(ratio) * 2:
            return w, h
    return None


class MiniMaxEmulator:
    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.faults: FaultBook = faults_book(settings)
        self.tasks: dict[str, Task] = {}
        self.urls = SignedUrls()
        self.clock = time.time
        self.callbacks = CallbackSender()

    def authenticate(self, request: Request) -> str:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not key_ok(self.settings, key):
            raise MiniMaxError(1004)  # HTTP 200, as MiniMax answers it
        return key

    async def slow(self, plan: dict[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(self.settings.slow_seconds)

    # ---- create ----------------------------------------------------------------------------------

    @staticmethod
    def _image(item: dict[str, Any]) -> bytes | None:
        url = (item.get("image_url") or {}).get("url") if isinstance(item.get("image_url"), dict) else None
        if not isinstance(url, str):
            raise MiniMaxError(2013, "invalid params, image_url.url is required")
        if url.startswith("https://"):
            return None  # not fetched here
        header, sep, payload = url.partition(",")
        if not (url.startswith("data:image/") and sep and header.endswith(";base64")):
            raise MiniMaxError(2013, "invalid params, image_url.url must be a URL or a base64 data URL")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise MiniMaxError(2013, "invalid params, image is not base64") from None
        if sniff(data) is None:
            raise MiniMaxError(2013, "invalid params, unsupported image format")
        return data

    @staticmethod
    def _video(item: dict[str, Any], spec: ModelSpec) -> None:
        """A ``video_url`` item: an https URL MiniMax downloads (not fetched here), on a model that
        takes reference videos (this package's rows say which)."""
        video = item.get("video_url")
        url = video.get("url") if item.get("type") == "video_url" and isinstance(video, dict) else None
        if not isinstance(url, str) or not url.startswith("https://"):
            raise MiniMaxError(2013, "invalid params, video_url.url must be an https URL")
        if not spec.has("reference_videos"):
            raise MiniMaxError(2013, f"invalid params, {spec.model} does not support reference videos")

    def parse(self, body: dict[str, Any]) -> tuple[ModelSpec, str, EmuJob]:
        spec = MODELS.find(f"minimax/{body.get('model')}")
        if spec is None:
            raise MiniMaxError(2013, f"invalid params, model {body.get('model')} is not supported")
        content = body.get("content")
        if not isinstance(content, list) or not all(isinstance(i, dict) for i in content):
            raise MiniMaxError(2013, "invalid params, content must be an array of objects")
        texts = [i for i in content if i.get("type") == "text"]
        if len(texts) != 1 or not isinstance(texts[0].get("text"), str) or not texts[0]["text"].strip():
            raise MiniMaxError(2013, "invalid params, content needs exactly one non-empty text item")
        prompt: str = texts[0]["text"]
        first: bytes | None = None
        roles: list[str] = []
        for item in content:
            if item.get("type") == "text":
                continue
            role = item.get("role")
            if role not in ROLES:
                raise MiniMaxError(2013, f"invalid params, role {role} is not supported")
            roles.append(str(role))
            if item.get("type") == "image_url":
                image = self._image(item)
                first = image if role == "first_frame" else first
            elif role == "reference_video":
                self._video(item, spec)
        frames = {"first_frame", "last_frame"} & set(roles)
        if frames and any(r.startswith("reference_") for r in roles):
            raise MiniMaxError(2013, "invalid params, reference media cannot be combined with frames")
        if "last_frame" in roles and "first_frame" not in roles:
            raise MiniMaxError(2013, "invalid params, last_frame needs first_frame")
        if roles.count("reference_video") > MAX_REFERENCE_VIDEOS:
            raise MiniMaxError(2013, f"invalid params, at most {MAX_REFERENCE_VIDEOS} reference videos")
        duration = body.get("duration")
        if not isinstance(duration, int) or isinstance(duration, bool) or duration not in spec.seconds:
            raise MiniMaxError(2013, f"invalid params, duration {duration} is not supported by {spec.model}")
        resolution = body.get("resolution")
        if resolution not in set(spec.sizes.values()):
            raise MiniMaxError(
                2013, f"invalid params, resolution {resolution} is not supported by {spec.model}"
            )
        if not isinstance(body.get("generate_audio", True), bool):
            raise MiniMaxError(2013, "invalid params, generate_audio must be a boolean")
        ratio = self._ratio(body.get("ratio", "16:9"), first)
        dims = _dims(spec, str(resolution), ratio)
        if dims is None:
            raise MiniMaxError(2013, f"invalid params, ratio {body.get('ratio')} is not supported")
        plan = self.faults.plan(prompt)
        job = EmuJob(
            id=f"{int(time.time() * 1000)}{uuid.uuid4().int % 10**6:06d}",
            prompt=prompt,
            model=spec.model,
            seconds=duration,
            width=dims[0],
            height=dims[1],
            processing_seconds=self.settings.processing_seconds,
            outcome=FaultBook.outcome(plan),
            image=first,
            plan=plan,
        )
        return spec, str(resolution), job

    @staticmethod
    def _ratio(raw: Any, first: bytes | None) -> tuple[int, int]:
        if raw == "adaptive":
            info = sniff(first) if first else None
            if info and info.width and info.height:
                return info.width, info.height
            return 16, 9
        if isinstance(raw, str) and re.fullmatch(r"\d{1,2}:\d{1,2}", raw):
            w, _, h = raw.partition(":")
            if int(w) and int(h):
                return int(w), int(h)
        raise MiniMaxError(2013, f"invalid params, ratio {raw} is not supported")

    async def create(self, request: Request) -> Response:
        try:
            owner = self.authenticate(request)
            try:
                body = await request.json()
            except ValueError:
                raise MiniMaxError(2013, "invalid params, body is not JSON") from None
            if not isinstance(body, dict):
                raise MiniMaxError(2013, "invalid params, body must be an object")
            texts = [i.get("text") for i in body.get("content") or [] if isinstance(i, dict)]
            prompt = " ".join(t for t in texts if isinstance(t, str))
            plan = self.faults.plan(prompt)
            await self.slow(plan)
            if (quirk := CODE_TOKEN.search(prompt)) is not None:
                raise MiniMaxError(int(quirk.group(1)))  # HTTP 200 with the error code
            for fault, http in (("429", 429), ("503", 503), ("500", 500)):
                if self.faults.fire(prompt, fault, plan):
                    code = {429: 1002, 503: 1013, 500: 1000}[http]
                    raise MiniMaxError(code, "emulated fault", http=http, retry_after=http != 500)
            _spec, resolution, job = self.parse(body)
        except MiniMaxError as exc:
            return exc.response()
        callback = body.get("callback_url")
        if callback is not None and not await self.challenge(callback):
            return MiniMaxError(2013, "invalid params, callback_url did not answer the challenge").response()
        task = self.tasks[job.id] = Task(owner, job, resolution)
        if callback is not None:
            task.callback_url = str(callback)

            def render() -> tuple[bytes, dict[str, str]]:
                payload = {"task": self.task_json(request, task), "base_resp": _base()}
                return json.dumps(payload).encode(), {"content-type": "application/json"}

            self.callbacks.schedule(job, str(callback), render)
        return JSONResponse({"task_id": job.id, "base_resp": _base()})

    async def challenge(self, url: Any) -> bool:
        """MiniMax's URL check: the callback must echo a random challenge (3 s to answer)."""
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return False
        value = uuid.uuid4().hex
        try:
            async with httpx.AsyncClient(timeout=CHALLENGE_TIMEOUT) as client:
                reply = await client.post(url, json={"challenge": value})
            return reply.status_code == 200 and reply.json().get("challenge") == value
        except (httpx.HTTPError, ValueError, AttributeError):
            return False

    # ---- reads -----------------------------------------------------------------------------------

    def task_json(self, request: Request, task: Task) -> dict[str, Any]:
        status = task.status(self.clock())
        out: dict[str, Any] = {
            "id": task.job.id,
            "model": task.job.model,
            "status": status,
            "duration": task.job.seconds,
            "resolution": task.resolution,
            "created_at": int(task.created),
        }
        if status == "succeeded":
            path = f"/_cdn/{task.job.id}.mp4"
            out["content"] = {"url": f"{str(request.base_url).rstrip('/')}{path}?{self.urls.query(path)}"}
        if status == "failed":
            out["error"] = FILTERED if task.job.outcome == "filtered" else FAILED
        return out

    def _task(self, request: Request, owner: str) -> Task:
        task = self.tasks.get(request.path_params["task_id"])
        if task is None or task.owner != owner:
            raise MiniMaxError(2013, "invalid params, task not found", http=404)
        return task

    async def query(self, request: Request) -> Response:
        try:
            task = self._task(request, self.authenticate(request))
            await self.slow(task.job.plan)
            for fault, http in (("poll-429", 429), ("poll-503", 503), ("poll-500", 500)):
                if self.faults.fire(task.job.id, fault, task.job.plan):
                    code = {429: 1002, 503: 1013, 500: 1000}[http]
                    raise MiniMaxError(code, "emulated fault", http=http, retry_after=http != 500)
        except MiniMaxError as exc:
            return exc.response()
        if self.faults.fire(task.job.id, "drop", task.job.plan):
            return DropResponse()  # type: ignore[return-value]
        return JSONResponse({"task": self.task_json(request, task), "base_resp": _base()})

    async def list(self, request: Request) -> Response:
        try:
            owner = self.authenticate(request)
            number = request.query_params.get("page_num", "1")
            size = request.query_params.get("page_size", "20")
            if not number.isdigit() or not size.isdigit() or not 1 <= int(size) <= 100 or int(number) < 1:
                raise MiniMaxError(2013, "invalid params, page_num >= 1 and page_size 1-100")
        except MiniMaxError as exc:
            return exc.response()
        mine = sorted(
            (t for t in self.tasks.values() if t.owner == owner), key=lambda t: t.created, reverse=True
        )
        start = (int(number) - 1) * int(size)
        page = mine[start : start + int(size)]
        return JSONResponse(
            {
                "tasks": [self.task_json(request, t) for t in page],
                "has_more": len(mine) > start + int(size),
                "base_resp": _base(),
            }
        )

    async def delete(self, request: Request) -> Response:
        try:
            task = self._task(request, self.authenticate(request))
        except MiniMaxError as exc:
            return exc.response()
        if task.status(self.clock()) in ("queued", "running"):
            task.cancelled = True
        else:
            del self.tasks[task.job.id]
        return JSONResponse({"task_id": task.job.id, "base_resp": _base()})

    async def cdn(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        task = self.tasks.get(task_id)
        path = f"/_cdn/{task_id}.mp4"
        q = request.query_params
        if task is None or not self.urls.valid(path, q.get("expires"), q.get("signature")):
            return Response("AccessDenied", status_code=403, media_type="text/plain")
        if task.status(self.clock()) != "succeeded":
            return Response("NoSuchKey", status_code=404, media_type="text/plain")
        await self.slow(task.job.plan)
        if self.faults.fire(task.job.id, "download-503", task.job.plan):
            return Response("Service Unavailable", status_code=503, headers={"Retry-After": "1"})
        return FileResponse(await render_job(self.settings, task.job), media_type="video/mp4")


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    """MiniMax's V2 video API as an ASGI app."""
    emulator = MiniMaxEmulator(settings or EmulatorSettings())
    app = Starlette(
        routes=[
            Route("/v2/video_generation", emulator.create, methods=["POST"]),
            Route("/v2/video_generation/{task_id}", emulator.delete, methods=["DELETE"]),
            Route("/v2/query/video_generation", emulator.list, methods=["GET"]),
            Route("/v2/query/video_generation/{task_id}", emulator.query, methods=["GET"]),
            Route("/_cdn/{task_id}.mp4", emulator.cdn, methods=["GET", "HEAD"]),
        ]
    )
    app.state.emulator = emulator  # tests reach the clocks through it
    return app
