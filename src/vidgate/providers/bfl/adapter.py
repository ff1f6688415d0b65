"""Black Forest Labs FLUX 3 video: submit, poll the returned ``polling_url``, download ``result.sample``.

``POST {base}/v1/flux-3-video`` (header ``x-key``) answers ``{id, polling_url}``; ``GET {polling_url}``
answers ``{status, result: {sample}}`` with status Pending, Ready, Error, Request Moderated, Content
Moderated or Task not found. The polling URL is the native id (it may name a regional host); the key is
sent to it only when it is https on ``*.bfl.ai`` or on the configured origin (``wire.followable``). A
submit reply whose ``polling_url`` is foreign is never followed: the job is polled at the documented
``{base}/v1/get_result?id=`` instead. The sample URL is signed and expires (about two hours), so every
download polls again for a fresh one. There is no list, cancel or delete.

Callbacks: ``webhook_url`` + ``webhook_secret`` (the gateway's per-job secret) in the submit; BFL POSTs
the result there signed ``X-BFL-Signature: sha256=<hex HMAC-SHA256(webhook_secret, raw body)>`` (BFL's
webhook guide; not confirmed for FLUX 3 video, whose schema is strict).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    error_class_for_status,
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
from vidgate.providers.bfl import wire
from vidgate.types import VideoError, VideoRequest

DEFAULT_API_BASE = "https://api.bfl.ai"
PATH = "/v1/flux-3-video"


class BFLProvider(BaseProvider):
    name: ClassVar[str] = "bfl"
    reserved_params: ClassVar[Mapping[str, str]] = wire.RESERVED

    def _root(self, creds: Credentials) -> str:
        return (creds.api_base or DEFAULT_API_BASE).rstrip("/")

    def _headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.api_key:
            raise AuthenticationError(
                "The bfl provider needs an API key: pass api_key or set BFL_API_KEY.",
                provider=self.name,
                code="missing_api_key",
            )
        return {"x-key": creds.api_key, **creds.extra_headers}

    def _poll(self, native_id: str, creds: Credentials) -> HttpCall:
        if not wire.followable(native_id, self._root(creds)):
            raise NotFoundError(
                f"No BFL task at '{native_id[:120]}' (not a BFL polling URL).", provider=self.name
            )
        return HttpCall("GET", native_id, headers=self._headers(creds))

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        body = wire.create_body(req)
        if creds.provider_callback is not None:  # reserved names: never from extra_body
            body["webhook_url"] = creds.provider_callback.url
            body["webhook_secret"] = creds.provider_callback.secret
        root = self._root(creds)
        call = HttpCall("POST", root + PATH, headers=self._headers(creds), json=body, retry_safe=False)
        reply = yield call
        data = reply.json()
        data = data if isinstance(data, dict) else {}
        task_id, polling_url = data.get("id"), data.get("polling_url")
        if not isinstance(task_id, str) or not task_id:
            raise APIError(
                "BFL accepted the request but returned no id.", status_code=502, provider=self.name
            )
        if not (isinstance(polling_url, str) and wire.followable(polling_url, root)):
            polling_url = f"{root}/v1/get_result?id={quote(task_id, safe='')}"  # never a foreign host
        return ProviderJob(
            native_id=polling_url,
            status="queued",
            model=req.model,
            prompt=req.prompt,
            size=req.size,
            seconds=str(req.seconds),
            raw=data,
        )

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self._poll(native_id, creds)
        return read_job(native_id, reply.json(), self.name)

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        if variant != "video":
            raise BadRequestError(f"BFL has no '{variant}' content, only the video.", param="variant")
        reply = yield self._poll(native_id, creds)  # a fresh signed URL: the last one may have expired
        job = read_job(native_id, reply.json(), self.name)
        if job.status != "completed" or not job.outputs:
            raise BadRequestError(
                f"Video '{native_id[:120]}' is not ready: its status is {job.status}.",
                provider=self.name,
                code="video_not_ready",
            )
        return Download(media_type="video/mp4", call=HttpCall("GET", job.outputs[0]))

    def parse_callback(
        self, delivery: CallbackDelivery, creds: Credentials
    ) -> Flow[ProviderJob | CallbackAnswer]:
        """The result BFL POSTs, signed with the job's ``webhook_secret``."""
        provided = delivery.header("x-bfl-signature") or ""
        mac = hmac.new(delivery.secret.encode(), delivery.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(provided.encode("utf-8", "surrogatepass"), f"sha256={mac}".encode()):
            raise InvalidCallback("no valid X-BFL-Signature")
        data = delivery.json()
        task = data.get("id") if isinstance(data, dict) else None
        ids = parse_qs(urlsplit(delivery.native_id).query).get("id") or []
        if not isinstance(task, str) or task not in ids:
            raise InvalidCallback("the delivery is about another task")
        try:
            return read_job(delivery.native_id, data, self.name)
        except APIError as exc:
            raise InvalidCallback(exc.message) from exc
        yield  # pragma: no cover - a flow that makes no call

    def error_for(self, reply: HttpReply) -> APIError:
        return error_for(reply, self.name)


def read_job(native_id: str, data: Any, provider: str = "bfl") -> ProviderJob:
    """A poll reply in OpenAI terms: every BFL status mapped; an unknown task is a NotFoundError."""
    data = data if isinstance(data, dict) else {}
    native = str(data.get("status") or "Pending")
    if native == wire.NOT_FOUND:
        raise NotFoundError("BFL does not know this task (Task not found).", provider=provider)
    status = wire.STATUS.get(native, "in_progress")
    result = data.get("result") if isinstance(data.get("result"), dict) else {}
    sample = result.get("sample")
    error: VideoError | None = None
    if native in wire.MODERATED:
        error = VideoError(code="moderation_blocked", message=f"BFL withheld the video ({native}).")
    elif status == "failed":
        detail = data.get("error") or data.get("details") or "BFL could not generate the video."
        error = VideoError(code="generation_failed", message=str(detail))
    elif status == "completed" and not (isinstance(sample, str) and sample):
        status = "failed"
        error = VideoError(code="no_output", message="BFL reported Ready without a result sample URL.")
    return ProviderJob(
        native_id=native_id,
        status=status,
        model="flux-3-video",
        progress=100 if status == "completed" else _progress(data.get("progress")),
        error=error,
        outputs=(str(sample),) if status == "completed" else (),
        raw=data,
    )


def _progress(value: object) -> int:
    """``progress`` if BFL sends one (a 0-1 fraction or a percentage), clamped to 0..99 while running."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    percent = value * 100 if value <= 1 else value
    return max(0, min(99, int(percent)))


def error_for(reply: HttpReply, provider: str) -> APIError:
    """BFL errors are FastAPI's ``{"detail": ...}`` (a string, or a list of validation errors for 422);
    401 and 403 are a missing or bad key."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    detail = body.get("detail")
    if isinstance(detail, list):
        message = "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg', '')}"
            if isinstance(item, dict)
            else str(item)
            for item in detail
        )
    else:
        message = detail if isinstance(detail, str) else ""
    if not message:
        text = reply.content[:300].decode("utf-8", "replace").strip()
        message = f"BFL answered HTTP {reply.status}" + (f": {text}" if text else ".")
    kwargs: dict[str, Any] = {
        "provider": provider,
        "status_code": reply.status,
        "body": body or reply.content[:1000].decode("utf-8", "replace"),
        "retry_after": _retry_after(reply.headers),
    }
    if reply.status in (401, 403):
        return AuthenticationError(message, **{**kwargs, "status_code": 401})
    return error_class_for_status(reply.status)(message, **kwargs)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None
