"""Replicate's predictions API as sans-I/O flows.

- create: ``POST /v1/models/{owner}/{name}/predictions`` ``{input}`` (the model's current version), or
  ``POST /v1/predictions`` ``{version, input}`` for ``owner/name:<version>``. No ``Prefer: wait``: a
  video takes minutes, and the reply is the prediction either way.
- retrieve: ``GET /v1/predictions/{id}``: ``starting`` / ``processing`` (progress read from the tqdm-style
  logs, as the official SDK reads it) / ``succeeded`` / ``failed`` / ``canceled`` / ``aborted``; a status
  Replicate adds later reads as ``processing``.
- download: the prediction again (a fresh ``output`` URL: delivery URLs expire), then the file, fetched
  without the token; a URL off Replicate's hosts is refused.
- delete: ``POST /v1/predictions/{id}/cancel`` (a finished prediction stays as it was).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    error_class_for_status,
    invalid_value,
)
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
)
from vidgate.providers.replicate import callbacks
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, VideoError, VideoRequest, VideoStatus

DEFAULT_BASE = "https://api.replicate.com"
REPLICATE_HOSTS = ("replicate.com", "replicate.delivery")  # and their subdomains
_MODEL = re.compile(r"([a-z0-9][a-z0-9._-]*)/([a-z0-9][a-z0-9._-]*)(?::([a-f0-9]{8,64}))?")
_ID = re.compile(r"[a-z0-9]{1,64}")
_PROGRESS = re.compile(r"^\s*(\d+)%\s*\|.+?\|\s*\d+/\d+")  # tqdm, as replicate.Prediction.Progress reads it
STATUS: dict[str, VideoStatus] = {
    "starting": "queued",
    "processing": "in_progress",
    "succeeded": "completed",
    "failed": "failed",
    "canceled": "failed",
    "aborted": "failed",
}
FILTERED_MARKERS = ("flagged as sensitive", "e005", "nsfw", "content policy")

# Native names of what vidgate validates or prices (the Veo and Kling spellings on Replicate).
RESERVED: Mapping[str, str] = {
    "start_image": "input_reference",
    "first_frame_image": "input_reference",
    "end_image": "last_frame",
    "last_frame_image": "last_frame",
    "num_frames": "seconds",
    "fps": "seconds",
    "num_outputs": "n",
    "enable_audio": "generate_audio",
}


def _model(model: str) -> tuple[str, str, str | None]:
    match = _MODEL.fullmatch(model)
    if match is None:
        raise BadRequestError(
            f"Invalid Replicate model '{model}': expected 'owner/name' or 'owner/name:version'.",
            param="model",
        )
    return match.group(1), match.group(2), match.group(3)


def _image(image: ImageInput, param: str) -> str:
    if image.url:
        return image.url
    if image.data is not None:
        mime = image.mime_type or "image/png"
        return f"data:{mime};base64,{base64.b64encode(image.data).decode('ascii')}"
    raise BadRequestError(f"Replicate takes '{param}' as an image or a URL, not a file id.", param=param)


def output_url(output: Any) -> str | None:
    """A video model's ``output``: one URL, or a list whose first item is the video."""
    if isinstance(output, str):
        return output
    if isinstance(output, list) and output and isinstance(output[0], str):
        return output[0]
    return None


def _progress(logs: Any) -> int:
    if not isinstance(logs, str):
        return 0
    for line in reversed(logs.splitlines()):
        match = _PROGRESS.match(line)
        if match:
            return max(0, min(99, int(match.group(1))))
    return 0


def _retry_after(reply: HttpReply) -> float | None:
    value = reply.header("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class ReplicateProvider(BaseProvider):
    name: ClassVar[str] = "replicate"
    reserved_params: ClassVar[Mapping[str, str]] = RESERVED

    def __init__(self) -> None:
        self._signing_secrets: dict[str, str] = {}  # API root -> the account's webhook signing secret

    def _root(self, creds: Credentials) -> str:
        return (creds.api_base or DEFAULT_BASE).rstrip("/")

    def _headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.api_key:
            raise AuthenticationError(
                "The replicate provider needs an API token: pass api_key or set REPLICATE_API_TOKEN.",
                provider=self.name,
                code="missing_api_key",
            )
        return {"Authorization": f"Bearer {creds.api_key}", **creds.extra_headers}

    @staticmethod
    def _id(native_id: str) -> str:
        if not isinstance(native_id, str) or not _ID.fullmatch(native_id):
            raise BadRequestError(f"Invalid video id '{native_id}'.", param="video_id")
        return native_id

    def _on_host(self, url: str, creds: Credentials) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        own = (urlsplit(self._root(creds)).hostname or "").lower()
        return bool(host) and (
            host == own or any(host == h or host.endswith(f".{h}") for h in REPLICATE_HOSTS)
        )

    def body(self, req: VideoRequest) -> dict[str, Any]:
        """The prediction's ``input``: the validated fields in the common Replicate video spelling
        (``duration`` in seconds, ``aspect_ratio``, ``resolution``, ``image``, ``last_frame``), then
        ``extra_body`` (the model's other inputs, untouched)."""
        body: dict[str, Any] = {
            "prompt": req.prompt,
            "duration": req.seconds,
            "aspect_ratio": req.aspect_ratio,
            "resolution": req.resolution,
        }
        if req.input_reference is not None:
            body["image"] = _image(req.input_reference, "input_reference")
        if req.last_frame is not None:
            body["last_frame"] = _image(req.last_frame, "last_frame")
        if req.reference_images:
            body["reference_images"] = [_image(i, "reference_images") for i in req.reference_images]
        for key, value in (
            ("negative_prompt", req.negative_prompt),
            ("seed", req.seed),
            ("generate_audio", req.generate_audio),
        ):
            if value is not None:
                body[key] = value
        check_extra(req.extra_body, self.reserved_params)
        refuse_overlap(req.extra_body, body)
        return {**body, **req.extra_body}

    def _job(self, data: Any) -> ProviderJob:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise APIError("Replicate answered without a prediction id.", status_code=502, provider=self.name)
        native = str(data["id"])
        raw_status = str(data.get("status"))
        # A status Replicate adds later reads as still running (progress from its logs), so the job keeps
        # being polled rather than a 502 failing a paid job or a client's retrieve (as on the task APIs).
        status = STATUS.get(raw_status, "in_progress")
        model = str(data.get("model") or "")
        error: VideoError | None = None
        outputs: tuple[str, ...] = ()
        progress = _progress(data.get("logs")) if status == "in_progress" else 0
        if status == "completed":
            url = output_url(data.get("output"))
            if url is None:
                status = "failed"
                removed = data.get("data_removed")
                code = "output_expired" if removed else "no_video"
                error = VideoError(code=code, message="Replicate's prediction has no video output.")
            else:
                outputs, progress = (url,), 100
        elif status == "failed":
            error = self._failure(raw_status, data.get("error"))
        return ProviderJob(
            native_id=native,
            status=status,
            model=model,
            progress=progress,
            error=error,
            outputs=outputs,
            raw=data,
        )

    @staticmethod
    def _failure(raw_status: str, message: Any) -> VideoError:
        text = str(message or f"The prediction was {raw_status}.")
        if raw_status == "canceled":
            return VideoError(code="cancelled", message=text)
        if raw_status == "aborted":
            return VideoError(code="aborted", message=text)
        if any(marker in text.lower() for marker in FILTERED_MARKERS):
            return VideoError(code="moderation_blocked", message=text)
        return VideoError(code="generation_failed", message=text)

    # ---- operations ----------------------------------------------------------------------------

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        owner, name, version = _model(req.model)
        body: dict[str, Any] = {"input": self.body(req)}
        if version is None:
            url = f"{self._root(creds)}/v1/models/{owner}/{name}/predictions"
        else:
            url, body["version"] = f"{self._root(creds)}/v1/predictions", version
        callback = creds.provider_callback
        if callback is not None:  # called back when the prediction ends (not on start, output or logs)
            body["webhook"] = callback.url
            body["webhook_events_filter"] = ["completed"]
        reply = yield HttpCall("POST", url, headers=self._headers(creds), json=body, retry_safe=False)
        job = self._job(reply.json())
        return ProviderJob(
            native_id=job.native_id,
            status=job.status,
            model=req.model,
            prompt=req.prompt,
            size=req.size,
            seconds=str(req.seconds),
            raw=job.raw,
        )

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        url = f"{self._root(creds)}/v1/predictions/{self._id(native_id)}"
        reply = yield HttpCall("GET", url, headers=self._headers(creds))
        return self._job(reply.json())

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        if variant != "video":
            raise invalid_value("variant", variant, ["video"])
        job = yield from self.retrieve(native_id, creds)
        if not job.outputs:
            raise NotFoundError(
                "Replicate's prediction has no video to download.", provider=self.name, code="video_not_ready"
            )
        url = job.outputs[0]
        if not self._on_host(url, creds):
            raise APIError(
                "Replicate's output points outside Replicate's hosts; vidgate does not follow it.",
                status_code=502,
                provider=self.name,
                code="foreign_output_url",
            )
        return Download(media_type="video/mp4", call=HttpCall("GET", url))

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        """Cancel: a running prediction stops (``canceled``); a finished one is answered as it is."""
        url = f"{self._root(creds)}/v1/predictions/{self._id(native_id)}/cancel"
        yield HttpCall("POST", url, headers=self._headers(creds))
        return True

    def parse_callback(
        self, delivery: CallbackDelivery, creds: Credentials
    ) -> Flow[ProviderJob | CallbackAnswer]:
        """A webhook delivery: the prediction, signed with the account's signing secret (read once
        from ``GET /v1/webhooks/default/secret`` and kept; read again once if a signature fails, in case
        it was rotated)."""
        root = self._root(creds)
        cached = self._signing_secrets.get(root)
        for attempt in range(2):
            secret = cached if attempt == 0 and cached is not None else None
            if secret is None:
                url = f"{root}/v1/webhooks/default/secret"
                reply = yield HttpCall("GET", url, headers=self._headers(creds))
                data = reply.json()
                if not isinstance(data, dict) or not isinstance(data.get("key"), str):
                    raise APIError(
                        "Replicate answered no signing secret.", status_code=502, provider=self.name
                    )
                secret = self._signing_secrets[root] = str(data["key"])
            try:
                callbacks.verify(delivery, secret)
                break
            except InvalidCallback:
                if cached is None or attempt == 1:
                    raise
        try:
            job = self._job(delivery.json())
        except APIError as exc:
            raise InvalidCallback(exc.message) from exc
        if job.native_id != delivery.native_id:
            raise InvalidCallback("the prediction is another job's")
        return job

    def error_for(self, reply: HttpReply) -> APIError:
        try:
            body = reply.json()
        except ValueError:
            body = None
        problem = body if isinstance(body, dict) else {}
        detail = problem.get("detail") or problem.get("title")
        fields = problem.get("invalid_fields")
        if isinstance(fields, list) and fields:
            detail = (
                "; ".join(f"{f.get('field')}: {f.get('description')}" for f in fields if isinstance(f, dict))
                or detail
            )
        if not isinstance(detail, str) or not detail:
            text = reply.content[:300].decode("utf-8", "replace").strip()
            detail = f"Replicate answered HTTP {reply.status}" + (f": {text}" if text else ".")
        common: dict[str, Any] = {
            "provider": self.name,
            "status_code": reply.status,
            "body": body,
            "retry_after": _retry_after(reply),
        }
        if reply.status == 401:
            return AuthenticationError(detail, **common)
        if reply.status in (402, 403):
            return PermissionDeniedError(
                detail,
                code="insufficient_credit" if reply.status == 402 else None,
                **{**common, "status_code": 403},
            )
        if reply.status == 404:
            return NotFoundError(detail, **common)
        if reply.status == 429:
            return RateLimitError(detail, **common)
        if reply.status in (400, 422):
            return BadRequestError(detail, **{**common, "status_code": 400})
        return error_class_for_status(reply.status)(detail, **common)
