"""Emulator of fal's queue API (``queue.fal.run``), from fal's queue docs and fal-client 1.0.3's source.

- ``POST /{owner}/{app}[/{path}]`` (``Authorization: Key ...``) with the model's input -> ``{request_id,
  response_url, status_url, cancel_url, queue_position}``; the URLs name the *app*
  (``/{owner}/{app}/requests/{id}``), not the endpoint path, as fal's do.
- ``GET .../requests/{id}/status[?logs=1]`` -> ``IN_QUEUE`` (``queue_position``), ``IN_PROGRESS``
  (``logs``), ``COMPLETED`` (``metrics``; a failed request carries ``error`` and ``error_type``).
- ``GET .../requests/{id}`` -> the result ``{"video": {url, content_type, file_name, file_size}, "seed"}``;
  each read mints a CDN URL (``/_cdn/files/{token}/{name}.mp4`` on this host, no key) that expires after
  ``URL_TTL_SECONDS``. Before completion: 400 ``{"detail": "Request is still in progress"}``.
- Replies about a request carry ``x-fal-request-id`` (fal-client tells fal's own errors from an
  ingress's by it).
- ``PUT .../requests/{id}/cancel`` -> 202 ``CANCELLATION_REQUESTED`` (queued or running; the request then
  completes with ``error_type: request_cancelled``), 400 ``ALREADY_COMPLETED``, 404 ``NOT_FOUND``.

- ``?fal_webhook=<url>`` on submit: when the request ends, ``{request_id, gateway_request_id, status:
  OK|ERROR, payload, error}`` is POSTed there, signed as fal signs: ``X-Fal-Webhook-Request-Id``,
  ``-User-Id``, ``-Timestamp``, ``-Signature`` = hex ED25519 over the lines request id, user id,
  timestamp, hex sha256 of the body; the public key is served as a JWKS at
  ``/.well-known/jwks.json`` (fal's is on ``rest.alpha.fal.ai``). Retried on a non-2xx answer;
  ``[fault:callback-dup]``/``[fault:callback-drop]`` (``emulators.callbacks``).

Errors are ``{"detail": ...}`` (a list of ``{loc, msg, type}`` for input validation, 422) with
``x-fal-error-type``. A missing or wrong key is 401. Catalogue paths are checked against their rows
(duration, aspect ratio, resolution); any other path is an app that accepts any input with a prompt.
Imports no adapter code.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from vidgate.catalog import ModelSpec
from vidgate.emulators.callbacks import CallbackSender
from vidgate.emulators.common import (
    DropResponse,
    EmuJob,
    EmulatorSettings,
    PackageModels,
    faults_book,
    key_ok,
    new_id,
)
from vidgate.render import RenderSpec, render

MODELS = PackageModels("vidgate.providers.fal")
URL_TTL_SECONDS = 3600.0
RETRY_AFTER = "1"
NAMESPACES = ("workflows", "comfy")
_FAULT_TOKEN = re.compile(r"\s*\[fault:[a-z0-9-]+?(?:x\d+)?\]")
_DATA_URI = re.compile(r"data:image/[a-z+.-]+;base64,(.*)", re.DOTALL)
SIZES = {
    ("16:9", "480p"): (854, 480),
    ("9:16", "480p"): (480, 854),
    ("1:1", "480p"): (480, 480),
    ("16:9", "540p"): (960, 540),
    ("9:16", "540p"): (540, 960),
    ("16:9", "720p"): (1280, 720),
    ("9:16", "720p"): (720, 1280),
    ("1:1", "720p"): (720, 720),
    ("16:9", "1080p"): (1920, 1080),
    ("9:16", "1080p"): (1080, 1920),
    ("1:1", "1080p"): (1080, 1080),
}


class FalError(Exception):
    def __init__(self, status: int, detail: Any, error_type: str | None = None, retry: bool = False) -> None:
        super().__init__(str(detail))
        self.status, self.detail, self.error_type, self.retry = status, detail, error_type, retry

    def response(self) -> JSONResponse:
        headers = {"x-fal-error-type": self.error_type} if self.error_type else {}
        if self.retry:
            headers["Retry-After"] = RETRY_AFTER
        body: dict[str, Any] = {"detail": self.detail}
        if self.error_type:
            body["error_type"] = self.error_type
        return JSONResponse(body, status_code=self.status, headers=headers)


def _invalid(field_name: str, message: str, kind: str = "value_error") -> FalError:
    return FalError(422, [{"loc": ["body", field_name], "msg": message, "type": kind}])


@dataclass
class QueuedRequest:
    job: EmuJob
    app: str
    path: str
    owner: str  # the key that submitted it
    cancelled: bool = False
    cdn: dict[str, float] = field(default_factory=dict)  # token -> expiry
    webhook: str | None = None  # ``fal_webhook``: where the end of the request is POSTed

    @property
    def base(self) -> str:
        return f"{self.app}/requests/{self.job.id}"


def _app_of(path: str) -> str:
    parts = path.split("/")
    return "/".join(parts[:3] if parts[0] in NAMESPACES else parts[:2])


def _seconds(value: Any, row: ModelSpec | None) -> int:
    if value is None:
        return row.default_seconds if row else 5
    text = str(value).removesuffix("s")
    if not text.isdigit() or int(text) <= 0:
        raise _invalid("duration", f"Input should be a whole number of seconds, got {value!r}")
    seconds = int(text)
    if row is not None and seconds not in row.seconds:
        allowed = ", ".join(f"'{s}'" for s in row.seconds)
        raise _invalid("duration", f"Input should be {allowed}", "literal_error")
    return seconds


def _size(body: dict[str, Any], row: ModelSpec | None) -> tuple[int, int]:
    default = row.sizes[row.default_size] if row else "720p"
    resolution = str(body.get("resolution") or default)
    aspect = str(body.get("aspect_ratio") or "16:9")
    found = SIZES.get((aspect, resolution))
    if found is None:
        raise _invalid("aspect_ratio", f"Unsupported aspect_ratio {aspect!r} at resolution {resolution!r}")
    if row is not None and f"{found[0]}x{found[1]}" not in row.sizes:
        raise _invalid("resolution", f"Unsupported resolution {resolution!r} / aspect_ratio {aspect!r}")
    return found


def _image(body: dict[str, Any]) -> bytes | None:
    for name in ("image_url", "start_image_url"):
        value = body.get(name)
        match = _DATA_URI.fullmatch(value) if isinstance(value, str) else None
        if match:
            try:
                return base64.b64decode(match.group(1), validate=True)
            except binascii.Error as exc:
                raise _invalid(name, "Invalid base64 data URI") from exc
    return None


class FalEmulator:
    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.faults = faults_book(settings)
        self.requests: dict[str, QueuedRequest] = {}
        self.signing_key = Ed25519PrivateKey.generate()
        self.key_id = "emulator-" + secrets.token_hex(4)
        self.callbacks = CallbackSender()

    def authenticate(self, request: Request) -> str:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme != "Key" or not key_ok(self.settings, key):
            raise FalError(401, "Invalid Key authorization header or key", "authentication_error")
        return key

    async def slow(self, plan: dict[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(self.settings.slow_seconds)

    # ---- routes --------------------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except FalError as exc:
            return exc.response()

    async def _dispatch(self, request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        if path.startswith("_cdn/files/"):
            return await self.cdn(request, path)
        if path == ".well-known/jwks.json" and request.method == "GET":
            return JSONResponse(self.jwks())
        key = self.authenticate(request)
        head, sep, tail = path.partition("/requests/")
        if sep:
            request_id, _, action = tail.partition("/")
            return await self.request_op(request, key, head, request_id, action)
        if request.method != "POST":
            raise FalError(405, "Method Not Allowed")
        return await self.submit(request, key, path)

    async def submit(self, request: Request, key: str, path: str) -> Response:
        parts = path.split("/")
        if len(parts) < 2 or any(not p for p in parts):
            raise FalError(404, f"Application '{path}' not found")
        try:
            body = await request.json()
        except ValueError:
            raise FalError(422, [{"loc": ["body"], "msg": "Invalid JSON", "type": "json_invalid"}]) from None
        if not isinstance(body, dict):
            raise FalError(422, [{"loc": ["body"], "msg": "Input should be an object", "type": "dict_type"}])
        prompt = body.get("prompt")
        plan = self.faults.plan(prompt if isinstance(prompt, str) else None)
        await self.slow(plan)
        for status in ("429", "500", "503"):
            if self.faults.fire(str(prompt), status, plan):
                raise FalError(int(status), "Emulated fault", "emulated_fault", retry=status != "500")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _invalid("prompt", "Field required", "missing")
        row = MODELS.find(f"fal/{path}")
        seconds = _seconds(body.get("duration"), row)
        width, height = _size(body, row)
        seed = body.get("seed")
        job = EmuJob(
            id=new_id(nbytes=8) + "-" + secrets.token_hex(4),
            prompt=prompt,
            model=path,
            seconds=seconds,
            width=width,
            height=height,
            processing_seconds=self.settings.processing_seconds,
            outcome=self.faults.outcome(plan),
            seed=seed if isinstance(seed, int) else 0,
            image=_image(body),
            plan=plan,
            extra=dict(body),
        )
        queued = QueuedRequest(job=job, app=_app_of(path), path=path, owner=key)
        webhook = request.query_params.get("fal_webhook")
        if webhook is not None and not webhook.startswith(("http://", "https://")):
            raise _invalid("fal_webhook", "fal_webhook must be an HTTP(S) URL")
        queued.webhook = webhook
        self.requests[job.id] = queued
        root = str(request.base_url).rstrip("/")
        if webhook is not None:
            self.call_back(queued, webhook, root, key)
        reply = JSONResponse({**self.urls(root, queued), "queue_position": 0})
        reply.headers["x-fal-request-id"] = job.id
        return reply

    # ---- webhooks ------------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        raw = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.key_id, "use": "sig"}]}

    def webhook_body(self, queued: QueuedRequest, root: str) -> dict[str, Any]:
        request_id = queued.job.id
        out: dict[str, Any] = {"request_id": request_id, "gateway_request_id": request_id}
        failure = self.failure(queued)
        if failure is None:
            result = json.loads(bytes(self.result(queued, root).body))
            return {**out, "status": "OK", "payload": result}
        kind, message = failure
        detail = [{"loc": ["body"], "msg": message, "type": kind}]
        return {**out, "status": "ERROR", "error": message, "payload": {"detail": detail}}

    def call_back(self, queued: QueuedRequest, url: str, root: str, key: str) -> None:
        user_id = "user-" + hashlib.sha256(key.encode()).hexdigest()[:12]

        def render() -> tuple[bytes, dict[str, str]]:
            body = json.dumps(self.webhook_body(queued, root)).encode()
            timestamp = str(int(time.time()))
            lines = [queued.job.id, user_id, timestamp, hashlib.sha256(body).hexdigest()]
            signature = self.signing_key.sign("\n".join(lines).encode()).hex()
            headers = {
                "content-type": "application/json",
                "x-fal-webhook-request-id": queued.job.id,
                "x-fal-webhook-user-id": user_id,
                "x-fal-webhook-timestamp": timestamp,
                "x-fal-webhook-signature": signature,
            }
            return body, headers

        self.callbacks.schedule(queued.job, url, render)

    @staticmethod
    def urls(root: str, queued: QueuedRequest) -> dict[str, str]:
        base = f"{root}/{queued.base}"
        return {
            "request_id": queued.job.id,
            "response_url": base,
            "status_url": f"{base}/status",
            "cancel_url": f"{base}/cancel",
        }

    def find(self, key: str, app: str, request_id: str) -> QueuedRequest:
        queued = self.requests.get(request_id)
        if queued is None or queued.owner != key or queued.app != app:
            raise FalError(404, "Request not found", "request_not_found")
        return queued

    def state(self, queued: QueuedRequest) -> str:
        if queued.cancelled:
            return "cancelled"
        status, _progress = queued.job.state()
        return status

    async def request_op(
        self, request: Request, key: str, app: str, request_id: str, action: str
    ) -> Response:
        queued = self.find(key, app, request_id)
        await self.slow(queued.job.plan)
        root = str(request.base_url).rstrip("/")
        try:
            if action == "status" and request.method == "GET":
                reply = await self.status(request, queued, root)
            elif action == "cancel" and request.method == "PUT":
                reply = self.cancel(queued)
            elif action == "" and request.method == "GET":
                reply = self.result(queued, root)
            else:
                raise FalError(405, "Method Not Allowed")
        except FalError as exc:
            reply = exc.response()
        if isinstance(reply, Response):  # not the cut connection of the "drop" fault
            reply.headers["x-fal-request-id"] = request_id  # fal-client: "returned from our server"
        return reply

    async def status(self, request: Request, queued: QueuedRequest, root: str) -> Response:
        job = queued.job
        for name in ("poll-429", "poll-500", "poll-503"):
            if self.faults.fire(job.id, name, job.plan):
                raise FalError(int(name[5:]), "Emulated fault", "emulated_fault", retry=name != "poll-500")
        if self.faults.fire(job.id, "drop", job.plan):
            return DropResponse()  # type: ignore[return-value]
        with_logs = request.query_params.get("logs", "").lower() in ("1", "true")
        state = self.state(queued)
        out: dict[str, Any] = {**self.urls(root, queued)}
        if state == "queued":
            out.update(status="IN_QUEUE", queue_position=0)
        elif state == "in_progress":
            out.update(status="IN_PROGRESS", logs=[self.log("generating")] if with_logs else None)
        else:
            out.update(
                status="COMPLETED",
                logs=[self.log("done")] if with_logs else None,
                metrics={"inference_time": self.settings.processing_seconds},
            )
            failure = self.failure(queued)
            if failure is not None:
                out.update(error=failure[1], error_type=failure[0])
        return JSONResponse(out)

    @staticmethod
    def log(message: str) -> dict[str, Any]:
        return {"message": message, "level": "INFO", "source": "user", "timestamp": time.strftime("%FT%TZ")}

    @staticmethod
    def failure(queued: QueuedRequest) -> tuple[str, str] | None:
        if queued.cancelled:
            return "request_cancelled", "Request was cancelled by the user"
        if queued.job.outcome == "filtered":
            return "content_policy_violation", "The content could not be processed because it was flagged"
        if queued.job.outcome == "fail":
            return "generation_failed", "The model failed to generate a video (emulated)"
        return None

    def result(self, queued: QueuedRequest, root: str) -> Response:
        state = self.state(queued)
        if state in ("queued", "in_progress"):
            raise FalError(400, "Request is still in progress", "request_in_progress")
        failure = self.failure(queued)
        if failure is not None:
            status = 422 if failure[0] == "content_policy_violation" else 500
            raise FalError(status, failure[1], failure[0])
        token = secrets.token_urlsafe(12)
        queued.cdn[token] = time.time() + URL_TTL_SECONDS
        name = f"{queued.job.id}.mp4"
        video = {
            "url": f"{root}/_cdn/files/{token}/{name}",
            "content_type": "video/mp4",
            "file_name": name,
            "file_size": None,
        }
        return JSONResponse({"video": video, "seed": queued.job.seed})

    def cancel(self, queued: QueuedRequest) -> Response:
        if self.state(queued) in ("completed", "failed", "cancelled"):
            return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
        queued.cancelled = True
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)

    async def cdn(self, request: Request, path: str) -> Response:
        _, _, token, name = ([*path.split("/"), "", ""])[:4]
        queued = self.requests.get(name.removesuffix(".mp4"))
        if queued is None or time.time() > queued.cdn.get(token, 0.0):
            return Response("Not Found", status_code=404, media_type="text/plain")
        job = queued.job
        await self.slow(job.plan)
        if self.faults.fire(job.id, "download-503", job.plan):
            return Response("Service Unavailable", status_code=503, headers={"Retry-After": RETRY_AFTER})
        spec = RenderSpec(
            prompt=_FAULT_TOKEN.sub("", job.prompt).strip(),
            seconds=job.seconds,
            width=job.width,
            height=job.height,
            seed=job.seed,
            image=job.image,
        )
        rendered = await anyio.to_thread.run_sync(lambda: render(spec, cache_dir=self.settings.cache_dir))
        return FileResponse(rendered.video, media_type="video/mp4")


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    """The fal queue emulator as an ASGI app (``app.state.emulator`` for tests)."""
    emulator = FalEmulator(settings or EmulatorSettings())
    app = Starlette(routes=[Route("/{path:path}", emulator.dispatch, methods=["GET", "POST", "PUT", "HEAD"])])
    app.state.emulator = emulator
    return app
