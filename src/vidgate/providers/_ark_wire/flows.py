"""Ark's content-generation task API (Seedance), shared by every host that serves it.

``POST {api_base}/contents/generations/tasks`` -> ``{"id": "cgt-..."}``; ``GET .../tasks/{id}`` ->
the task (``queued|running|succeeded|failed|cancelled|expired``, ``content.video_url`` valid 24 h,
``usage.completion_tokens``); ``GET .../tasks?page_num&page_size&filter.*`` -> ``{total, items}``;
``DELETE .../tasks/{id}`` cancels a queued task and deletes a finished one. ``api_base`` means what
the Ark SDKs' ``base_url`` means: the ``.../api/v3`` root. A host subclass sets ``name`` and
``default_api_base``; the shapes are read from ``volcenginesdkarkruntime`` (the SDK wins over the
reference, see ARCHITECTURE.md). Reference videos are ``video_url`` items with role ``reference_video``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from vidgate.catalog import Usage, aspect_ratio
from vidgate.catalog.images import sniff
from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ContentPolicyViolationError,
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
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, SourceVideo, VideoError, VideoRequest, VideoStatus

TASKS = "/contents/generations/tasks"
URL_TTL_SECONDS = 24 * 3600  # content.video_url is valid for 24 hours after the task finishes
MAX_PAGE_SIZE = 500
MAX_LIST_PAGES = 20  # pages walked to find an ``after`` cursor (Ark pages by number, not by id)
MIN_REFERENCE_SECONDS, MAX_REFERENCE_SECONDS = 2, 15  # one reference video's length (ModelArk asset rules)
_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")

STATUS: Mapping[str, VideoStatus] = {
    "queued": "queued",
    "running": "in_progress",
    "succeeded": "completed",
    "failed": "failed",
    "cancelled": "failed",
    "expired": "failed",
}

# Ark's native names for what the gateway validates or prices -> the first-class parameter.
RESERVED: Mapping[str, str] = {
    "content": "prompt",
    "ratio": "size",
    "resolution": "size",
    "duration": "seconds",
    "frames": "seconds",
    "generate_audio": "generate_audio",
    "seed": "seed",
    "draft": "",  # a draft is a different, cheaper product
    "draft_task": "",
    "service_tier": "",  # the flex tier is billed at another rate
    "tools": "",  # tools (web search) are billed on top
    "omni_reference_task_type": "reference_images",
}


def _task_id(native_id: str) -> str:
    if not isinstance(native_id, str) or not _ID.fullmatch(native_id) or native_id in (".", ".."):
        raise BadRequestError(f"Invalid video id '{str(native_id)[:200]}'.", param="video_id")
    return native_id


def image_url(image: ImageInput, param: str) -> str:
    """Ark reads images from an https URL or a ``data:image/<fmt>;base64,...`` URL."""
    if image.data is not None:
        info = sniff(image.data)
        mime = image.mime_type or f"image/{info.format if info is not None else 'png'}"
        return f"data:{mime};base64,{base64.b64encode(image.data).decode('ascii')}"
    if image.url is not None and image.url.startswith(("https://", "http://", "data:image/", "asset://")):
        return image.url
    raise BadRequestError(
        f"Invalid '{param}': Ark reads images from an https URL, a data URL or an asset:// id; "
        "provider file ids are not supported.",
        param=param,
    )


def video_url(video: SourceVideo) -> str:
    """Ark reads a reference video from a public URL or an ``asset://`` id only (no base64 for video,
    per ModelArk's Create reference); the gateway never fetches the caller's URL, Ark does."""
    if video.url is not None and video.url.startswith(("https://", "http://", "asset://")):
        return video.url
    raise BadRequestError(
        "Invalid 'reference_videos': Seedance reads reference videos from a public https URL or an "
        "asset:// id; uploaded bytes and provider file ids are not supported.",
        param="reference_videos",
    )


def check_reference_videos(provider: str, req: VideoRequest) -> None:
    """The row takes reference videos, at most ``max_reference_videos`` of them, each 2-15 s and at most
    ``max_reference_video_seconds`` in all where their lengths are known (a URL's length is Ark's to
    check), and never with first/last frames (a separate scenario on Ark)."""
    row = find_model(f"{provider}/{req.model}")
    if row is None or not row.may_offer("reference_videos"):
        raise BadRequestError(
            f"{provider}/{req.model} does not take reference_videos.", param="reference_videos"
        )
    if req.input_reference is not None or req.last_frame is not None:
        raise BadRequestError(
            "Seedance takes either first/last frames or reference_videos, not both.",
            param="reference_videos",
        )
    if len(req.reference_videos) > row.max_reference_videos:
        raise BadRequestError(
            f"At most {row.max_reference_videos} reference_videos are allowed for {row.id}, "
            f"got {len(req.reference_videos)}.",
            param="reference_videos",
        )
    known = [v.seconds for v in req.reference_videos if v.seconds is not None]
    if any(not MIN_REFERENCE_SECONDS <= s <= MAX_REFERENCE_SECONDS for s in known):
        raise BadRequestError(
            f"Each of reference_videos must last {MIN_REFERENCE_SECONDS} to {MAX_REFERENCE_SECONDS} s.",
            param="reference_videos",
        )
    if row.max_reference_video_seconds and sum(known) > row.max_reference_video_seconds:
        raise BadRequestError(
            f"reference_videos may last {row.max_reference_video_seconds} s in all, got {sum(known)} s.",
            param="reference_videos",
        )


def content(req: VideoRequest, provider: str) -> list[dict[str, Any]]:
    """The ``content[]`` array: the prompt, then images with their roles, then reference videos."""
    items: list[dict[str, Any]] = [{"type": "text", "text": req.prompt}]
    if req.reference_images and req.input_reference is not None:
        raise BadRequestError(
            "Seedance takes either first/last frames or reference_images, not both.",
            param="reference_images",
        )
    if req.reference_videos:
        check_reference_videos(provider, req)

    def image(ref: ImageInput, role: str, param: str) -> dict[str, Any]:
        return {"type": "image_url", "image_url": {"url": image_url(ref, param)}, "role": role}

    if req.input_reference is not None:
        items.append(image(req.input_reference, "first_frame", "input_reference"))
    if req.last_frame is not None:
        items.append(image(req.last_frame, "last_frame", "last_frame"))
    items.extend(image(ref, "reference_image", "reference_images") for ref in req.reference_images)
    items.extend(
        {"type": "video_url", "video_url": {"url": video_url(video)}, "role": "reference_video"}
        for video in req.reference_videos
    )
    return items


def create_body(req: VideoRequest, provider: str) -> dict[str, Any]:
    """The create body: every validated field by its Ark name; ``extra_body`` only beside them."""
    body: dict[str, Any] = {
        "model": req.model,
        "content": content(req, provider),
        "ratio": req.aspect_ratio,
        "resolution": req.resolution,
        "duration": req.seconds,
    }
    if req.generate_audio is not None:
        body["generate_audio"] = req.generate_audio
    if req.seed is not None:
        body["seed"] = req.seed
    check_extra(req.extra_body, RESERVED)
    refuse_overlap(req.extra_body, body)
    return {**body, **req.extra_body}


def size_of(provider: str, model: str, resolution: Any, ratio: Any) -> str | None:
    """The catalogue size with this tier and aspect ratio, a deployment-priced one included (None when
    the row has none)."""
    row = find_model(f"{provider}/{model}")
    if row is None or not isinstance(resolution, str) or not isinstance(ratio, str):
        return None
    sizes = row.with_deployment_price().sizes
    return next((s for s, tier in sizes.items() if tier == resolution and aspect_ratio(s) == ratio), None)


def _int(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def _failure(status: str, raw: Any) -> VideoError:
    error = raw if isinstance(raw, dict) else {}
    code = str(error.get("code") or "")
    message = str(error.get("message") or "")
    if status == "expired":
        return VideoError(code="expired", message=message or "The task timed out before it ran.")
    if status == "cancelled":
        return VideoError(code="cancelled", message=message or "The task was cancelled.")
    if "SensitiveContent" in code:
        return VideoError(code="moderation_blocked", message=message or code)
    return VideoError(code=code or "generation_failed", message=message or "The task failed.")


def parse_task(provider: str, data: Any) -> ProviderJob:
    """An Ark task object in OpenAI terms."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise APIError(f"{provider} answered with an unreadable task.", status_code=502, provider=provider)
    raw_status = str(data.get("status"))
    status = STATUS.get(raw_status, "in_progress")
    model = str(data.get("model") or "")
    updated = _int(data.get("updated_at"))
    video = (data.get("content") or {}).get("video_url") if isinstance(data.get("content"), dict) else None
    usage = data.get("usage")
    tokens = _int(usage.get("completion_tokens")) if isinstance(usage, dict) else None
    duration = _int(data.get("duration"))
    error = _failure(raw_status, data.get("error")) if status == "failed" else None
    if status == "completed" and not (isinstance(video, str) and video):  # nothing to download
        status, error = (
            "failed",
            VideoError(code="no_output", message=f"{provider} succeeded without a video URL."),
        )
    done = status == "completed"
    return ProviderJob(
        native_id=data["id"],
        status=status,
        model=model,
        progress=100 if done else 0,
        created_at=_int(data.get("created_at")),
        completed_at=updated if status in ("completed", "failed") else None,
        expires_at=updated + URL_TTL_SECONDS if done and updated is not None else None,
        size=size_of(provider, model, data.get("resolution"), data.get("ratio")),
        seconds=str(duration) if duration is not None else None,
        error=error,
        outputs=(video,) if done and isinstance(video, str) else (),
        usage=Usage(output_tokens=tokens) if done and tokens is not None else None,
        raw=data,
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


def error_from_reply(reply: HttpReply, provider: str) -> APIError:
    """Ark's envelope ``{"error": {"code", "message", "param", "type"}}`` -> vidgate's tree."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    envelope = body.get("error") if isinstance(body, dict) else None
    envelope = envelope if isinstance(envelope, dict) else {}
    message = envelope.get("message")
    if not isinstance(message, str) or not message:
        text = reply.content[:300].decode("utf-8", "replace").strip()
        message = f"{provider} answered HTTP {reply.status}" + (f": {text}" if text else ".")
    code = str(envelope.get("code")) if envelope.get("code") else None
    param = (
        envelope.get("param") if isinstance(envelope.get("param"), str) and envelope.get("param") else None
    )
    kwargs: dict[str, Any] = {
        "param": param,
        "code": code,
        "provider": provider,
        "status_code": reply.status,
        "body": body if body is not None else reply.content[:1000].decode("utf-8", "replace"),
        "retry_after": retry_after(reply.headers),
    }
    if reply.status == 400 and code is not None and "SensitiveContent" in code:
        return ContentPolicyViolationError(message, **kwargs)
    return error_class_for_status(reply.status)(message, **kwargs)


class ArkProvider(BaseProvider):
    """The flows of one Ark host; a subclass names the provider and its default ``api_base``."""

    reserved_params: ClassVar[Mapping[str, str]] = RESERVED
    default_api_base: ClassVar[str] = ""
    key_env: ClassVar[str] = "ARK_API_KEY"

    def _call(
        self,
        method: str,
        path: str,
        creds: Credentials,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        retry_safe: bool = True,
    ) -> HttpCall:
        if not creds.api_key:
            raise AuthenticationError(
                f"The {self.name} provider needs an API key: pass api_key or set {self.key_env}.",
                provider=self.name,
                code="missing_api_key",
            )
        base = (creds.api_base or self.default_api_base).rstrip("/")
        headers = {**creds.extra_headers, "Authorization": f"Bearer {creds.api_key}"}
        return HttpCall(
            method,
            f"{base}{path}",
            headers=headers,
            params=dict(params or {}),
            json=json,
            retry_safe=retry_safe,
        )

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        body = create_body(req, self.name)
        reply = yield self._call("POST", TASKS, creds, json=body, retry_safe=False)
        data = reply.json()
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise APIError(
                f"{self.name} answered a create without a task id.", status_code=502, provider=self.name
            )
        return ProviderJob(
            native_id=data["id"],
            status="queued",
            model=req.model,
            prompt=req.prompt,
            size=req.size,
            seconds=str(req.seconds),
        )

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self._call("GET", f"{TASKS}/{_task_id(native_id)}", creds)
        return parse_task(self.name, reply.json())

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        """Reads the task again for a fresh ``video_url`` (it expires 24 h after completion), then
        streams it without the key: the URL is signed storage, not the API host."""
        if variant != "video":
            raise BadRequestError(
                f"Invalid variant '{variant}': {self.name} has only 'video'.", param="variant"
            )
        job = yield from self.retrieve(native_id, creds)
        if job.status != "completed" or not job.outputs:
            raise BadRequestError(
                f"Video {native_id} is {job.status}; only a completed video has content.",
                param="video_id",
                code="video_not_ready",
            )
        return Download(media_type="video/mp4", call=HttpCall("GET", job.outputs[0]))

    def list(self, creds: Credentials, *, after: str | None, limit: int, order: str) -> Flow[ProviderPage]:
        """Newest first (Ark's only order). Ark pages by number, so the jobs after an ``after`` cursor
        are collected across pages (at most ``MAX_LIST_PAGES`` requests)."""
        if order != "desc":
            raise BadRequestError(
                f"Invalid order '{order}': {self.name} lists newest first only.", param="order"
            )
        size = max(1, min(limit, MAX_PAGE_SIZE))
        collected: list[ProviderJob] = []
        found = after is None
        more = False
        for page_num in range(1, MAX_LIST_PAGES + 1):
            params = {"page_num": str(page_num), "page_size": str(size)}
            reply = yield self._call("GET", TASKS, creds, params=params)
            data = reply.json()
            items = data.get("items") if isinstance(data, dict) else None
            total = _int(data.get("total")) if isinstance(data, dict) else None
            for item in items or []:
                job = parse_task(self.name, item)
                if found:
                    collected.append(job)
                elif job.native_id == after:
                    found = True
            count = len(items or [])
            more = total > page_num * size if total is not None else count == size
            if len(collected) >= limit or not more:
                break
        return ProviderPage(jobs=tuple(collected[:limit]), has_more=len(collected) > limit or more)

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        """Cancels a queued task, deletes a finished one (Ark refuses a running task: a 400)."""
        yield self._call("DELETE", f"{TASKS}/{_task_id(native_id)}", creds)
        return True

    def error_for(self, reply: HttpReply) -> APIError:
        return error_from_reply(reply, self.name)
