"""Emulator of Ark's content-generation task API (Seedance), shared by the BytePlus and Volcengine hosts.

Routes under ``/api/v3``: ``POST/GET /contents/generations/tasks`` (create, list with ``page_num``,
``page_size``, ``filter.status``, ``filter.model``, ``filter.task_ids``), ``GET/DELETE .../tasks/{id}``.
A finished task's ``content.video_url`` is a signed ``/_storage/...`` URL on this host that expires
``url_ttl_seconds`` after completion (24 h on Ark); each GET of the task signs a fresh one. DELETE
cancels a queued task (``cancelled``), deletes a finished one and refuses a running one. Errors use
Ark's envelope ``{"error": {"code", "message", "param", "type"}}``; a bad key is 401
``AuthenticationError``. Reference videos (``video_url`` items) are read as Ark reads them (its own signed
outputs from the store, other URLs downloaded) and their seconds billed with the output's. Faults: the
shared ``[fault:...]`` tokens. Imports no adapter code.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from vidgate.catalog import ModelSpec, aspect_ratio
from vidgate.catalog.mp4 import probe
from vidgate.emulators.common import (
    DropResponse,
    EmuJob,
    EmulatorSettings,
    PackageModels,
    faults_book,
    key_ok,
)
from vidgate.emulators.faults import FaultBook
from vidgate.render import RenderSpec, render

PREFIX = "/api/v3/contents/generations/tasks"
RETRY_AFTER = "1"
RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
MAX_PAGE_SIZE = 500
MIN_VIDEO_SECONDS, MAX_VIDEO_SECONDS = 2, 15  # one reference video (ModelArk's asset rules)
MAX_VIDEO_BYTES = 50 * 1024 * 1024
FETCH_TIMEOUT = 10.0


class ArkError(Exception):
    def __init__(
        self, status: int, code: str, message: str, kind: str, param: str = "", retry: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "error": {
                "code": code,
                "message": f"{message} Request id: {secrets.token_hex(12)}",
                "param": param,
                "type": kind,
            }
        }
        self.headers = {"retry-after": RETRY_AFTER} if retry else {}


def invalid(param: str, message: str) -> ArkError:
    return ArkError(400, "InvalidParameter", message, "BadRequest", param=param)


@dataclass
class Task:
    job: EmuJob
    owner: str
    ratio: str
    resolution: str
    body: dict[str, Any]
    cancelled_at: float | None = None
    links: set[str] = field(default_factory=set)  # storage tokens signed for this task

    def status(self, now: float | None = None) -> str:
        if self.cancelled_at is not None:
            return "cancelled"
        state, _ = self.job.state(now)
        return {"queued": "queued", "in_progress": "running", "completed": "succeeded"}.get(state, "failed")


@dataclass
class ArkEmulator:
    settings: EmulatorSettings
    models: PackageModels
    provider: str
    url_ttl_seconds: float = 24 * 3600
    tasks: dict[str, Task] = field(default_factory=dict)
    faults: FaultBook = field(init=False)

    def __post_init__(self) -> None:
        self.faults = faults_book(self.settings)

    # ---- helpers -----------------------------------------------------------------------------

    def authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        key = header[7:] if header.lower().startswith("bearer ") else ""
        if not key_ok(self.settings, key):
            raise ArkError(
                401,
                "AuthenticationError",
                "The API key or AK/SK in the request is missing or invalid.",
                "Unauthorized",
            )
        return key

    def task(self, request: Request, key: str) -> Task:
        task_id = request.path_params["task_id"]
        task = self.tasks.get(task_id)
        if task is None or task.owner != key:  # another key's task does not exist for you
            raise ArkError(
                404, "ResourceNotFound", f"The specified task {task_id} is not found.", "NotFound", "task_id"
            )
        return task

    def row(self, model: Any) -> ModelSpec:
        spec = self.models.find(f"{self.provider}/{model}") if isinstance(model, str) else None
        if spec is None:
            raise ArkError(
                404,
                "InvalidEndpointOrModel.NotFound",
                f"The model or endpoint {model} does not exist or you do not have access to it.",
                "NotFound",
                "model",
            )
        return spec

    async def slow(self, plan: dict[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(self.settings.slow_seconds)

    def size(self, spec: ModelSpec, resolution: str, ratio: str) -> tuple[int, int]:
        spec = spec.with_deployment_price()  # Ark serves the sizes vidgate prices only per deployment (4k)
        for size, tier in spec.sizes.items():
            if tier == resolution and aspect_ratio(size) == ratio:
                width, height = size.split("x")
                return int(width), int(height)
        tiers = sorted(set(spec.sizes.values()))
        raise invalid(
            "resolution",
            f"The parameter resolution/ratio ({resolution}, {ratio}) is not supported "
            f"by {spec.model}; resolutions: {', '.join(tiers)}.",
        )

    def task_json(self, task: Task, request: Request) -> dict[str, Any]:
        job = task.job
        status = task.status()
        now = time.time()
        updated = int(task.cancelled_at or min(now, job.created_at + job.processing_seconds))
        body: dict[str, Any] = {
            "id": job.id,
            "model": job.model,
            "status": status,
            "created_at": int(job.created_at),
            "updated_at": updated,
            "seed": job.seed,
            "resolution": task.resolution,
            "ratio": task.ratio,
            "duration": job.seconds,
            "framespersecond": 24,
            "generate_audio": bool(task.body.get("generate_audio", True)),
            "draft": False,
            "service_tier": "default",
            "execution_expires_after": 172800,
        }
        if status == "succeeded":
            token = secrets.token_urlsafe(12)
            task.links.add(token)
            url = str(request.url_for("storage", token=token, filename=f"{job.id}.mp4"))
            body["content"] = {"video_url": url}
            # Ark bills width x height x frames / 1024 tokens, frames = 24 x seconds + 1 (a 720p 4 s task
            # reported 87300 tokens; crazyrouter.com, 2026-06-18, secondary); the seconds of input videos
            # count too (the same source's 720p 4 s task with a reference video: 173,700 = 900 x 193).
            input_seconds = job.extra.get("input_seconds", 0)
            frames = 24 * (job.seconds + (input_seconds if isinstance(input_seconds, int) else 0)) + 1
            body["usage"] = {"completion_tokens": job.width * job.height * frames // 1024}
            body["usage"]["total_tokens"] = body["usage"]["completion_tokens"]
        elif status == "failed":
            if job.outcome == "filtered":
                body["error"] = {
                    "code": "OutputVideoSensitiveContentDetected",
                    "message": "The request failed because the output video may contain sensitive "
                    "information.",
                }
            else:
                body["error"] = {"code": "InternalServiceError", "message": "The video generation failed."}
        return body

    async def reference_seconds(self, spec: ModelSpec, urls: list[str], request: Request) -> int:
        """Ark downloads each reference video and checks it: at most 3 (10 on 2.5), 2-15 s each, 15 s
        in all (30 on 2.5); a public URL or an asset id, never base64. This emulator has no asset
        library; its own signed output URLs are read from its store, other URLs are downloaded."""
        if not urls:
            return 0
        most, total = (10, 30) if "-2-5-" in spec.model else (3, 15)
        if len(urls) > most:
            raise invalid("content", f"At most {most} reference videos are supported by {spec.model}.")
        seconds: list[float] = []
        for url in urls:
            if url.startswith("data:"):
                raise invalid("content.video_url", "Base64 data is not supported for video input.")
            if url.startswith("asset://"):
                raise invalid("content.video_url", f"The asset {url[8:]} does not exist.")
            if not url.startswith(("https://", "http://")):
                raise invalid("content.video_url", "The video url must be a public http(s) URL.")
            own = self.own_video_seconds(url, request)
            seconds.append(own if own is not None else await self.fetched_seconds(url))
        if any(not MIN_VIDEO_SECONDS <= s <= MAX_VIDEO_SECONDS for s in seconds):
            raise invalid(
                "content.video_url",
                f"Each reference video must last {MIN_VIDEO_SECONDS} to {MAX_VIDEO_SECONDS} seconds.",
            )
        if sum(seconds) > total:
            raise invalid("content.video_url", f"The reference videos may last {total} seconds in all.")
        return math.ceil(sum(seconds))

    def own_video_seconds(self, url: str, request: Request) -> float | None:
        """The length of one of this host's signed output URLs, read from the store (no network)."""
        parts = urlsplit(url)
        path = parts.path.split("/")
        if parts.netloc != request.url.netloc or len(path) != 4 or path[1] != "_storage":
            return None
        task = self.tasks.get(path[3].removesuffix(".mp4"))
        if task is None or path[2] not in task.links or self.expired(task):
            raise invalid("content.video_url", "The video url could not be downloaded.")
        return float(task.job.seconds)

    def expired(self, task: Task) -> bool:
        """Whether the task's signed output URLs have expired (``url_ttl_seconds`` after completion)."""
        job = task.job
        return time.time() >= job.created_at + job.processing_seconds + self.url_ttl_seconds

    async def fetched_seconds(self, url: str) -> float:
        """Downloads a reference video (at most 50 MB) and reads its length from the MP4 header."""
        data = bytearray()
        try:
            async with (
                httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=True) as client,
                client.stream("GET", url) as reply,
            ):
                reply.raise_for_status()
                async for chunk in reply.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_VIDEO_BYTES:
                        raise invalid("content.video_url", "The video exceeds 50 MB.")
        except httpx.HTTPError:
            raise invalid("content.video_url", "The video url could not be downloaded.") from None
        info = probe(bytes(data))
        if info is None:
            raise invalid("content.video_url", "The video format is not supported (mp4 or mov).")
        return info.seconds

    # ---- routes ------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        key = self.authenticate(request)
        try:
            body = await request.json()
        except ValueError:
            raise invalid("body", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise invalid("body", "The request body must be a JSON object.")
        body = {k: v for k, v in body.items() if v is not None}  # the SDKs send every unset field as null
        spec = self.row(body.get("model"))
        items = body.get("content")
        if not isinstance(items, list) or not items:
            raise ArkError(
                400, "MissingParameter", "The parameter content is missing.", "BadRequest", "content"
            )
        texts = [i.get("text") for i in items if isinstance(i, dict) and i.get("type") == "text"]
        prompt = texts[0] if len(texts) == 1 and isinstance(texts[0], str) else None
        if prompt is None:
            raise invalid("content", "The parameter content must hold exactly one text item.")
        images: list[tuple[str, str]] = []
        videos: list[str] = []
        for item in items:
            if not isinstance(item, dict) or item.get("type") == "text":
                continue
            if item.get("type") == "video_url" and isinstance(item.get("video_url"), dict):
                if item.get("role", "reference_video") != "reference_video":
                    raise invalid(
                        "content.role", f"The parameter content.role {item.get('role')} is not valid."
                    )
                videos.append(str(item["video_url"].get("url", "")))
                continue
            if item.get("type") != "image_url" or not isinstance(item.get("image_url"), dict):
                raise invalid("content", f"The content item type {item.get('type')} is not supported here.")
            role = item.get("role", "first_frame")
            if role not in ("first_frame", "last_frame", "reference_image"):
                raise invalid("content.role", f"The parameter content.role {role} is not valid.")
            images.append((role, str(item["image_url"].get("url", ""))))
        roles = [r for r, _ in images]
        if "reference_image" in roles and ("first_frame" in roles or "last_frame" in roles):
            raise invalid("content.role", "reference_image cannot be combined with first_frame/last_frame.")
        if videos and ("first_frame" in roles or "last_frame" in roles):
            raise invalid("content.role", "reference_video cannot be combined with first_frame/last_frame.")
        if "last_frame" in roles and "first_frame" not in roles:
            raise invalid("content.role", "last_frame requires a first_frame.")
        input_seconds = await self.reference_seconds(spec, videos, request)
        plan = self.faults.plan(prompt)
        await self.slow(plan)
        if self.faults.fire(prompt, "429", plan):
            raise ArkError(
                429,
                "RateLimitExceeded.EndpointRPMExceeded",
                "The Requests Per Minute (RPM) limit of the associated endpoint for your account has been "
                "exceeded.",
                "TooManyRequests",
                retry=True,
            )
        if self.faults.fire(prompt, "500", plan):
            raise ArkError(
                500,
                "InternalServiceError",
                "The service encountered an unexpected internal error.",
                "InternalServerError",
            )
        if self.faults.fire(prompt, "503", plan):
            raise ArkError(
                503,
                "ServerOverloaded",
                "The service is currently unable to handle additional requests due to server overload.",
                "ServiceUnavailable",
                retry=True,
            )
        ratio = body.get("ratio", "16:9")
        resolution = body.get("resolution", "720p")
        duration = body.get("duration", spec.default_seconds)
        if ratio not in RATIOS:
            raise invalid(
                "ratio", f"The parameter ratio {ratio} is not valid; expected one of {', '.join(RATIOS)}."
            )
        if not isinstance(resolution, str):
            raise invalid("resolution", "The parameter resolution must be a string.")
        if isinstance(duration, bool) or not isinstance(duration, int) or duration not in spec.seconds:
            raise invalid(
                "duration",
                f"The parameter duration {duration} is not valid for {spec.model}; "
                f"expected {spec.seconds[0]} to {spec.seconds[-1]}.",
            )
        width, height = self.size(spec, resolution, ratio)
        seed = body.get("seed", -1)
        if isinstance(seed, bool) or not isinstance(seed, int) or not -1 <= seed <= 4294967295:
            raise invalid("seed", "The parameter seed must be an integer from -1 to 4294967295.")
        job = EmuJob(
            id=f"cgt-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{secrets.token_hex(3)}",
            prompt=prompt,
            model=spec.model,
            seconds=duration,
            width=width,
            height=height,
            processing_seconds=self.settings.processing_seconds,
            outcome=FaultBook.outcome(plan),
            seed=seed if seed >= 0 else secrets.randbelow(2**31),
            plan=plan,
            extra={"images": images, "videos": videos, "input_seconds": input_seconds},
        )
        self.tasks[job.id] = Task(job=job, owner=key, ratio=ratio, resolution=resolution, body=body)
        return JSONResponse({"id": job.id})

    async def get(self, request: Request) -> Response:
        key = self.authenticate(request)
        task = self.task(request, key)
        job = task.job
        await self.slow(job.plan)
        if self.faults.fire(job.id, "drop", job.plan):
            return DropResponse()  # type: ignore[return-value]
        if self.faults.fire(job.id, "poll-429", job.plan):
            raise ArkError(429, "RateLimitExceeded", "Too many requests.", "TooManyRequests", retry=True)
        if self.faults.fire(job.id, "poll-500", job.plan):
            raise ArkError(
                500,
                "InternalServiceError",
                "The service encountered an unexpected internal error.",
                "InternalServerError",
            )
        if self.faults.fire(job.id, "poll-503", job.plan):
            raise ArkError(
                503, "ServerOverloaded", "The service is overloaded.", "ServiceUnavailable", retry=True
            )
        return JSONResponse(self.task_json(task, request))

    async def list(self, request: Request) -> Response:
        key = self.authenticate(request)
        query = request.query_params
        try:
            page_num = int(query.get("page_num", "1"))
            page_size = int(query.get("page_size", "10"))
        except ValueError:
            raise invalid("page_num", "The parameters page_num and page_size must be integers.") from None
        if not 1 <= page_num <= 500 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise invalid("page_size", f"page_num must be 1-500 and page_size 1-{MAX_PAGE_SIZE}.")
        status = query.get("filter.status")
        model = query.get("filter.model")
        ids = set(query.getlist("filter.task_ids"))
        mine = [
            t
            for t in self.tasks.values()
            if t.owner == key
            and (status is None or t.status() == status)
            and (model is None or t.job.model == model)
            and (not ids or t.job.id in ids)
        ]
        mine.sort(key=lambda t: t.job.created_at, reverse=True)
        page = mine[(page_num - 1) * page_size : page_num * page_size]
        return JSONResponse({"total": len(mine), "items": [self.task_json(t, request) for t in page]})

    async def delete(self, request: Request) -> Response:
        key = self.authenticate(request)
        task = self.task(request, key)
        status = task.status()
        if status == "queued":
            task.cancelled_at = time.time()
        elif status in ("succeeded", "failed", "expired"):
            del self.tasks[task.job.id]
        else:
            raise invalid(
                "task_id", f"The task {task.job.id} is {status} and cannot be cancelled or deleted."
            )
        return JSONResponse({})

    async def storage(self, request: Request) -> Response:
        """The signed URL of a finished video: no key, valid until its expiry."""
        filename = request.path_params["filename"]
        task = self.tasks.get(filename.removesuffix(".mp4"))
        if task is None or request.path_params["token"] not in task.links:
            return Response(
                "<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml"
            )
        job = task.job
        if self.expired(task):
            return Response(
                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                status_code=403,
                media_type="application/xml",
            )
        await self.slow(job.plan)
        if self.faults.fire(job.id, "download-503", job.plan):
            return Response("Service Unavailable", status_code=503, headers={"retry-after": RETRY_AFTER})
        spec = RenderSpec(job.prompt, job.seconds, job.width, job.height, seed=job.seed)
        rendered = await anyio.to_thread.run_sync(render, spec, self.settings.cache_dir)
        return FileResponse(rendered.video, media_type="video/mp4")


def ark_app(
    settings: EmulatorSettings, package: str, provider: str, *, url_ttl_seconds: float = 24 * 3600
) -> Starlette:
    """The Ark emulator for one host (``package``'s models.yaml, ids ``{provider}/{model}``)."""
    emulator = ArkEmulator(settings, PackageModels(package), provider, url_ttl_seconds)
    routes = [
        Route(PREFIX, emulator.create, methods=["POST"]),
        Route(PREFIX, emulator.list, methods=["GET"]),
        Route(PREFIX + "/{task_id}", emulator.get, methods=["GET"]),
        Route(PREFIX + "/{task_id}", emulator.delete, methods=["DELETE"]),
        Route("/_storage/{token}/{filename}", emulator.storage, methods=["GET", "HEAD"], name="storage"),
    ]

    async def ark_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ArkError)
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        error = ArkError(
            status,
            "NotFound" if status == 404 else "InvalidAction",
            f"The requested path {request.url.path} is not valid.",
            "NotFound",
        )
        return JSONResponse(error.body, status_code=status)

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        ArkError: ark_error,
        HTTPException: http_error,
    }
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.emulator = emulator
    return app
