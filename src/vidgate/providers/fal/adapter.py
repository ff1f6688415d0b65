"""fal's queue API as sans-I/O flows.

- create: ``POST {queue}/{model path}`` with the model's own input -> ``{request_id, status_url,
  response_url, cancel_url}``. The native id is the request's path under the queue root
  (``{owner}/{app}/requests/{id}``: fal serves status and result on the app, not the endpoint path),
  read from the returned ``status_url`` when it is on fal's own hosts (or the configured queue host),
  else rebuilt from the model path: a URL elsewhere is never followed.
- retrieve: ``GET .../status?logs=1`` (``IN_QUEUE`` / ``IN_PROGRESS`` / ``COMPLETED``, failures as
  ``error``/``error_type``; a status fal adds later reads as in_progress); at ``COMPLETED`` the result
  ``GET .../requests/{id}`` names the video.
- download: the result again (a fresh URL), then the file, fetched without the key (a CDN URL).
- delete: ``PUT .../cancel`` (queued: removed; running: cancellation requested; finished: nothing to do).
- callbacks: the submit carries ``?fal_webhook=<the gateway's URL>``; fal POSTs ``{request_id,
  gateway_request_id, status: OK|ERROR, payload, error}`` there, signed with ED25519 (``callbacks``).
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
from vidgate.providers.fal import callbacks
from vidgate.providers.fal.profiles import profile_for
from vidgate.providers.reserved import check_extra, refuse_overlap
from vidgate.types import ImageInput, VideoError, VideoRequest

DEFAULT_QUEUE = "https://queue.fal.run"
FAL_HOSTS = ("fal.run", "fal.ai", "fal.media", "falrun.com")  # fal's own domains (and subdomains)
NAMESPACES = ("workflows", "comfy")  # app ids with a namespace before the owner (as fal-client reads them)
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._~-]*"
_NATIVE = re.compile(rf"(?:{_SEGMENT}/){{2,3}}requests/[A-Za-z0-9-]{{1,64}}")
_PATH = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})+")
CANCELLED_TYPES = frozenset({"request_cancelled", "cancelled", "canceled"})
FILTERED_TYPES = frozenset({"content_policy_violation", "content_policy", "nsfw"})

RESERVED: Mapping[str, str] = {
    "start_image_url": "input_reference",
    "image_url": "input_reference",
    "image_urls": "reference_images",
    "end_image_url": "last_frame",
    "tail_image_url": "last_frame",
    "num_frames": "seconds",
    "frames": "seconds",
    "video_size": "size",
    "image_size": "size",
    "num_videos": "n",
    "enable_audio": "generate_audio",
    "sync_mode": "",  # a data-URI reply would bypass the copy into the gateway's store
}


def _on_fal_host(url: str, creds: Credentials) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    configured = (urlsplit(creds.api_base).hostname or "").lower() if creds.api_base else ""
    return bool(host) and (host == configured or any(host == h or host.endswith(f".{h}") for h in FAL_HOSTS))


def _app(path: str) -> str:
    """``fal-ai/kling-video/v3/pro/text-to-video`` -> ``fal-ai/kling-video`` (the queue's app)."""
    parts = path.split("/")
    return "/".join(parts[:3] if parts[0] in NAMESPACES else parts[:2])


def _image(image: ImageInput, param: str) -> str:
    if image.url:
        return image.url
    if image.data is not None:
        mime = image.mime_type or "image/png"
        return f"data:{mime};base64,{base64.b64encode(image.data).decode('ascii')}"
    raise BadRequestError(f"fal takes '{param}' as an image or a URL, not a file id.", param=param)


def _message(body: Any, reply: HttpReply) -> str:
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str) and detail:
        return detail
    if isinstance(detail, list):  # pydantic-style validation errors from the model app
        parts = [
            f"{'.'.join(str(p) for p in item.get('loc', [])[1:]) or 'input'}: {item.get('msg')}"
            for item in detail
            if isinstance(item, dict)
        ]
        if parts:
            return "; ".join(parts)
    text = reply.content[:300].decode("utf-8", "replace").strip()
    return f"fal answered HTTP {reply.status}" + (f": {text}" if text else ".")


def _retry_after(reply: HttpReply) -> float | None:
    value = reply.header("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def video_url(result: Any) -> str | None:
    """The output video's URL: ``video.url`` (most apps), ``videos[0].url``, else ``video_url``."""
    if not isinstance(result, dict):
        return None
    for key in ("video", "output"):
        item = result.get(key)
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            return str(item["url"])
    videos = result.get("videos")
    if isinstance(videos, list) and videos and isinstance(videos[0], dict):
        url = videos[0].get("url")
        return url if isinstance(url, str) else None
    url = result.get("video_url")
    return url if isinstance(url, str) else None


class FalProvider(BaseProvider):
    name: ClassVar[str] = "fal"
    reserved_params: ClassVar[Mapping[str, str]] = RESERVED

    def __init__(self) -> None:
        self._jwks: dict[str, tuple[tuple[bytes, ...], float]] = {}  # JWKS URL -> (keys, fetched at)

    # ---- plumbing ------------------------------------------------------------------------------

    def _root(self, creds: Credentials) -> str:
        return (creds.api_base or DEFAULT_QUEUE).rstrip("/")

    def _headers(self, creds: Credentials) -> dict[str, str]:
        if not creds.api_key:
            raise AuthenticationError(
                "The fal provider needs an API key: pass api_key or set FAL_KEY.",
                provider=self.name,
                code="missing_api_key",
            )
        return {"Authorization": f"Key {creds.api_key}", **creds.extra_headers}

    @staticmethod
    def _native(native_id: str) -> str:
        if not isinstance(native_id, str) or not _NATIVE.fullmatch(native_id) or ".." in native_id:
            raise BadRequestError(f"Invalid video id '{native_id}'.", param="video_id")
        return native_id

    def _native_from(self, data: Any, path: str, creds: Credentials) -> str:
        if not isinstance(data, dict) or not isinstance(data.get("request_id"), str):
            raise APIError("fal's submit reply has no request_id.", status_code=502, provider=self.name)
        status_url = data.get("status_url")
        root = self._root(creds)
        if isinstance(status_url, str) and _on_fal_host(status_url, creds):
            found = urlsplit(status_url).path
            root_path = urlsplit(root).path.rstrip("/")
            if found.startswith(f"{root_path}/") and found.endswith("/status"):
                candidate = found[len(root_path) + 1 : -len("/status")]
                if _NATIVE.fullmatch(candidate):
                    return candidate
        return self._native(f"{_app(path)}/requests/{data['request_id']}")

    def body(self, req: VideoRequest) -> dict[str, Any]:
        """The model's input: the validated fields in its family's spelling, then ``extra_body``."""
        profile = profile_for(req.model)
        body: dict[str, Any] = {"prompt": req.prompt, "duration": f"{req.seconds}{profile.duration_suffix}"}
        if req.input_reference is None or profile.aspect_with_image:
            body["aspect_ratio"] = req.aspect_ratio
        if profile.send_resolution:
            body["resolution"] = req.resolution
        if req.input_reference is not None:
            body[profile.image_field] = _image(req.input_reference, "input_reference")
        if req.last_frame is not None:
            body[profile.end_image_field] = _image(req.last_frame, "last_frame")
        if req.reference_images:
            body["image_urls"] = [_image(i, "reference_images") for i in req.reference_images]
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

    def _job(self, native_id: str, status: Any, result: Any = None) -> ProviderJob:
        state = status.get("status") if isinstance(status, dict) else None
        if not isinstance(state, str):
            raise APIError(
                "fal answered a status reply without a status.", status_code=502, provider=self.name
            )
        app = native_id.rsplit("/requests/", 1)[0]
        if state == "IN_QUEUE":
            return ProviderJob(native_id=native_id, status="queued", model=app, raw=status)
        if state != "COMPLETED":  # IN_PROGRESS, or a status fal adds later: still running, keep polling
            # (as the other adapters do) rather than a 502 that would fail a paid job or a retrieve
            return ProviderJob(native_id=native_id, status="in_progress", model=app, progress=1, raw=status)
        error = status.get("error")
        if error:
            return ProviderJob(
                native_id=native_id,
                status="failed",
                model=app,
                error=self._failure(str(error), status.get("error_type")),
                raw=status,
            )
        url = video_url(result)
        if url is None:
            failure = VideoError(code="no_video", message="fal's result names no video.")
            return ProviderJob(native_id=native_id, status="failed", model=app, error=failure, raw=status)
        return ProviderJob(
            native_id=native_id, status="completed", model=app, progress=100, outputs=(url,), raw=status
        )

    @staticmethod
    def _failure(message: str, error_type: Any) -> VideoError:
        kind = str(error_type or "").lower()
        if kind in CANCELLED_TYPES:
            return VideoError(code="cancelled", message=message)
        if kind in FILTERED_TYPES:
            return VideoError(code="moderation_blocked", message=message)
        return VideoError(code=kind or "generation_failed", message=message)

    # ---- operations ----------------------------------------------------------------------------

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        if not _PATH.fullmatch(req.model) or ".." in req.model:
            raise BadRequestError(
                f"Invalid fal model path '{req.model}': expected 'owner/app[/path]'.", param="model"
            )
        body = self.body(req)
        callback = creds.provider_callback
        reply = yield HttpCall(
            "POST",
            f"{self._root(creds)}/{req.model}",
            headers=self._headers(creds),
            params={"fal_webhook": callback.url} if callback is not None else {},
            json=body,
            retry_safe=False,
        )
        data = reply.json()
        native = self._native_from(data, req.model, creds)
        return ProviderJob(
            native_id=native,
            status="queued",
            model=req.model,
            prompt=req.prompt,
            size=req.size,
            seconds=str(req.seconds),
            raw=data if isinstance(data, dict) else {},
        )

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        url = f"{self._root(creds)}/{self._native(native_id)}"
        reply = yield HttpCall("GET", f"{url}/status", headers=self._headers(creds), params={"logs": "1"})
        status = reply.json()
        if isinstance(status, dict) and status.get("status") == "COMPLETED" and not status.get("error"):
            try:
                result = (yield HttpCall("GET", url, headers=self._headers(creds))).json()
            except BadRequestError as exc:  # the app refused its input: the job failed, nothing to fetch
                failed = {**status, "error": exc.message, "error_type": exc.code or "invalid_input"}
                return self._job(native_id, failed)
            return self._job(native_id, status, result)
        return self._job(native_id, status)

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        if variant != "video":
            raise invalid_value("variant", variant, ["video"])
        url = f"{self._root(creds)}/{self._native(native_id)}"
        result = (yield HttpCall("GET", url, headers=self._headers(creds))).json()
        found = video_url(result)
        if found is None:
            raise NotFoundError("fal's result names no video.", provider=self.name, code="video_not_ready")
        if not _on_fal_host(found, creds):
            raise APIError(
                "fal's result points outside fal's hosts; vidgate does not follow it.",
                status_code=502,
                provider=self.name,
                code="foreign_output_url",
            )
        return Download(media_type="video/mp4", call=HttpCall("GET", found))

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        """Cancel (fal has no delete): ``CANCELLATION_REQUESTED`` for a queued or running request; 400
        ``ALREADY_COMPLETED`` means nothing is left to stop (the gateway deletes only finished videos and
        drops its own copy), so it counts as done; any other refusal is raised."""
        url = f"{self._root(creds)}/{self._native(native_id)}/cancel"
        reply = yield HttpCall("PUT", url, headers=self._headers(creds), ok_statuses=frozenset({400}))
        if reply.status == 400:
            body = reply.json() if reply.content.startswith(b"{") else None
            if not (isinstance(body, dict) and body.get("status") == "ALREADY_COMPLETED"):
                raise self.error_for(reply)
        return True

    def parse_callback(
        self, delivery: CallbackDelivery, creds: Credentials
    ) -> Flow[ProviderJob | CallbackAnswer]:
        """A webhook delivery, verified against fal's published keys (fetched without the API key,
        kept ``JWKS_TTL_SECONDS``, fetched again once when no kept key verifies: fal rotated them)."""
        signed, signature = callbacks.message(delivery)
        url = creds.options.get("webhook_jwks_url") or callbacks.DEFAULT_JWKS_URL
        kept = self._jwks.get(url)
        fresh = kept is not None and delivery.now - kept[1] < callbacks.JWKS_TTL_SECONDS
        keys = kept[0] if kept is not None and fresh else ()
        if not callbacks.verified(keys, signed, signature):
            reply = yield HttpCall("GET", url)
            keys = callbacks.public_keys(reply.json())
            self._jwks[url] = (keys, delivery.now)
            if not callbacks.verified(keys, signed, signature):
                raise InvalidCallback("no fal key verifies X-Fal-Webhook-Signature")
        data = delivery.json()
        request_id = delivery.native_id.rsplit("/requests/", 1)[-1]
        if not isinstance(data, dict) or data.get("request_id") != request_id:
            raise InvalidCallback("the delivery is about another request")
        if delivery.header("x-fal-webhook-request-id") != request_id:
            raise InvalidCallback("the signed request id is another request's")
        return self._delivered(delivery.native_id, data)

    def _delivered(self, native_id: str, data: dict[str, Any]) -> ProviderJob:
        app = native_id.rsplit("/requests/", 1)[0]
        if data.get("status") == "OK":
            url = video_url(data.get("payload"))
            if url is None:  # fal sends payload null (+ payload_error) when it could not serialize it:
                # the result is still on the queue, so the fallback poll reads it there
                return ProviderJob(native_id=native_id, status="in_progress", model=app, raw=data)
            return ProviderJob(
                native_id=native_id, status="completed", model=app, progress=100, outputs=(url,), raw=data
            )
        if data.get("status") != "ERROR":
            raise InvalidCallback(f"unknown webhook status {data.get('status')!r}")
        payload = data.get("payload")
        detail = payload.get("detail") if isinstance(payload, dict) else None
        first = detail[0] if isinstance(detail, list) and detail and isinstance(detail[0], dict) else {}
        kind = data.get("error_type") or first.get("type")
        message = str(data.get("error") or first.get("msg") or "fal reported an error.")
        return ProviderJob(
            native_id=native_id, status="failed", model=app, error=self._failure(message, kind), raw=data
        )

    def error_for(self, reply: HttpReply) -> APIError:
        try:
            body = reply.json()
        except ValueError:
            body = None
        message = _message(body, reply)
        kind = body.get("error_type") if isinstance(body, dict) else None
        kind = kind or reply.header("x-fal-error-type")
        common: dict[str, Any] = {
            "provider": self.name,
            "status_code": reply.status,
            "body": body,
            "code": str(kind) if kind else None,
            "retry_after": _retry_after(reply),
        }
        if reply.status == 401:
            return AuthenticationError(message, **common)
        if reply.status == 403:
            return PermissionDeniedError(message, **common)
        if reply.status == 404:
            return NotFoundError(message, **common)
        if reply.status == 429:
            return RateLimitError(message, **common)
        if reply.status in (400, 422):
            return BadRequestError(message, **{**common, "status_code": 400})
        return error_class_for_status(reply.status)(message, **common)
