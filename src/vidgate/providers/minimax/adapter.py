"""MiniMax H3's sans-I/O flows on the V2 API: create, query, download from a fresh query, list, cancel.

Mapping: ``prompt`` -> the one ``{"type": "text"}`` item of ``content``; ``input_reference`` /
``last_frame`` -> ``image_url`` items with role ``first_frame`` / ``last_frame``; ``reference_images``
-> role ``reference_image`` (MiniMax takes references or frames, not both: a 400 names the field);
``reference_videos`` -> ``video_url`` items with role ``reference_video`` (https URLs only);
``seconds`` -> ``duration`` (int); the size's tier -> ``resolution``; its shape -> ``ratio``
(``adaptive`` with a first frame, which then sets the shape); ``generate_audio`` -> ``generate_audio``.
Every reply is checked for a failure envelope, because MiniMax sends some failures with HTTP 200.

Callbacks: ``callback_url`` in the create body. MiniMax first checks the URL with ``{"challenge": ...}``,
which must be answered with the same value (its V1 docs; unverified for V2); status deliveries are read
as the query's task (``{"task": {...}}``, or the task's fields at the top level). Unsigned: the gateway's
per-job secret in the URL is the proof.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import replace
from math import gcd
from typing import Any, ClassVar

from vidgate.errors import APIError, BadRequestError, invalid_value
from vidgate.providers.base import (
    BaseProvider,
    CallbackAnswer,
    CallbackDelivery,
    Credentials,
    Download,
    Flow,
    HttpCall,
    HttpReply,
    InvalidCallback,
    ProviderJob,
    ProviderPage,
)
from vidgate.providers.catalogue import find_model
from vidgate.providers.minimax.wire import (
    DEFAULT_BASE,
    PROVIDER,
    STATUS,
    body_of,
    failure_code,
    minimax_error,
)
from vidgate.providers.references import reference_video_urls
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, VideoError, VideoRequest

MAX_PAGE_SIZE = 100
SAFE_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

# MiniMax's native names for what the gateway validates, permits or prices -> the parameter to use.
MINIMAX_RESERVED: Mapping[str, str] = {
    "content": "prompt",
    "text": "prompt",
    "ratio": "size",
    "first_frame_image": "input_reference",
    "last_frame_image": "last_frame",
    "subject_reference": "reference_images",
    "prompt_optimizer": "",
    "fast_pretreatment": "",
}


def _image_url(image: ImageInput, param: str) -> str:
    """An https URL or a ``data:`` URL, as MiniMax's ``image_url.url`` takes them."""
    if image.file_id is not None:
        raise BadRequestError(
            f"Invalid '{param}': MiniMax cannot use a file id ('{image.file_id}'); pass the image itself.",
            param=param,
        )
    if image.url is not None:
        if image.url.startswith(("https://", "data:image/")):
            return image.url
        raise BadRequestError(f"Invalid '{param}': MiniMax takes an https URL or a data: URL.", param=param)
    if not image.data:
        raise BadRequestError(f"Invalid '{param}': the image is empty.", param=param)
    mime = image.mime_type or _sniff(image.data)
    return f"data:{mime};base64,{base64.b64encode(image.data).decode('ascii')}"


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


def _ratio(size: str) -> str:
    width, _, height = size.partition("x")
    w, h = int(width), int(height)
    if abs(w / h - 16 / 9) < 0.01:
        return "16:9"
    if abs(w / h - 9 / 16) < 0.01:
        return "9:16"
    d = gcd(w, h)
    return f"{w // d}:{h // d}"


class MiniMaxProvider(BaseProvider):
    name: ClassVar[str] = PROVIDER
    reserved_params: ClassVar[Mapping[str, str]] = MINIMAX_RESERVED

    def _base(self, creds: Credentials) -> str:
        return (creds.api_base or DEFAULT_BASE).rstrip("/")

    def _headers(self, creds: Credentials) -> dict[str, str]:
        return {**creds.extra_headers, "Authorization": f"Bearer {creds.api_key or ''}"}

    def _checked(self, reply: HttpReply) -> Mapping[str, Any]:
        """The body of a successful reply; a failure envelope at HTTP 200 raises its mapped error."""
        body = body_of(reply)
        if failure_code(body) is not None:
            raise minimax_error(reply)
        return body

    def error_for(self, reply: HttpReply) -> APIError:
        return minimax_error(reply)

    # ---- request mapping -----------------------------------------------------------------------

    def request_body(self, req: VideoRequest) -> dict[str, Any]:
        check_extra(req.extra_body, self.reserved_params)
        if req.reference_images and (req.input_reference is not None or req.last_frame is not None):
            raise BadRequestError(
                "MiniMax takes reference_images or first/last frames, not both.", param="reference_images"
            )
        content: list[dict[str, Any]] = [{"type": "text", "text": req.prompt}]
        for image, role, param in (
            (req.input_reference, "first_frame", "input_reference"),
            (req.last_frame, "last_frame", "last_frame"),
        ):
            if image is not None:
                content.append(
                    {"type": "image_url", "image_url": {"url": _image_url(image, param)}, "role": role}
                )
        for image in req.reference_images:
            url = _image_url(image, "reference_images")
            content.append({"type": "image_url", "image_url": {"url": url}, "role": "reference_image"})
        if req.reference_videos:
            content.extend(self._reference_videos(req))
        body: dict[str, Any] = {
            "model": req.model.removeprefix(f"{PROVIDER}/"),
            "content": content,
            "duration": int(req.seconds),
            "resolution": req.resolution,
            "ratio": "adaptive" if req.input_reference is not None else _ratio(req.size),
            "generate_audio": req.generate_audio is not False,
        }
        for key, value in req.extra_body.items():
            refuse_overlap({key: value}, body)
            body[key] = value
        return body

    @staticmethod
    def _reference_videos(req: VideoRequest) -> list[dict[str, Any]]:
        """``video_url`` items with role ``reference_video``: https URLs MiniMax fetches itself (the
        gateway never does), at most ``max_reference_videos`` of the row, never beside frames."""
        row = find_model(f"{PROVIDER}/{req.model.removeprefix(f'{PROVIDER}/')}")
        if row is None or not row.has("reference_videos"):
            raise BadRequestError(f"{req.model} does not take reference_videos.", param="reference_videos")
        if req.input_reference is not None or req.last_frame is not None:
            raise BadRequestError(
                "MiniMax takes reference_videos or first/last frames, not both.", param="reference_videos"
            )
        if len(req.reference_videos) > row.max_reference_videos:
            raise BadRequestError(
                f"At most {row.max_reference_videos} reference_videos are allowed for {row.id}, "
                f"got {len(req.reference_videos)}.",
                param="reference_videos",
            )
        urls = reference_video_urls(req, "MiniMax", "; uploaded bytes and file ids are not supported")
        return [{"type": "video_url", "video_url": {"url": url}, "role": "reference_video"} for url in urls]

    # ---- reading tasks ---------------------------------------------------------------------------

    def _job(self, task: Mapping[str, Any], model: str = "") -> ProviderJob:
        status, progress, code = STATUS.get(str(task.get("status")), ("in_progress", 50, None))
        content = task.get("content") if isinstance(task.get("content"), dict) else {}
        url = content.get("url") if isinstance(content, dict) else None
        error = None
        if code is not None:
            raw_error = task.get("error")
            detail: Mapping[str, Any] = raw_error if isinstance(raw_error, dict) else {}
            message = str(detail.get("message") or f"The MiniMax task is {task.get('status')}.")
            detail_code = str(detail.get("code") or "")
            code = "moderation_blocked" if detail_code in ("1026", "1027") else code
            error = VideoError(code=code, message=message)
        elif status == "completed" and not url:  # nothing to download: failed, not charged
            status, progress = "failed", 0
            error = VideoError(code="no_output", message="MiniMax reported succeeded without a video URL.")
        created = task.get("created_at")
        return ProviderJob(
            native_id=str(task.get("id") or task.get("task_id") or ""),
            status=status,
            model=str(task.get("model") or model),
            progress=progress,
            created_at=int(created) if isinstance(created, int) else None,
            seconds=str(task["duration"]) if isinstance(task.get("duration"), int) else None,
            error=error,
            outputs=(str(url),) if url else (),
            raw=dict(task),
        )

    def _task_call(self, native_id: str, creds: Credentials) -> HttpCall:
        if not native_id or not set(native_id) <= SAFE_ID:
            raise minimax_error(
                HttpReply(404, {}, b'{"base_resp":{"status_code":2013,"status_msg":"no such task"}}')
            )
        return HttpCall(
            "GET", f"{self._base(creds)}/v2/query/video_generation/{native_id}", headers=self._headers(creds)
        )

    # ---- flows ----------------------------------------------------------------------------------

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        body = self.request_body(req)
        if creds.provider_callback is not None:  # a caller's own callback_url is refused then
            refuse_overlap({"callback_url": creds.provider_callback.url}, body)
            body["callback_url"] = creds.provider_callback.url
        url = f"{self._base(creds)}/v2/video_generation"
        reply = yield HttpCall("POST", url, headers=self._headers(creds), json=body, retry_safe=False)
        data = self._checked(reply)
        task_id = data.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            raise APIError("MiniMax answered the create without a task_id.", provider=PROVIDER)
        job = self._job({"id": task_id, "status": "queued"}, req.model)
        return replace(job, prompt=req.prompt, size=req.size, seconds=str(req.seconds))

    def parse_callback(
        self, delivery: CallbackDelivery, creds: Credentials
    ) -> Flow[ProviderJob | CallbackAnswer]:
        """The URL check (echo the challenge) or a task's status (unsigned: the URL's secret vouches)."""
        data = delivery.json()
        if isinstance(data, dict) and isinstance(data.get("challenge"), str):
            return CallbackAnswer({"challenge": data["challenge"]})
        task = data.get("task") if isinstance(data, dict) else None
        task = task if isinstance(task, dict) else data
        if not isinstance(task, dict) or str(task.get("id") or task.get("task_id")) != delivery.native_id:
            raise InvalidCallback("the delivery is about another task")
        return self._job(task)
        yield  # pragma: no cover - a flow that makes no call

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self._task_call(native_id, creds)
        task = self._checked(reply).get("task")
        if not isinstance(task, dict):
            raise APIError("MiniMax answered the query without a task.", provider=PROVIDER)
        return self._job(task)

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        """Query again (``content.url`` is time-limited; each query signs a fresh one), then stream it."""
        if variant != "video":
            error = invalid_value("variant", variant, ["video"])
            error.message += " MiniMax has no thumbnail or spritesheet."
            raise error
        job = yield from self.retrieve(native_id, creds)
        if job.status != "completed" or not job.outputs:
            raise BadRequestError(
                f"The MiniMax task is {job.raw.get('status')}; its video is not ready.",
                param="video_id",
                provider=PROVIDER,
            )
        return Download(media_type="video/mp4", call=HttpCall("GET", job.outputs[0]))  # no key to the CDN

    def list(self, creds: Credentials, *, after: str | None, limit: int, order: str) -> Flow[ProviderPage]:
        """The newest tasks (MiniMax lists newest first, by page; ``after`` and ascending order are not
        offered by the API and are refused)."""
        if after is not None or order == "asc":
            param = "after" if after is not None else "order"
            raise BadRequestError(
                f"MiniMax lists newest first by page; '{param}' is not supported.",
                param=param,
                provider=PROVIDER,
            )
        size = max(1, min(limit, MAX_PAGE_SIZE))
        reply = yield HttpCall(
            "GET",
            f"{self._base(creds)}/v2/query/video_generation",
            headers=self._headers(creds),
            params={"page_num": "1", "page_size": str(size)},
        )
        data = self._checked(reply)
        raw_tasks = data.get("tasks")
        tasks: list[Any] = raw_tasks if isinstance(raw_tasks, list) else []
        jobs = tuple(self._job(t) for t in tasks if isinstance(t, dict))
        return ProviderPage(jobs=jobs, has_more=bool(data.get("has_more")) or len(jobs) >= size)

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        """``DELETE /v2/video_generation/{task_id}``: cancels a queued or running task, deletes a
        finished one (LiteLLM's reading: "delete or cancel"; unverified)."""
        call = self._task_call(native_id, creds)
        reply = yield replace(
            call, method="DELETE", url=f"{self._base(creds)}/v2/video_generation/{native_id}"
        )
        self._checked(reply)
        return True
