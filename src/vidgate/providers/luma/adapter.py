"""Luma Ray over the Agents API: create, poll, download the expiring asset URL, delete.

``POST {base}/generations`` (``type: video``, ``model: ray-3.2``) answers a Generation ``{id, state,
...}``; ``GET {base}/generations/{id}`` answers ``state`` (queued, dreaming, completed, failed) with
``assets.video`` once completed and ``failure_reason`` once failed; ``DELETE {base}/generations/{id}``
removes it. The asset URL expires, so every download reads the generation again for a fresh one.
``api_base`` is the ``/v1`` root (``https://agents.lumalabs.ai/v1``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from vidgate.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    error_class_for_status,
)
from vidgate.providers.base import BaseProvider, Credentials, Download, Flow, HttpCall, HttpReply, ProviderJob
from vidgate.providers.luma import wire
from vidgate.types import VideoError, VideoRequest

DEFAULT_API_BASE = "https://agents.lumalabs.ai/v1"
API_VERSION = "2026-04-01"  # the X-API-Version the Agents API answers with
_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # generation ids (UUIDs) go into URL paths
_MODERATION = ("moderation", "moderated", "safety", "content policy")


class LumaProvider(BaseProvider):
    name: ClassVar[str] = "luma"
    reserved_params: ClassVar[Mapping[str, str]] = wire.RESERVED

    def _root(self, creds: Credentials) -> str:
        return (creds.api_base or DEFAULT_API_BASE).rstrip("/")

    def _headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.api_key:
            raise AuthenticationError(
                "The luma provider needs an API key: pass api_key or set LUMA_API_KEY.",
                provider=self.name,
                code="missing_api_key",
            )
        return {"Authorization": f"Bearer {creds.api_key}", **creds.extra_headers}

    def _url(self, native_id: str, creds: Credentials) -> str:
        if not _ID.fullmatch(native_id):
            raise NotFoundError(f"No Luma generation '{native_id[:80]}'.", provider=self.name)
        return f"{self._root(creds)}/generations/{native_id}"

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        body = wire.create_body(req)
        call = HttpCall(
            "POST",
            f"{self._root(creds)}/generations",
            headers=self._headers(creds),
            json=body,
            retry_safe=False,
        )
        reply = yield call
        data = reply.json()
        native_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(native_id, str) or not native_id:
            raise APIError(
                "Luma accepted the request but returned no id.", status_code=502, provider=self.name
            )
        job = read_job(native_id, data)
        return ProviderJob(
            native_id=native_id,
            status="queued" if job.status == "in_progress" else job.status,
            model=req.model,
            prompt=req.prompt,
            size=req.size,
            seconds=str(req.seconds),
            raw=data,
        )

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        reply = yield HttpCall("GET", self._url(native_id, creds), headers=self._headers(creds))
        return read_job(native_id, reply.json())

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        if variant != "video":
            raise BadRequestError(f"Luma has no '{variant}' content, only the video.", param="variant")
        # a fresh URL: the one seen at completion may have expired
        reply = yield HttpCall("GET", self._url(native_id, creds), headers=self._headers(creds))
        job = read_job(native_id, reply.json())
        if job.status != "completed" or not job.outputs:
            raise BadRequestError(
                f"Video '{native_id}' is not ready: its status is {job.status}.",
                provider=self.name,
                code="video_not_ready",
            )
        return Download(media_type="video/mp4", call=HttpCall("GET", job.outputs[0]))

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        yield HttpCall("DELETE", self._url(native_id, creds), headers=self._headers(creds))
        return True

    def error_for(self, reply: HttpReply) -> APIError:
        return error_for(reply, self.name)


def read_job(native_id: str, data: Any) -> ProviderJob:
    """A Generation in OpenAI terms: every Luma state mapped, a moderation failure named as such."""
    data = data if isinstance(data, dict) else {}
    assets = data.get("assets") if isinstance(data.get("assets"), dict) else {}
    native = str(data.get("state") or "queued")
    status = wire.STATUS.get(native, "in_progress")
    video = assets.get("video")
    error: VideoError | None = None
    if status == "completed" and not (isinstance(video, str) and video):
        status = "failed"
        error = VideoError(code="no_output", message="Luma completed the generation without a video URL.")
    elif status == "failed":
        reason = str(data.get("failure_reason") or "Luma could not generate the video.")
        moderated = any(word in reason.lower() for word in _MODERATION)
        error = VideoError(code="moderation_blocked" if moderated else "generation_failed", message=reason)
    return ProviderJob(
        native_id=native_id,
        status=status,
        model=str(data.get("model") or ""),
        progress=100 if status == "completed" else 0,
        error=error,
        outputs=(str(video),) if status == "completed" else (),
        raw=data,
    )


def error_for(reply: HttpReply, provider: str) -> APIError:
    """Luma errors are ``{"detail": "<message>"}`` (FastAPI style); 401 is a bad key, 404 an unknown id."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    detail = body.get("detail")
    message = detail if isinstance(detail, str) and detail else None
    if message is None:
        text = reply.content[:300].decode("utf-8", "replace").strip()
        message = f"Luma answered HTTP {reply.status}" + (f": {text}" if text else ".")
    return error_class_for_status(reply.status)(
        message,
        provider=provider,
        status_code=reply.status,
        body=body or reply.content[:1000].decode("utf-8", "replace"),
        retry_after=_retry_after(reply.headers),
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None
