"""xAI Grok Imagine video over REST: create, poll, download the expiring URL, remix as an edit.

``POST {base}/videos/generations`` answers ``{request_id}``; ``GET {base}/videos/{request_id}`` answers
``{status, video: {url, duration, respect_moderation}, model, progress, usage, error}``. The URL
expires, so every download reads the request again for a fresh one. There is no list, cancel or delete.
A remix is ``POST {base}/videos/edits`` with the source video's URL (the legacy model only: the row
declares ``remix``). ``api_base`` is the ``/v1`` root, as for the openai SDK.

Edits and extensions (``VideoRequest.task``, the legacy model's ``edit``/``extend`` features; xAI refuses
them for 1.5): ``POST {base}/videos/edits`` ``{model, prompt, video: {url}}`` and ``/videos/extensions``
(+ ``duration``, the added seconds). The source is named by a fresh URL read from its request when it
ran on this deployment (``source_video.native_id``), else sent as a data URI of its bytes (xAI documents
URLs only: data URIs for video are unverified). An edit's source certainly longer than 8.7 s (10 whole
seconds or more) is a 400 naming ``video`` before any call; a 9 s one is left to xAI.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    error_class_for_status,
)
from vidgate.providers.base import BaseProvider, Credentials, Download, Flow, HttpCall, HttpReply, ProviderJob
from vidgate.providers.xai import wire
from vidgate.types import SourceVideo, VideoError, VideoRequest

DEFAULT_API_BASE = "https://api.x.ai/v1"
_ID = re.compile(r"[A-Za-z0-9_.:~-]{1,256}")  # request ids go into URL paths


class XAIProvider(BaseProvider):
    name: ClassVar[str] = "xai"
    reserved_params: ClassVar[Mapping[str, str]] = wire.RESERVED

    def _root(self, creds: Credentials) -> str:
        return (creds.api_base or DEFAULT_API_BASE).rstrip("/")

    def _headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.api_key:
            raise AuthenticationError(
                "The xai provider needs an API key: pass api_key or set XAI_API_KEY.",
                provider=self.name,
                code="missing_api_key",
            )
        return {"Authorization": f"Bearer {creds.api_key}", **creds.extra_headers}

    def _status_call(self, native_id: str, creds: Credentials) -> HttpCall:
        if not _ID.fullmatch(native_id):
            raise NotFoundError(f"No xAI video request '{native_id[:80]}'.", provider=self.name)
        return HttpCall("GET", f"{self._root(creds)}/videos/{native_id}", headers=self._headers(creds))

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        if req.task != "generate":
            return (yield from self._follow_up(req, creds))
        body = wire.create_body(req)
        call = HttpCall(
            "POST",
            f"{self._root(creds)}/videos/generations",
            headers=self._headers(creds),
            json=body,
            retry_safe=False,
        )
        reply = yield call
        return self._accepted(reply, req.model, seconds=req.seconds, size=req.size, prompt=req.prompt)

    def _follow_up(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        """An edit or extension of ``req.source_video``."""
        source = req.source_video
        if source is None:
            raise BadRequestError(f"An xAI video {req.task} needs the source video.", param="video")
        # ``seconds`` is whole seconds rounded up: refuse only a source certainly over the limit.
        if (
            req.task == "edit"
            and source.seconds is not None
            and source.seconds - 1 >= wire.MAX_EDIT_SOURCE_SECONDS
        ):
            raise BadRequestError(
                f"xAI edits videos of at most {wire.MAX_EDIT_SOURCE_SECONDS} s; this one is "
                f"{source.seconds} s.",
                param="video",
            )
        url = yield from self._source_url(source, creds)
        body = wire.follow_up_body(req, url)
        call = HttpCall(
            "POST",
            f"{self._root(creds)}/{wire.FOLLOW_UP_PATHS[req.task]}",
            headers=self._headers(creds),
            json=body,
            retry_safe=False,
        )
        reply = yield call
        return self._accepted(reply, req.model, seconds=req.seconds, size=req.size, prompt=req.prompt)

    def _source_url(self, source: SourceVideo, creds: Credentials) -> Flow[str]:
        """A fresh URL of a finished request of this deployment, else the bytes as a data URI."""
        if source.native_id is not None and _ID.fullmatch(source.native_id):
            try:
                reply = yield self._status_call(source.native_id, creds)
            except NotFoundError:
                reply = None  # expired or not an xAI request of this key: fall back to the bytes
            if reply is not None:
                job = read_job(source.native_id, reply.json())
                if job.status == "completed" and job.outputs:
                    return job.outputs[0]
        if source.data:
            return wire.video_data_url(source.data, source.media_type)
        raise BadRequestError(
            "Invalid 'video': xAI cannot read this video (no bytes, no xAI URL).", param="video"
        )

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self._status_call(native_id, creds)
        return read_job(native_id, reply.json())

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        if variant != "video":
            raise BadRequestError(f"xAI has no '{variant}' content, only the video.", param="variant")
        reply = yield self._status_call(native_id, creds)  # a fresh URL: the last one may have expired
        job = read_job(native_id, reply.json())
        if job.status != "completed" or not job.outputs:
            raise BadRequestError(
                f"Video '{native_id}' is not ready: its status is {job.status}.",
                provider=self.name,
                code="video_not_ready",
            )
        return Download(media_type="video/mp4", call=HttpCall("GET", job.outputs[0]))

    def remix(self, native_id: str, prompt: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield self._status_call(native_id, creds)
        data = reply.json()
        source = read_job(native_id, data)
        if source.status != "completed" or not source.outputs:
            raise BadRequestError(
                f"Video '{native_id}' cannot be edited before it is done (status {source.status}).",
                provider=self.name,
                code="video_not_ready",
            )
        model = str(data.get("model") or "")
        body = {"model": model, "prompt": prompt, "video": {"url": source.outputs[0]}}
        call = HttpCall(
            "POST",
            f"{self._root(creds)}/videos/edits",
            headers=self._headers(creds),
            json=body,
            retry_safe=False,
        )
        created = yield call
        job = self._accepted(created, model, seconds=None, size=None, prompt=prompt)
        return replace(job, remixed_from=native_id, seconds=source.seconds)

    def _accepted(
        self, reply: HttpReply, model: str, *, seconds: int | None, size: str | None, prompt: str
    ) -> ProviderJob:
        data = reply.json()
        request_id = data.get("request_id") if isinstance(data, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise APIError(
                "xAI accepted the request but returned no request_id.", status_code=502, provider=self.name
            )
        return ProviderJob(
            native_id=request_id,
            status="queued",
            model=model,
            prompt=prompt,
            size=size,
            seconds=str(seconds) if seconds is not None else None,
        )

    def error_for(self, reply: HttpReply) -> APIError:
        return error_for(reply, self.name)


def read_job(native_id: str, data: Any) -> ProviderJob:
    """A status reply in OpenAI terms: every xAI status mapped, moderation and expiry as failures."""
    data = data if isinstance(data, dict) else {}
    video = data.get("video") if isinstance(data.get("video"), dict) else {}
    # A request not yet started may answer only {"request_id"}; a reply with a URL and no status is done.
    native = str(data.get("status") or ("done" if video.get("url") else "pending"))
    progress = _progress(data.get("progress"))
    status = wire.STATUS.get(native, "in_progress")
    if native == "pending" and progress == 0:
        status = "queued"
    error: VideoError | None = None
    if native == "done" and video.get("respect_moderation") is False:
        status = "failed"
        error = VideoError(code="moderation_blocked", message="xAI withheld the video (content moderation).")
    elif native == "done" and not video.get("url"):
        status = "failed"
        error = VideoError(code="no_output", message="xAI finished the request without a video URL.")
    elif native == "failed":
        detail = data.get("error") if isinstance(data.get("error"), dict) else {}
        error = VideoError(
            code=str(detail.get("code") or "generation_failed"),
            message=str(detail.get("message") or "xAI could not generate the video."),
        )
    elif native == "expired":
        error = VideoError(code="expired", message="The xAI request expired before its video was fetched.")
    duration = video.get("duration")
    seconds = str(round(duration)) if isinstance(duration, int | float) and duration > 0 else None
    return ProviderJob(
        native_id=native_id,
        status=status,
        model=str(data.get("model") or ""),
        progress=100 if status == "completed" else progress,
        seconds=seconds,
        error=error,
        outputs=(str(video["url"]),) if status == "completed" else (),
        raw=data,
    )


def _progress(value: object) -> int:
    """xAI's ``progress`` (a percentage, possibly fractional), clamped to 0..99 while running."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return max(0, min(99, int(value)))


def error_for(reply: HttpReply, provider: str) -> APIError:
    """xAI errors are ``{"code": "<gRPC status text>", "error": "<message>"}``; an incorrect key is a
    400 ("Incorrect API key provided"), read here as the AuthenticationError it is."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    raw = body.get("error")
    message = raw.get("message") if isinstance(raw, dict) else raw
    if not isinstance(message, str) or not message:
        text = reply.content[:300].decode("utf-8", "replace").strip()
        message = f"xAI answered HTTP {reply.status}" + (f": {text}" if text else ".")
    code = body.get("code")
    kwargs: dict[str, Any] = {
        "code": str(code) if code is not None else None,
        "provider": provider,
        "status_code": reply.status,
        "body": body or reply.content[:1000].decode("utf-8", "replace"),
        "retry_after": _retry_after(reply.headers),
    }
    if reply.status in (400, 401, 403) and "api key" in message.lower():
        return AuthenticationError(message, **{**kwargs, "status_code": 401})
    return error_class_for_status(reply.status)(message, **kwargs)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None
