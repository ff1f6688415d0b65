"""DashScope video synthesis: an async task (``X-DashScope-Async: enable``), polled by task id.

``POST {base}/services/aigc/video-generation/video-synthesis`` answers ``{output: {task_id,
task_status}, request_id}``; ``GET {base}/tasks/{task_id}`` answers ``output.task_status`` (PENDING,
RUNNING, SUSPENDED, SUCCEEDED, FAILED, CANCELED, UNKNOWN), ``output.video_url`` (valid 24 h) and
``usage.duration``. ``base`` is the ``/api/v1`` root of the key's region (``dashscope.base_http_api_url``).
Errors are ``{request_id, code, message}``. An unknown or expired task id is not an HTTP error: it answers
200 with ``UNKNOWN``, read here as NotFoundError. List is ``GET {base}/tasks`` (``tasklist``); delete is
``POST {base}/tasks/{id}/cancel`` (PENDING only).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from vidgate.catalog import ModelSpec
from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ContentPolicyViolationError,
    NotFoundError,
    error_class_for_status,
)
from vidgate.providers.base import (
    BaseProvider,
    Credentials,
    Download,
    Flow,
    HttpCall,
    HttpReply,
    ProviderJob,
    ProviderPage,
)
from vidgate.providers.catalogue import find_model
from vidgate.providers.dashscope.tasklist import MAX_LIST_PAGES, MAX_PAGE_SIZE, more_pages, read_item
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, VideoError, VideoRequest, VideoStatus

DEFAULT_API_BASE = "https://dashscope-intl.aliyuncs.com/api/v1"
# Wan 2.7 r2v with a reference video makes 2-10 s (2-15 s with images only): several secondary API pages
# (oxen.ai, modellix, powertokens, jiekou); not on Alibaba's page as we hold it.
MEDIA_VIDEO_MAX_SECONDS = 10
CREATE_PATH = "/services/aigc/video-generation/video-synthesis"
_ID = re.compile(r"[A-Za-z0-9_.:~-]{1,256}")

STATUS: Mapping[str, VideoStatus] = {
    "PENDING": "queued",
    "SUSPENDED": "queued",  # paused by the service (throttled); it resumes on its own
    "RUNNING": "in_progress",
    "SUCCEEDED": "completed",
    "FAILED": "failed",
    "CANCELED": "failed",
}
CONTENT_POLICY_CODES = frozenset({"DataInspectionFailed", "DataInspection", "IPInfringementSuspect"})
AUTH_CODES = frozenset({"InvalidApiKey", "AccessDenied.Unpurchased", "Unauthorized"})

# Native names the gateway validates or prices: never through extra_body.
RESERVED: Mapping[str, str] = {
    "img_url": "input_reference",
    "first_frame_url": "input_reference",
    "last_frame_url": "last_frame",
    "head_frame": "input_reference",
    "tail_frame": "last_frame",
    "reference_urls": "reference_images",
    "reference_url": "reference_images",
    "reference_video_urls": "reference_images",
    "media": "reference_images",
    "audio_url": "generate_audio",
    "audio_setting": "generate_audio",
    "ratio": "size",
    "shot_type": "",
    "input": "",
    "parameters": "",
}


def image_url(image: ImageInput, param: str) -> str:
    """An https URL as given, uploaded bytes as a data URI."""
    if image.url is not None:
        return image.url
    if image.data is not None:
        mime = image.mime_type or "image/png"
        return f"data:{mime};base64,{base64.b64encode(image.data).decode('ascii')}"
    raise BadRequestError(
        f"Invalid '{param}': DashScope takes an image URL or an uploaded image, not a file id.", param=param
    )


class DashScopeProvider(BaseProvider):
    name: ClassVar[str] = "dashscope"
    reserved_params: ClassVar[Mapping[str, str]] = RESERVED

    def _root(self, creds: Credentials) -> str:
        return (creds.api_base or DEFAULT_API_BASE).rstrip("/")

    def _headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.api_key:
            raise AuthenticationError(
                "The dashscope provider needs an API key: pass api_key or set DASHSCOPE_API_KEY.",
                provider=self.name,
                code="missing_api_key",
            )
        return {"Authorization": f"Bearer {creds.api_key}", **creds.extra_headers}

    def _task_call(self, native_id: str, creds: Credentials) -> HttpCall:
        if not _ID.fullmatch(native_id):
            raise NotFoundError(f"No DashScope task '{native_id[:80]}'.", provider=self.name)
        return HttpCall("GET", f"{self._root(creds)}/tasks/{native_id}", headers=self._headers(creds))

    def body(self, req: VideoRequest) -> dict[str, Any]:
        """The create body: exactly the validated (and priced) request."""
        check_extra(req.extra_body, RESERVED)
        spec = find_model(f"{self.name}/{req.model}")
        if req.reference_videos:
            return self._media_body(req, spec)
        inputs: dict[str, Any] = {"prompt": req.prompt}
        if req.negative_prompt is not None:
            inputs["negative_prompt"] = req.negative_prompt
        if req.input_reference is not None:
            key = "first_frame_url" if req.last_frame is not None else "img_url"
            inputs[key] = image_url(req.input_reference, "input_reference")
        if req.last_frame is not None:
            inputs["last_frame_url"] = image_url(req.last_frame, "last_frame")
        if req.reference_images:
            inputs["reference_urls"] = [image_url(r, "reference_images") for r in req.reference_images]
        return self._body(req, spec, inputs)

    @staticmethod
    def _body(req: VideoRequest, spec: ModelSpec | None, inputs: dict[str, Any]) -> dict[str, Any]:
        parameters: dict[str, Any] = {"duration": req.seconds}
        if spec is not None and spec.send_resolution:
            parameters["resolution"] = req.resolution.upper()
        else:
            parameters["size"] = req.size.replace("x", "*")
        if req.seed is not None:
            parameters["seed"] = req.seed
        refuse_overlap(req.extra_body, {**inputs, **parameters, "model": req.model})
        return {"model": req.model, "input": inputs, "parameters": {**parameters, **req.extra_body}}

    def _media_body(self, req: VideoRequest, spec: ModelSpec | None) -> dict[str, Any]:
        """Reference videos go in Wan 2.7's ``input.media`` (``{type, url}`` items, the ``media`` argument
        of dashscope 2.0.2's ``VideoSynthesis``), the reference images beside them as ``reference_image``
        items. DashScope bills the input video's seconds too (secondary: fal's and evolink's Wan 2.7
        pages), so a row offers them only on a deployment with its own price
        (``features_priced_by_deployment``; the gateway checked the deployment's row before this)."""
        if spec is None or not spec.may_offer("reference_videos"):
            raise BadRequestError(
                f"{self.name}/{req.model} does not take reference_videos.", param="reference_videos"
            )
        if req.seconds > MEDIA_VIDEO_MAX_SECONDS:
            raise BadRequestError(
                f"With reference_videos {self.name}/{req.model} makes at most {MEDIA_VIDEO_MAX_SECONDS} s "
                f"of video, not {req.seconds}.",
                param="seconds",
            )
        media = [
            {"type": "reference_image", "url": image_url(r, "reference_images")} for r in req.reference_images
        ]
        for video in req.reference_videos:
            if video.url is None:
                raise BadRequestError(
                    "Invalid 'reference_videos': DashScope reads reference videos from a public https URL.",
                    param="reference_videos",
                )
            media.append({"type": "reference_video", "url": video.url})
        inputs: dict[str, Any] = {"prompt": req.prompt, "media": media}
        if req.negative_prompt is not None:
            inputs["negative_prompt"] = req.negative_prompt
        return self._body(req, spec, inputs)

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        body = self.body(req)
        headers = {**self._headers(creds), "X-DashScope-Async": "enable"}
        call = HttpCall("POST", self._root(creds) + CREATE_PATH, headers=headers, json=body, retry_safe=False)
        reply = yield call
        data = reply.json()
        output = data.get("output") if isinstance(data, dict) else None
        output = output if isinstance(output, dict) else {}
        task_id = output.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            raise APIError(
                "DashScope accepted the task but returned no task_id.", status_code=502, provider=self.name
            )
        status: VideoStatus = STATUS.get(str(output.get("task_status")), "queued")
        return ProviderJob(
            native_id=task_id,
            status=status,
            model=req.model,
            prompt=req.prompt,
            size=req.size,
            seconds=str(req.seconds),
        )

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self._task_call(native_id, creds)
        return read_task(native_id, reply.json(), self.name)

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        if variant != "video":
            raise BadRequestError(f"DashScope has no '{variant}' content, only the video.", param="variant")
        reply = yield self._task_call(native_id, creds)
        job = read_task(native_id, reply.json(), self.name)
        if job.status != "completed" or not job.outputs:
            raise BadRequestError(
                f"Task '{native_id}' has no video: its status is {job.status}.",
                provider=self.name,
                code="video_not_ready",
            )
        return Download(media_type="video/mp4", call=HttpCall("GET", job.outputs[0]))

    def list(self, creds: Credentials, *, after: str | None, limit: int, order: str) -> Flow[ProviderPage]:
        """``GET {base}/tasks`` by page number, newest first (see ``tasklist``); the jobs after an
        ``after`` cursor are collected across pages (at most ``MAX_LIST_PAGES`` requests)."""
        if order != "desc":
            raise BadRequestError(
                f"Invalid order '{order}': {self.name} lists newest first only.", param="order"
            )
        size = max(1, min(limit, MAX_PAGE_SIZE))
        collected: list[ProviderJob] = []
        found = after is None
        more = False
        for page_no in range(1, MAX_LIST_PAGES + 1):
            params = {"page_no": str(page_no), "page_size": str(size)}
            call = HttpCall("GET", f"{self._root(creds)}/tasks", headers=self._headers(creds), params=params)
            reply = yield call
            data = reply.json()
            data = data if isinstance(data, dict) else {}
            raw_items = data.get("data")
            items: list[Any] = raw_items if isinstance(raw_items, list) else []
            for item in items:
                job = read_item(item, STATUS, self.name)
                if job is None:
                    continue
                if found:
                    collected.append(job)
                elif job.native_id == after:
                    found = True
            more = more_pages(data, page_no, size, len(items))
            if len(collected) >= limit or not more:
                break
        return ProviderPage(jobs=tuple(collected[:limit]), has_more=len(collected) > limit or more)

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        """``POST {base}/tasks/{id}/cancel``: DashScope cancels PENDING tasks only and has no delete. The
        task is read first: a finished one (all the gateway deletes) has nothing to cancel and cannot be
        removed upstream (its record and URL expire on their own, 24 h), so that is done without a call;
        otherwise it is cancelled, and a RUNNING task's refusal (400 ``UnsupportedOperation``) is raised."""
        job = yield from self.retrieve(native_id, creds)  # checks the id; UNKNOWN is NotFoundError
        if job.status in ("completed", "failed"):
            return True
        yield HttpCall("POST", f"{self._root(creds)}/tasks/{native_id}/cancel", headers=self._headers(creds))
        return True

    def error_for(self, reply: HttpReply) -> APIError:
        return error_for(reply, self.name)


def read_task(native_id: str, data: Any, provider: str = "dashscope") -> ProviderJob:
    """A task reply in OpenAI terms; UNKNOWN (an unknown or expired task id) is NotFoundError. A status
    DashScope adds later reads as in_progress, so the job keeps being polled (as on Kling, xAI, MiniMax,
    Ark and Runway) rather than being failed as lost after repeated 404s."""
    data = data if isinstance(data, dict) else {}
    output = data.get("output") if isinstance(data.get("output"), dict) else {}
    native = str(output.get("task_status") or "UNKNOWN")
    if native == "UNKNOWN":
        raise NotFoundError(
            f"DashScope knows no task '{native_id}' (task_status {native}): unknown or expired.",
            provider=provider,
            code="task_not_found",
        )
    status = STATUS.get(native, "in_progress")
    error: VideoError | None = None
    url = output.get("video_url")
    if native == "FAILED":
        code = str(output.get("code") or "generation_failed")
        message = str(output.get("message") or "DashScope could not generate the video.")
        error = VideoError(
            code="moderation_blocked" if code in CONTENT_POLICY_CODES else code, message=message
        )
    elif native == "CANCELED":
        error = VideoError(code="cancelled", message="The task was cancelled before it started.")
    elif native == "SUCCEEDED" and not url:
        status = "failed"
        error = VideoError(code="no_output", message="DashScope finished the task without a video URL.")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    duration = usage.get("duration")
    seconds = (
        str(round(duration))
        if isinstance(duration, int | float) and not isinstance(duration, bool) and math.isfinite(duration)
        else None
    )
    return ProviderJob(
        native_id=native_id,
        status=status,
        model=str(output.get("model") or ""),
        progress=100 if status == "completed" else (50 if status == "in_progress" else 0),
        seconds=seconds if status == "completed" else None,
        error=error,
        outputs=(str(url),) if status == "completed" else (),
        raw=data,
    )


def error_for(reply: HttpReply, provider: str) -> APIError:
    """``{request_id, code, message}`` mapped by status, with the codes that say more than it."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    message = body.get("message")
    if not isinstance(message, str) or not message:
        text = reply.content[:300].decode("utf-8", "replace").strip()
        message = f"DashScope answered HTTP {reply.status}" + (f": {text}" if text else ".")
    code = str(body["code"]) if body.get("code") is not None else None
    kwargs: dict[str, Any] = {
        "code": code,
        "provider": provider,
        "status_code": reply.status,
        "body": body or reply.content[:1000].decode("utf-8", "replace"),
        "retry_after": _retry_after(reply.headers),
    }
    if code in AUTH_CODES:
        return AuthenticationError(message, **{**kwargs, "status_code": 401})
    if code in CONTENT_POLICY_CODES:
        return ContentPolicyViolationError(message, **{**kwargs, "status_code": 400})
    return error_class_for_status(reply.status)(message, **kwargs)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None
