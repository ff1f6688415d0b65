"""Kling's sans-I/O flows: create on text2video / image2video / omni-video, read the task back under the
same path, download from the URL of a fresh read, list, and map every error envelope.

Mapping (Kling's names): ``seconds`` -> ``duration`` (a string), the size's tier -> ``mode`` (720p
``std``, 1080p ``pro``, 4k ``4k``), the size's shape -> ``aspect_ratio`` (not sent to image2video,
which takes the image's), ``generate_audio`` -> ``sound`` ``on|off`` (unset = on, the priced rate),
``input_reference``/``last_frame`` -> ``image``/``image_tail`` (omni: ``image_list`` entries typed
``first_frame``/``end_frame``), ``reference_images`` -> untyped ``image_list`` entries (omni only),
``reference_videos`` -> ``video_list`` (omni only, ``videos.py``).
Images go as raw base64 (Kling refuses a ``data:`` prefix) or as an https URL.

Callbacks: ``callback_url`` in the create body; Kling POSTs the task (the ``data`` of a read) there when
its status changes. Kling does not sign it: the gateway's per-job secret in the URL is the proof.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import replace
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
from vidgate.providers.kling.videos import video_list
from vidgate.providers.kling.wire import (
    DEFAULT_BASE,
    ENDPOINTS,
    ID_SEPARATOR,
    IMAGE2VIDEO,
    MODERATION_WORDS,
    OMNI,
    PROVIDER,
    STATUS,
    TEXT2VIDEO,
    envelope,
    kling_error,
    split_native,
)
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, VideoError, VideoRequest

MODE_FOR_TIER: Mapping[str, str] = {"720p": "std", "1080p": "pro", "4k": "4k"}
MAX_PAGE_SIZE = 500  # Kling's pageSize bound

# Kling's native names for what the gateway validates, permits or prices -> the parameter to use.
KLING_RESERVED: Mapping[str, str] = {
    "model_name": "model",
    "mode": "size",
    "sound": "generate_audio",
    "image_tail": "last_frame",
    "image_list": "input_reference",
    "video_list": "reference_videos",
    "element_list": "",
    "voice_list": "",
    "multi_shot": "",
}


def _image(image: ImageInput, param: str) -> str:
    """An image as Kling takes it: an https URL, or base64 without a ``data:`` prefix."""
    if image.file_id is not None:
        raise BadRequestError(
            f"Invalid '{param}': Kling cannot use a file id ('{image.file_id}'); pass the image itself.",
            param=param,
        )
    if image.url is not None:
        if image.url.startswith("https://"):
            return image.url
        header, sep, payload = image.url.partition(",")
        if image.url.startswith("data:") and sep and header.endswith(";base64"):
            try:
                return base64.b64encode(base64.b64decode(payload, validate=True)).decode("ascii")
            except (binascii.Error, ValueError) as exc:
                raise BadRequestError(
                    f"Invalid '{param}': the data: URL is not base64.", param=param
                ) from exc
        raise BadRequestError(
            f"Invalid '{param}': Kling takes an https URL, a base64 data: URL or the image bytes.",
            param=param,
        )
    if not image.data:
        raise BadRequestError(f"Invalid '{param}': the image is empty.", param=param)
    return base64.b64encode(image.data).decode("ascii")


def _failure(message: str) -> VideoError:
    lowered = message.lower()
    code = "moderation_blocked" if any(w in lowered for w in MODERATION_WORDS) else "kling_task_failed"
    return VideoError(code=code, message=message or "Kling reported the task failed.")


class KlingProvider(BaseProvider):
    name: ClassVar[str] = PROVIDER
    reserved_params: ClassVar[Mapping[str, str]] = KLING_RESERVED

    # ---- the wire ----------------------------------------------------------------------------------

    def _base(self, creds: Credentials) -> str:
        return (creds.api_base or DEFAULT_BASE).rstrip("/")

    def _headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.access_token:
            raise kling_error(HttpReply(401, {}, b'{"code":1001,"message":"no signed token"}'))
        return {**creds.extra_headers, "Authorization": f"Bearer {creds.access_token}"}

    def _data(self, reply: HttpReply) -> Mapping[str, Any]:
        """``data`` of a successful envelope; a non-zero ``code`` on HTTP 200 is still an error."""
        body = envelope(reply)
        if body.get("code") not in (0, None) or not isinstance(body.get("data"), (dict, list)):
            raise kling_error(reply)
        data: Mapping[str, Any] = {"items": body["data"]} if isinstance(body["data"], list) else body["data"]
        return data

    def error_for(self, reply: HttpReply) -> APIError:
        return kling_error(reply)

    # ---- request mapping -----------------------------------------------------------------------

    def endpoint(self, req: VideoRequest) -> str:
        spec = find_model(req.model if "/" in req.model else f"{PROVIDER}/{req.model}")
        if spec is not None and spec.has("reference_images"):
            return OMNI
        return IMAGE2VIDEO if req.input_reference is not None else TEXT2VIDEO

    def request_body(self, req: VideoRequest) -> tuple[str, dict[str, Any]]:
        """(endpoint, body) for a validated request; raises BadRequestError before any call."""
        check_extra(req.extra_body, self.reserved_params)
        model = req.model.removeprefix(f"{PROVIDER}/")
        endpoint = self.endpoint(req)
        mode = MODE_FOR_TIER.get(req.resolution)
        if mode is None:
            raise invalid_value("size", req.size, sorted(MODE_FOR_TIER))
        body: dict[str, Any] = {"model_name": model, "prompt": req.prompt, "mode": mode}
        if req.negative_prompt is not None:
            body["negative_prompt"] = req.negative_prompt
        if endpoint == OMNI:
            images: list[dict[str, str]] = []
            if req.input_reference is not None:
                images.append(
                    {"image_url": _image(req.input_reference, "input_reference"), "type": "first_frame"}
                )
            if req.last_frame is not None:
                images.append({"image_url": _image(req.last_frame, "last_frame"), "type": "end_frame"})
            images += [{"image_url": _image(i, "reference_images")} for i in req.reference_images]
            if images:
                body["image_list"] = images
            if req.reference_videos:
                body["video_list"] = video_list(req)
        elif req.reference_videos:
            raise BadRequestError(f"Kling's {model} takes no reference_videos.", param="reference_videos")
        elif endpoint == IMAGE2VIDEO:
            assert req.input_reference is not None
            body["image"] = _image(req.input_reference, "input_reference")
            if req.last_frame is not None:
                body["image_tail"] = _image(req.last_frame, "last_frame")
        if endpoint != IMAGE2VIDEO:
            body["aspect_ratio"] = req.aspect_ratio
        body["duration"] = str(req.seconds)
        body["sound"] = "off" if req.generate_audio is False or req.reference_videos else "on"
        for key, value in req.extra_body.items():
            refuse_overlap({key: value}, body)
            body[key] = value
        return endpoint, body

    # ---- reading tasks ---------------------------------------------------------------------------

    def _job(self, endpoint: str, data: Mapping[str, Any], model: str = "") -> ProviderJob:
        status, progress = STATUS.get(str(data.get("task_status")), ("in_progress", 50))
        videos = (data.get("task_result") or {}).get("videos") or []
        first = videos[0] if videos and isinstance(videos[0], dict) else {}
        error = _failure(str(data.get("task_status_msg") or "")) if status == "failed" else None
        if status == "completed" and not first.get("url"):  # nothing to download: failed, not charged
            status, progress = "failed", 0
            error = VideoError(code="no_output", message="Kling reported succeed without a video URL.")
        created, updated = data.get("created_at"), data.get("updated_at")
        return ProviderJob(
            native_id=f"{endpoint}{ID_SEPARATOR}{data.get('task_id', '')}",
            status=status,
            model=model,
            progress=progress,
            created_at=created // 1000 if isinstance(created, int) else None,  # Kling sends milliseconds
            completed_at=updated // 1000 if isinstance(updated, int) and status == "completed" else None,
            seconds=str(first["duration"]) if first.get("duration") else None,
            error=error,
            outputs=(str(first["url"]),) if first.get("url") else (),
            raw=dict(data),
        )

    def _get(self, native_id: str, creds: Credentials) -> HttpCall:
        endpoint, task_id = split_native(native_id)
        return HttpCall(
            "GET", f"{self._base(creds)}/v1/videos/{endpoint}/{task_id}", headers=self._headers(creds)
        )

    # ---- flows ----------------------------------------------------------------------------------

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        endpoint, body = self.request_body(req)
        if creds.provider_callback is not None:  # a caller's own callback_url is refused then
            refuse_overlap({"callback_url": creds.provider_callback.url}, body)
            body["callback_url"] = creds.provider_callback.url
        url = f"{self._base(creds)}/v1/videos/{endpoint}"
        reply = yield HttpCall("POST", url, headers=self._headers(creds), json=body, retry_safe=False)
        data = self._data(reply)
        if not data.get("task_id"):
            raise APIError("Kling answered the create without a task_id.", provider=PROVIDER)
        job = self._job(endpoint, data, req.model)
        return replace(job, prompt=req.prompt, size=req.size, seconds=str(req.seconds))

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self._get(native_id, creds)
        return self._job(split_native(native_id)[0], self._data(reply))

    def parse_callback(
        self, delivery: CallbackDelivery, creds: Credentials
    ) -> Flow[ProviderJob | CallbackAnswer]:
        """The task Kling reports (unsigned: only the URL's per-job secret vouches for it)."""
        endpoint, task_id = split_native(delivery.native_id)
        data = delivery.json()
        if isinstance(data, dict) and isinstance(data.get("data"), dict):  # an enveloped delivery
            data = data["data"]
        if not isinstance(data, dict) or str(data.get("task_id")) != task_id:
            raise InvalidCallback("the delivery is about another task")
        return self._job(endpoint, data)
        yield  # pragma: no cover - a flow that makes no call

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        """Read the task again (its URL is signed and expires) and stream the first video from it."""
        if variant != "video":
            error = invalid_value("variant", variant, ["video"])
            error.message += " Kling has no thumbnail or spritesheet."
            raise error
        job = yield from self.retrieve(native_id, creds)
        if job.status != "completed" or not job.outputs:
            raise BadRequestError(
                f"The Kling task is {job.status}; its video is not ready.",
                param="video_id",
                provider=PROVIDER,
            )
        # A signed CDN URL: the Bearer token is not sent there.
        return Download(media_type="video/mp4", call=HttpCall("GET", job.outputs[0]))

    def list(self, creds: Credentials, *, after: str | None, limit: int, order: str) -> Flow[ProviderPage]:
        """The first page of each endpoint's task list, merged by creation time. Kling pages by number,
        not by cursor, so ``after`` cannot be honoured."""
        if after is not None:
            raise BadRequestError(
                "Kling lists tasks by page number; 'after' is not supported.",
                param="after",
                provider=PROVIDER,
            )
        size = str(max(1, min(limit, MAX_PAGE_SIZE)))
        jobs: list[ProviderJob] = []
        full = False
        for endpoint in ENDPOINTS:
            reply = yield HttpCall(
                "GET",
                f"{self._base(creds)}/v1/videos/{endpoint}",
                headers=self._headers(creds),
                params={"pageNum": "1", "pageSize": size},
            )
            items = self._data(reply).get("items") or []
            full = full or len(items) >= int(size)
            jobs += [self._job(endpoint, item) for item in items if isinstance(item, dict)]
        jobs.sort(key=lambda j: j.created_at or 0, reverse=order != "asc")
        return ProviderPage(jobs=tuple(jobs[:limit]), has_more=full or len(jobs) > limit)
