"""Emulator of Kling's official API (``api-singapore.klingai.com``). Imports no adapter code.

- ``POST /v1/videos/{text2video|image2video|omni-video}`` -> ``{code: 0, message, request_id,
  data: {task_id, task_status: "submitted", task_info, created_at, updated_at}}`` (milliseconds)
- ``GET /v1/videos/{endpoint}/{task_id}`` -> the task: ``submitted`` -> ``processing`` -> ``succeed``
  with ``task_result.videos[{id, url, duration}]``, or ``failed`` with ``task_status_msg``
- ``GET /v1/videos/{endpoint}?pageNum=&pageSize=`` -> ``data: [task, ...]``, newest first
- omni-video's ``video_list``: one reference video (``refer_type: feature``), 3-10 s, sound off
- ``GET /_cdn/{task_id}.mp4?expires=&signature=`` -> the MP4; a signed URL that expires (403 after)
- ``callback_url`` on create: the task (as a read answers it) is POSTed there when it ends, unsigned
  (Kling documents no signature); retried on a non-2xx answer, ``[fault:callback-dup]`` /
  ``[fault:callback-drop]`` (``emulators.callbacks``)

Auth is ``Authorization: Bearer <JWT>``: HS256, ``iss`` = the access key, verified with the secret key,
``exp``/``nbf`` enforced. With ``EmulatorSettings.api_key`` set, it is both the access key and the secret
key; unset, any well-formed, unexpired token is accepted. Errors are Kling's envelope ``{code, message,
request_id}`` with the documented HTTP status per code (1000-1004 -> 401, 1201 -> 400, 1302 -> 429, ...).
An unknown task id answers 404 with code 1203 (the docs' "resource not found"; unverified for tasks).
Fault tokens: ``429`` (1302), ``500`` (5000), ``503`` (5001) on create; ``poll-*`` and ``drop`` on
reads; ``download-503`` on the CDN; ``fail``; ``filtered`` (failed: "Failure to pass the risk control
system", the wording public clients report).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from vidgate.catalog import ModelSpec
from vidgate.catalog.images import sniff
from vidgate.emulators.callbacks import CallbackSender
from vidgate.emulators.common import DropResponse, EmuJob, EmulatorSettings, PackageModels, faults_book
from vidgate.emulators.faults import FaultBook
from vidgate.emulators.media import SignedUrls, render_job

MODELS = PackageModels("vidgate.providers.kling")
ENDPOINTS = ("text2video", "image2video", "omni-video")
MODES = {"std": "720p", "pro": "1080p", "4k": "4k"}
RATIOS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}
FILTERED_MESSAGE = "Failure to pass the risk control system"
FAILED_MESSAGE = "Task failed: an internal error occurred during generation"
STATUS_HTTP = {
    1000: 401, 1001: 401, 1002: 401, 1003: 401, 1004: 401,
    1100: 429, 1101: 429, 1102: 429, 1103: 403,
    1200: 400, 1201: 400, 1202: 404, 1203: 404,
    1300: 400, 1301: 400, 1302: 429, 1303: 429, 1304: 429,
    5000: 500, 5001: 503, 5002: 504,
}  # fmt: skip


class KlingError(Exception):
    def __init__(self, code: int, message: str, retry_after: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.retry_after = code, message, retry_after

    def response(self) -> JSONResponse:
        headers = {"Retry-After": "1"} if self.retry_after else None
        body = {"code": self.code, "message": self.message, "request_id": str(uuid.uuid4())}
        return JSONResponse(body, status_code=STATUS_HTTP.get(self.code, 500), headers=headers)


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"code": 0, "message": "SUCCEED", "request_id": str(uuid.uuid4()), "data": data})


@dataclass
class Task:
    endpoint: str
    owner: str
    job: EmuJob
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    callback_url: str | None = None


def _size(spec: ModelSpec, tier: str, ratio: tuple[int, int]) -> tuple[int, int] | None:
    for size, size_tier in spec.sizes.items():
        width, _, height = size.partition("x")
        if size_tier == tier and int(width) * ratio[1] == int(height) * ratio[0]:
            return int(width), int(height)
    return None


class KlingEmulator:
    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.faults: FaultBook = faults_book(settings)
        self.tasks: dict[str, Task] = {}
        self.urls = SignedUrls()
        self.callbacks = CallbackSender()

    # ---- auth ------------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> str:
        """The access key of a valid token (Kling's 1001-1004 and 1000 otherwise)."""
        header = request.headers.get("authorization", "")
        if not header:
            raise KlingError(1001, "Authorization is empty")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            raise KlingError(1002, "Authorization is invalid")
        try:
            claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
        except jwt.InvalidTokenError:
            raise KlingError(1002, "Authorization is invalid") from None
        issuer, now = claims.get("iss"), time.time()
        if not isinstance(issuer, str) or not issuer:
            raise KlingError(1002, "Authorization is invalid: no iss")
        if isinstance(claims.get("nbf"), int) and claims["nbf"] > now:
            raise KlingError(1003, "Authorization is not active")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
            raise KlingError(1004, "Authorization is expired")
        key = self.settings.api_key
        if key is not None:
            try:
                jwt.decode(
                    token, key, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False}
                )
            except jwt.InvalidTokenError:
                raise KlingError(1000, "Authorization failed: signature invalid") from None
            if issuer != key:
                raise KlingError(1000, "Authorization failed: access key not found")
        return issuer

    async def slow(self, plan: dict[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(self.settings.slow_seconds)

    # ---- create ----------------------------------------------------------------------------------

    def _spec(self, endpoint: str, body: dict[str, Any]) -> ModelSpec:
        name = body.get("model_name")
        spec = MODELS.find(f"kling/{name}") if isinstance(name, str) else None
        if spec is None:
            raise KlingError(1201, f"model_name is invalid: {name}")
        if (endpoint == "omni-video") != spec.has("reference_images"):
            raise KlingError(1201, f"model_name {name} is not supported on {endpoint}")
        return spec

    def parse(self, endpoint: str, body: dict[str, Any]) -> tuple[ModelSpec, EmuJob]:
        spec = self._spec(endpoint, body)
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or (endpoint != "image2video" and not prompt.strip()):
            raise KlingError(1200, "prompt is required")
        duration = body.get("duration", "5")
        if not isinstance(duration, str) or not duration.isdigit() or int(duration) not in spec.seconds:
            raise KlingError(1201, f"duration value '{duration}' is invalid")
        mode = body.get("mode", "std")
        tier = MODES.get(mode) if isinstance(mode, str) else None
        if tier is None or tier not in spec.sizes.values():
            raise KlingError(1201, f"mode value '{mode}' is invalid for {spec.model}")
        if body.get("sound", "off") not in ("on", "off"):
            raise KlingError(1201, "sound value is invalid")
        image = self._image(body.get("image"), "image")
        if endpoint == "image2video" and image is None and body.get("image") is None:
            raise KlingError(1200, "image is required")
        self._image(body.get("image_tail"), "image_tail")
        for item in body.get("image_list") or []:
            first = self._image(item.get("image_url") if isinstance(item, dict) else None, "image_list")
            if isinstance(item, dict) and item.get("type") == "first_frame":
                image = first
        if "video_list" in body:
            self._video_list(endpoint, spec, body, int(duration))
        ratio_name = body.get("aspect_ratio", "16:9")
        ratio = RATIOS.get(ratio_name) if isinstance(ratio_name, str) else None
        if ratio is None:
            raise KlingError(1201, f"aspect_ratio value '{ratio_name}' is invalid")
        if endpoint == "image2video" and image is not None:  # the frame's shape, not a parameter
            info = sniff(image)
            if info and info.width and info.height:
                ratio = (info.width, info.height)
        dims = _size(spec, tier, ratio)
        if dims is None:
            raise KlingError(1201, "the image aspect ratio is not supported")
        plan = self.faults.plan(prompt)
        job = EmuJob(
            id=str(uuid.uuid4().int)[:18],  # Kling's task ids are long digit strings
            prompt=prompt,
            model=spec.model,
            seconds=int(duration),
            width=dims[0],
            height=dims[1],
            processing_seconds=self.settings.processing_seconds,
            outcome=FaultBook.outcome(plan),
            image=image,
            plan=plan,
        )
        return spec, job

    @staticmethod
    def _video_list(endpoint: str, spec: ModelSpec, body: dict[str, Any], seconds: int) -> None:
        """omni-video's ``video_list``: one ``{video_url, refer_type: feature, keep_original_sound?}``
        (a URL, not fetched here), output 3-10 s, sound off (``base``, an edit, is not served)."""
        items = body["video_list"]
        if endpoint != "omni-video" or not spec.may_offer("reference_videos"):
            raise KlingError(1201, f"video_list is not supported by {spec.model} on {endpoint}")
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            raise KlingError(1201, "video_list must hold exactly one video")
        item = items[0]
        url = item.get("video_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise KlingError(1201, "video_list.video_url is invalid: a URL is required")
        if item.get("refer_type", "base") != "feature":
            raise KlingError(1201, "video_list.refer_type is invalid: only feature is served here")
        if item.get("keep_original_sound", "no") not in ("yes", "no"):
            raise KlingError(1201, "video_list.keep_original_sound is invalid")
        if body.get("sound", "off") != "off":
            raise KlingError(1201, "sound must be off when video_list is given")
        if not 3 <= seconds <= 10:
            raise KlingError(1201, "duration must be 3-10 with a reference video")

    @staticmethod
    def _image(raw: Any, name: str) -> bytes | None:
        """Raw base64 (no ``data:`` prefix, as Kling requires) or an URL (not fetched here)."""
        if raw is None or (isinstance(raw, str) and raw.startswith(("https://", "http://"))):
            return None
        if not isinstance(raw, str) or raw.startswith("data:"):
            raise KlingError(1201, f"{name} is invalid: base64 without a data: prefix, or a URL")
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise KlingError(1201, f"{name} is invalid: not base64") from None
        if sniff(data) is None:
            raise KlingError(1201, f"{name} is invalid: not a jpg/png image")
        return data

    async def create(self, request: Request) -> Response:
        try:
            owner = self.authenticate(request)
            endpoint = request.path_params["endpoint"]
            if endpoint not in ENDPOINTS:
                raise KlingError(1202, "Invalid request method")
            try:
                body = await request.json()
            except ValueError:
                raise KlingError(1200, "request body is not JSON") from None
            if not isinstance(body, dict):
                raise KlingError(1200, "request body must be an object")
            raw_prompt = body.get("prompt")
            prompt = raw_prompt if isinstance(raw_prompt, str) else ""
            plan = self.faults.plan(prompt)
            await self.slow(plan)
            for fault, code in (("429", 1302), ("503", 5001), ("500", 5000)):
                if self.faults.fire(prompt, fault, plan):
                    raise KlingError(code, "emulated fault", retry_after=fault != "500")
            _spec, job = self.parse(endpoint, body)
        except KlingError as exc:
            return exc.response()
        task = Task(endpoint, owner, job)
        self.tasks[job.id] = task
        callback = body.get("callback_url")
        if isinstance(callback, str) and callback.startswith(("http://", "https://")):
            task.callback_url = callback

            def render() -> tuple[bytes, dict[str, str]]:
                body = json.dumps(self.task_json(request, task)).encode()
                return body, {"content-type": "application/json"}

            self.callbacks.schedule(job, callback, render)
        return _ok(self.task_json(request, task, created=True))

    # ---- reads -----------------------------------------------------------------------------------

    def task_json(self, request: Request, task: Task, created: bool = False) -> dict[str, Any]:
        state, _progress = task.job.state()
        status = {"queued": "submitted", "in_progress": "processing", "completed": "succeed"}.get(
            state, "failed"
        )
        if created:
            status = "submitted"
        out: dict[str, Any] = {
            "task_id": task.job.id,
            "task_status": status,
            "task_info": {},
            "created_at": task.created_ms,
            "updated_at": task.created_ms if status in ("submitted",) else int(time.time() * 1000),
        }
        if status == "failed":
            out["task_status_msg"] = FILTERED_MESSAGE if task.job.outcome == "filtered" else FAILED_MESSAGE
        if status == "succeed":
            path = f"/_cdn/{task.job.id}.mp4"
            out["task_status_msg"] = ""
            out["task_result"] = {
                "videos": [
                    {
                        "id": f"v{task.job.id}",
                        "url": f"{str(request.base_url).rstrip('/')}{path}?{self.urls.query(path)}",
                        "duration": str(task.job.seconds),
                    }
                ]
            }
        return out

    def _task(self, request: Request, owner: str) -> Task:
        task = self.tasks.get(request.path_params["task_id"])
        if task is None or task.owner != owner or task.endpoint != request.path_params["endpoint"]:
            raise KlingError(1203, "Resource not found: task does not exist")
        return task

    async def get(self, request: Request) -> Response:
        try:
            task = self._task(request, self.authenticate(request))
            await self.slow(task.job.plan)
            for fault, code in (("poll-429", 1302), ("poll-503", 5001), ("poll-500", 5000)):
                if self.faults.fire(task.job.id, fault, task.job.plan):
                    raise KlingError(code, "emulated fault", retry_after=fault != "poll-500")
        except KlingError as exc:
            return exc.response()
        if self.faults.fire(task.job.id, "drop", task.job.plan):
            return DropResponse()  # type: ignore[return-value]
        return _ok(self.task_json(request, task))

    async def list(self, request: Request) -> Response:
        try:
            owner = self.authenticate(request)
            endpoint = request.path_params["endpoint"]
            number, size = (
                request.query_params.get("pageNum", "1"),
                request.query_params.get("pageSize", "30"),
            )
            if endpoint not in ENDPOINTS or not number.isdigit() or not size.isdigit():
                raise KlingError(1201, "pageNum and pageSize must be integers")
            page, per = int(number), int(size)
            if not 1 <= page <= 1000 or not 1 <= per <= 500:
                raise KlingError(1201, "pageNum must be 1-1000 and pageSize 1-500")
        except KlingError as exc:
            return exc.response()
        mine = [t for t in self.tasks.values() if t.owner == owner and t.endpoint == endpoint]
        mine.sort(key=lambda t: t.created_ms, reverse=True)
        return _ok([self.task_json(request, t) for t in mine[(page - 1) * per : page * per]])

    async def cdn(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        task = self.tasks.get(task_id)
        path = f"/_cdn/{task_id}.mp4"
        q = request.query_params
        if task is None or not self.urls.valid(path, q.get("expires"), q.get("signature")):
            return Response(
                "<Error><Code>AccessDenied</Code></Error>", status_code=403, media_type="application/xml"
            )
        if task.job.state()[0] != "completed" or task.job.outcome != "ok":
            return Response(
                "<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml"
            )
        await self.slow(task.job.plan)
        if self.faults.fire(task.job.id, "download-503", task.job.plan):
            return Response("Service Unavailable", status_code=503, headers={"Retry-After": "1"})
        return FileResponse(await render_job(self.settings, task.job), media_type="video/mp4")


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    """Kling's API as an ASGI app."""
    emulator = KlingEmulator(settings or EmulatorSettings())
    app = Starlette(
        routes=[
            Route("/v1/videos/{endpoint}", emulator.create, methods=["POST"]),
            Route("/v1/videos/{endpoint}", emulator.list, methods=["GET"]),
            Route("/v1/videos/{endpoint}/{task_id}", emulator.get, methods=["GET"]),
            Route("/_cdn/{task_id}.mp4", emulator.cdn, methods=["GET", "HEAD"]),
        ]
    )
    app.state.emulator = emulator  # tests reach the URL signer's clock through it
    return app
