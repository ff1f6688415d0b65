"""DashScope's video-synthesis task API on loopback, for tests and ``vidgate emulate dashscope``.

Imports no adapter code. Reproduces: ``X-DashScope-Async: enable`` required on create (403 without),
``{output: {task_id, task_status}, request_id}``; ``GET /api/v1/tasks/{id}`` PENDING -> RUNNING ->
SUCCEEDED (``video_url`` signed for ``url_ttl`` seconds, ``usage.{duration, video_count, SR}``) or
FAILED with ``output.code/message`` (``DataInspectionFailed`` for moderation); an unknown task id is a
200 with ``UNKNOWN``; ``POST /api/v1/tasks/{id}/cancel`` cancels PENDING tasks only; ``GET /api/v1/tasks``
lists them (``{request_id, data, total, total_page, page_no, page_size}``, items as in DashScope's Java
SDK tests; newest first, an assumption). Errors are
``{request_id, code, message}`` (401 ``InvalidApiKey``). Faults: the shared ``[fault:...]`` tokens.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import calendar
import hashlib
import hmac
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

from vidgate.catalog import ModelSpec
from vidgate.emulators.common import (
    DropResponse,
    EmuJob,
    EmulatorSettings,
    PackageModels,
    faults_book,
    key_ok,
)
from vidgate.render import RenderSpec, render

MODELS = PackageModels("vidgate.providers.dashscope")
CREATE = "/api/v1/services/aigc/video-generation/video-synthesis"
LIST_PAGE_SIZE = 100  # assumed bound (not documented in what we read)
LIST_STATUSES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED")  # the SDK's list docstring
MEDIA_MAX, MEDIA_MAX_VIDEOS, MEDIA_VIDEO_MAX_SECONDS = 5, 3, 10  # Wan 2.7 r2v (secondary sources)


class Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def error(status: int, code: str, message: str, **headers: str) -> Refused:
    body = {"request_id": str(uuid.uuid4()), "code": code, "message": message}
    return Refused(JSONResponse(body, status_code=status, headers=headers))


def create_app(settings: EmulatorSettings | None = None, *, url_ttl: float = 86400.0) -> Starlette:
    settings = settings or EmulatorSettings()
    book = faults_book(settings)
    jobs: dict[str, EmuJob] = {}
    cancelled: set[str] = set()
    secret = secrets.token_bytes(16)

    def authorize(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key_ok(settings, token):
            raise error(401, "InvalidApiKey", "Invalid API-key provided.")

    async def slow(plan: Mapping[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(settings.slow_seconds)

    def transient(subject: str, plan: dict[str, int], prefix: str = "") -> None:
        if book.fire(subject, f"{prefix}429", plan):
            raise error(
                429,
                "Throttling.RateQuota",
                "Requests rate limit exceeded, please try again later.",
                **{"Retry-After": "1"},
            )
        if book.fire(subject, f"{prefix}500", plan):
            raise error(500, "InternalError", "An internal error has occured, please try again later.")
        if book.fire(subject, f"{prefix}503", plan):
            raise error(
                503,
                "ServiceUnavailable",
                "The service is busy, please try again later.",
                **{"Retry-After": "1"},
            )

    def image(value: Any, name: str) -> bytes | None:
        if not isinstance(value, str) or not value:
            raise error(400, "InvalidParameter", f"Field input.{name} must be a URL or a base64 data URI.")
        if not value.startswith("data:"):
            return None
        try:
            return base64.b64decode(value.split(",", 1)[1], validate=True)
        except (IndexError, binascii.Error):
            raise error(400, "InvalidParameter", f"Field input.{name} is not valid base64.") from None

    def dimensions(spec: ModelSpec, parameters: dict[str, Any]) -> tuple[int, int]:
        if "size" in parameters:
            size = str(parameters["size"]).replace("*", "x")
            if size not in spec.sizes:
                allowed = ", ".join(s.replace("x", "*") for s in spec.sizes)
                raise error(
                    400,
                    "InvalidParameter",
                    f"The size {parameters['size']} is not supported; use one of {allowed}.",
                )
            width, height = size.split("x")
            return int(width), int(height)
        resolution = str(parameters.get("resolution", "1080P")).lower()
        landscape = [s for s, tier in spec.sizes.items() if tier == resolution]
        if not landscape:
            raise error(
                400, "InvalidParameter", f"The resolution {parameters.get('resolution')} is not supported."
            )
        width, height = landscape[0].split("x")
        return int(width), int(height)

    def media(spec: ModelSpec, items: Any, duration: int) -> None:
        """Wan 2.7 r2v's ``input.media``: ``{type, url}`` items, ``reference_image`` (a URL or data URI)
        or ``reference_video`` (a public http(s) URL, read by DashScope; not fetched here), at most 5 in
        all and 3 videos; with a video the output lasts at most 10 s (secondary sources, see the adapter)."""
        if items is None:
            return
        if not spec.may_offer("reference_videos") or not isinstance(items, list) or not items:
            raise error(400, "InvalidParameter", f"Model {spec.model} does not take input.media.")
        kinds = [item.get("type") if isinstance(item, dict) else None for item in items]
        if any(kind not in ("reference_image", "reference_video") for kind in kinds):
            raise error(
                400, "InvalidParameter", "input.media[].type must be reference_image or reference_video."
            )
        videos = kinds.count("reference_video")
        if len(items) > MEDIA_MAX or videos > MEDIA_MAX_VIDEOS:
            raise error(
                400, "InvalidParameter", f"At most {MEDIA_MAX} media items, {MEDIA_MAX_VIDEOS} videos."
            )
        for index, item in enumerate(items):
            url = item.get("url")
            if item["type"] == "reference_image":
                image(url, f"media[{index}].url")
            elif not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise error(400, "InvalidParameter", f"Field input.media[{index}].url must be a public URL.")
        if videos and duration > MEDIA_VIDEO_MAX_SECONDS:
            raise error(
                400, "InvalidParameter", f"The duration {duration} is not supported with a reference video."
            )

    def checked(body: dict[str, Any]) -> EmuJob:
        model = body.get("model")
        spec = MODELS.find(f"dashscope/{model}") if isinstance(model, str) else None
        if spec is None:
            raise error(400, "InvalidParameter", f"Model not exist: {model}")
        inputs = body.get("input")
        parameters = body.get("parameters", {})
        if not isinstance(inputs, dict) or not isinstance(parameters, dict):
            raise error(400, "InvalidParameter", "input and parameters must be objects.")
        prompt = inputs.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise error(400, "InvalidParameter", "Field required: input.prompt")
        duration = parameters.get("duration", spec.default_seconds)
        if isinstance(duration, bool) or duration not in spec.seconds:
            raise error(
                400,
                "InvalidParameter",
                f"The duration {duration} is not supported; use one of {list(spec.seconds)}.",
            )
        first = inputs.get("img_url", inputs.get("first_frame_url"))
        if first is not None and not spec.has("image_input"):
            raise error(400, "InvalidParameter", f"Model {model} does not take an input image.")
        if "last_frame_url" in inputs and not spec.has("last_frame"):
            raise error(400, "InvalidParameter", f"Model {model} does not take a last frame.")
        refs = inputs.get("reference_urls")
        if refs is not None:
            if not spec.has("reference_images") or not isinstance(refs, list) or not refs:
                raise error(400, "InvalidParameter", f"Model {model} does not take reference_urls.")
            for index, ref in enumerate(refs):
                image(ref, f"reference_urls[{index}]")
        media(spec, inputs.get("media"), int(duration))
        if spec.has("image_input") and not spec.has("reference_images") and first is None:
            raise error(400, "InvalidParameter", "Field required: input.img_url")
        if "last_frame_url" in inputs:
            image(inputs["last_frame_url"], "last_frame_url")
        width, height = dimensions(spec, parameters)
        plan = book.plan(prompt)
        return EmuJob(
            id=str(uuid.uuid4()),
            prompt=prompt,
            model=str(model),
            seconds=int(duration),
            width=width,
            height=height,
            processing_seconds=settings.processing_seconds,
            outcome=book.outcome(plan),
            image=image(first, "img_url") if first is not None else None,
            plan=plan,
        )

    def signature(job_id: str, expires: int) -> str:
        return hmac.new(secret, f"{job_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def view(request: Request, job: EmuJob) -> dict[str, Any]:
        output: dict[str, Any] = {"task_id": job.id, "submit_time": time.strftime("%Y-%m-%d %H:%M:%S.000")}
        state, _ = job.state()
        usage: dict[str, Any] | None = None
        if job.id in cancelled:
            output["task_status"] = "CANCELED"
        elif state == "queued":
            output["task_status"] = "PENDING"
        elif state == "in_progress":
            output["task_status"] = "RUNNING"
        elif job.outcome == "ok":
            expires = math.ceil(time.time() + url_ttl)
            base = str(request.base_url).rstrip("/")
            output["task_status"] = "SUCCEEDED"
            output["video_url"] = (
                f"{base}/files/{job.id}.mp4?Expires={expires}&Signature={signature(job.id, expires)}"
            )
            output["orig_prompt"] = job.prompt
            usage = {"duration": job.seconds, "video_count": 1, "SR": min(job.width, job.height)}
        else:
            output["task_status"] = "FAILED"
            if job.outcome == "filtered":
                output["code"] = "DataInspectionFailed"
                output["message"] = "Output data may contain inappropriate content."
            else:
                output["code"] = "InternalError.Algo"
                output["message"] = "Video generation failed (emulated [fault:fail])."
        reply: dict[str, Any] = {"request_id": str(uuid.uuid4()), "output": output}
        if usage is not None:
            reply["usage"] = usage
        return reply

    async def create(request: Request) -> Response:
        try:
            authorize(request)
            if request.headers.get("x-dashscope-async", "").lower() != "enable":
                raise error(403, "AccessDenied", "current user api does not support synchronous calls")
            try:
                body = await request.json()
            except ValueError:
                raise error(400, "InvalidParameter", "The request body is not valid JSON.") from None
            if not isinstance(body, dict):
                raise error(400, "InvalidParameter", "The request body must be an object.")
            raw_input = body.get("input")
            prompt = str(raw_input.get("prompt") or "") if isinstance(raw_input, dict) else ""
            plan = book.plan(prompt)
            await slow(plan)
            transient(prompt, plan)
            job = checked(body)
        except Refused as refused:
            return refused.response
        jobs[job.id] = job
        return JSONResponse(
            {"request_id": str(uuid.uuid4()), "output": {"task_id": job.id, "task_status": "PENDING"}}
        )

    async def task(request: Request) -> Response:
        task_id = request.path_params["task_id"]
        try:
            authorize(request)
            job = jobs.get(task_id)
            if job is None:  # DashScope answers an unknown (or expired) task id with UNKNOWN, not 404
                return JSONResponse(
                    {
                        "request_id": str(uuid.uuid4()),
                        "output": {"task_id": task_id, "task_status": "UNKNOWN"},
                    }
                )
            await slow(job.plan)
            if book.fire(job.id, "drop", job.plan):
                return DropResponse()  # type: ignore[return-value]
            transient(job.id, job.plan, prefix="poll-")
        except Refused as refused:
            return refused.response
        return JSONResponse(view(request, job))

    async def cancel(request: Request) -> Response:
        try:
            authorize(request)
            job = jobs.get(request.path_params["task_id"])
            if job is None or job.id in cancelled or job.state()[0] != "queued":
                raise error(
                    400,
                    "UnsupportedOperation",
                    "Failed to cancel the task, please confirm if the task is in PENDING status.",
                )
        except Refused as refused:
            return refused.response
        cancelled.add(job.id)
        return JSONResponse({"request_id": str(uuid.uuid4())})

    def status_of(job: EmuJob) -> str:
        if job.id in cancelled:
            return "CANCELED"
        state, _ = job.state()
        if state == "queued":
            return "PENDING"
        if state == "in_progress":
            return "RUNNING"
        return "SUCCEEDED" if job.outcome == "ok" else "FAILED"

    def moment(query: Mapping[str, str], name: str) -> float | None:
        raw = query.get(name)
        if raw is None:
            return None
        try:
            return calendar.timegm(time.strptime(raw, "%Y%m%d%H%M%S"))
        except ValueError:
            raise error(400, "InvalidParameter", f"{name} must be yyyyMMddHHmmss.") from None

    def list_item(job: EmuJob) -> dict[str, Any]:
        status = status_of(job)
        item: dict[str, Any] = {
            "task_id": job.id,
            "status": status,
            "model_name": job.model,
            "region": "ap-southeast-1",
            "request_id": str(uuid.uuid4()),
            "gmt_create": int(job.created_at * 1000),
            "start_time": int(job.created_at * 1000),
        }
        if status in ("SUCCEEDED", "FAILED"):
            item["end_time"] = int((job.created_at + job.processing_seconds) * 1000)
        return item

    async def list_tasks(request: Request) -> Response:
        """``GET /api/v1/tasks``: the key's tasks, newest first, by page number (``VideoSynthesis.list``)."""
        try:
            authorize(request)
            query = request.query_params
            page_no, page_size = query.get("page_no", "1"), query.get("page_size", "10")
            if not (page_no.isdigit() and page_size.isdigit()):
                raise error(400, "InvalidParameter", "page_no and page_size must be positive integers.")
            number, size = int(page_no), int(page_size)
            if number < 1 or not 1 <= size <= LIST_PAGE_SIZE:
                raise error(
                    400, "InvalidParameter", f"page_no must be >= 1 and page_size 1 to {LIST_PAGE_SIZE}."
                )
            status = query.get("status")
            if status is not None and status not in LIST_STATUSES:
                raise error(400, "InvalidParameter", f"status must be one of {', '.join(LIST_STATUSES)}.")
            start, end = moment(query, "start_time"), moment(query, "end_time")
        except Refused as refused:
            return refused.response
        model = query.get("model_name")
        chosen = [
            job
            for job in jobs.values()
            if (model is None or job.model == model)
            and (status is None or status_of(job) == status)
            and (start is None or job.created_at >= start)
            and (end is None or job.created_at <= end)
        ]
        chosen.sort(key=lambda job: job.created_at, reverse=True)
        page = chosen[(number - 1) * size : number * size]
        return JSONResponse(
            {
                "request_id": str(uuid.uuid4()),
                "data": [list_item(job) for job in page],
                "total": len(chosen),
                "total_page": -(-len(chosen) // size),
                "page_no": number,
                "page_size": size,
            }
        )

    async def file(request: Request) -> Response:
        job = jobs.get(request.path_params["name"].removesuffix(".mp4"))
        expires = request.query_params.get("Expires", "")
        given = request.query_params.get("Signature", "")
        if (
            job is None
            or not expires.isdigit()
            or not hmac.compare_digest(given, signature(job.id, int(expires)))
        ):
            return PlainTextResponse("<Error><Code>SignatureDoesNotMatch</Code></Error>", status_code=403)
        if int(expires) < time.time():
            return PlainTextResponse(
                "<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>",
                status_code=403,
            )
        await slow(job.plan)
        if book.fire(job.id, "download-503", job.plan):
            return PlainTextResponse(
                "<Error><Code>ServiceUnavailable</Code></Error>",
                status_code=503,
                headers={"Retry-After": "1"},
            )
        spec = RenderSpec(job.prompt, job.seconds, job.width, job.height, seed=job.seed, image=job.image)
        rendered = await anyio.to_thread.run_sync(render, spec, settings.cache_dir)
        return FileResponse(rendered.video, media_type="video/mp4")

    return Starlette(
        routes=[
            Route(CREATE, create, methods=["POST"]),
            Route("/api/v1/tasks", list_tasks, methods=["GET"]),
            Route("/api/v1/tasks/{task_id}", task, methods=["GET"]),
            Route("/api/v1/tasks/{task_id}/cancel", cancel, methods=["POST"]),
            Route("/files/{name}", file, methods=["GET"]),
        ]
    )
