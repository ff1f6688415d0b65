"""Emulator of Replicate's predictions API, from Replicate's HTTP docs and replicate 1.0.7's source.

- ``POST /v1/models/{owner}/{name}/predictions`` ``{input}`` and ``POST /v1/predictions``
  ``{version, input}`` -> 201 with the prediction (``status: starting``).
- ``GET /v1/predictions/{id}`` -> ``starting`` -> ``processing`` (tqdm-style ``logs``, which the SDK's
  ``Prediction.progress`` parses) -> ``succeeded`` (``output``: a delivery URL minted per read, expiring
  after ``URL_TTL_SECONDS``; ``metrics.predict_time``) | ``failed`` (``error``) | ``canceled``.
- ``POST /v1/predictions/{id}/cancel`` -> 200 with the prediction (a finished one unchanged).
- ``GET /v1/predictions`` -> ``{previous, next, results}`` (newest first, one page).
- ``GET /_delivery/{token}/output.mp4`` -> the MP4, no token needed (``replicate.delivery``).
- ``webhook`` (+ ``webhook_events_filter``, default all; only ``completed`` is emulated) on create: the
  prediction is POSTed there when it ends, signed as Replicate signs (Standard Webhooks: ``webhook-id``,
  ``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``) with the account's secret,
  ``GET /v1/webhooks/default/secret`` -> ``{"key": "whsec_..."}``. Retried on a non-2xx answer;
  ``[fault:callback-dup]``/``[fault:callback-drop]`` (``emulators.callbacks``).

Errors are RFC 7807 problem details ``{title, detail, status}`` (422 adds ``invalid_fields``); a missing
or wrong token is 401. Listed models are checked against their rows (duration, aspect ratio,
resolution); any other ``owner/name`` accepts any input with a prompt; a version must be hex. Imports no
adapter code.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
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
)
from vidgate.render import RenderSpec, render

MODELS = PackageModels("vidgate.providers.replicate")
URL_TTL_SECONDS = 3600.0
RETRY_AFTER = "1"
_FAULT_TOKEN = re.compile(r"\s*\[fault:[a-z0-9-]+?(?:x\d+)?\]")
_VERSION = re.compile(r"[a-f0-9]{8,64}")
FILTERED = "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
FAILED = "Prediction failed: the model raised an error (emulated)."
SIZES = {
    ("16:9", "480p"): (854, 480),
    ("9:16", "480p"): (480, 854),
    ("1:1", "480p"): (480, 480),
    ("16:9", "720p"): (1280, 720),
    ("9:16", "720p"): (720, 1280),
    ("1:1", "720p"): (720, 720),
    ("16:9", "1080p"): (1920, 1080),
    ("9:16", "1080p"): (1080, 1920),
    ("1:1", "1080p"): (1080, 1080),
}


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra

    def response(self) -> JSONResponse:
        headers = {"Retry-After": RETRY_AFTER} if self.status in (429, 503) else {}
        body = {"title": self.title, "detail": self.detail, "status": self.status, **self.extra}
        return JSONResponse(body, status_code=self.status, headers=headers)


def _invalid(field_name: str, description: str) -> Problem:
    return Problem(
        422,
        "Input validation failed",
        f"- input.{field_name}: {description}",
        invalid_fields=[{"type": "enum", "field": f"input.{field_name}", "description": description}],
    )


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Prediction:
    job: EmuJob
    version: str
    owner: str
    canceled_at: float | None = None
    delivery: dict[str, float] = field(default_factory=dict)  # token -> expiry
    webhook: str | None = None  # where the completed event goes (None: no webhook)


class ReplicateEmulator:
    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.faults = faults_book(settings)
        self.predictions: dict[str, Prediction] = {}
        self.signing_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")
        self.callbacks = CallbackSender()

    def authenticate(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not key_ok(self.settings, token):
            raise Problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        return token

    async def slow(self, plan: dict[str, int]) -> None:
        if plan.get("slow", 0) > 0:
            await asyncio.sleep(self.settings.slow_seconds)

    # ---- create --------------------------------------------------------------------------------

    async def create_for_model(self, request: Request) -> Response:
        owner, name = request.path_params["owner"], request.path_params["name"]
        return await self.create(request, f"{owner}/{name}")

    async def create_for_version(self, request: Request) -> Response:
        return await self.create(request, None)

    async def create(self, request: Request, model: str | None) -> Response:
        token = self.authenticate(request)
        try:
            body = await request.json()
        except ValueError:
            raise Problem(400, "Bad request", "The request body is not valid JSON.") from None
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            raise Problem(422, "Input validation failed", "- input: Invalid type. Expected: object")
        version = "dp-" + secrets.token_hex(16)
        if model is None:
            pinned = str(body.get("version", "")).rpartition(":")[2]
            if not _VERSION.fullmatch(pinned):
                raise Problem(422, "Invalid version", "Invalid version or not permitted")
            model, version = "community/pinned-model", pinned
        inp: dict[str, Any] = body["input"]
        prompt = inp.get("prompt")
        plan = self.faults.plan(prompt if isinstance(prompt, str) else None)
        await self.slow(plan)
        for status in ("429", "500", "503"):
            if self.faults.fire(str(prompt), status, plan):
                raise Problem(int(status), "Emulated fault", "Request was throttled or failed (emulated).")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _invalid("prompt", "prompt is required")
        row = MODELS.find(f"replicate/{model}")
        seconds, (width, height) = self.duration(inp, row), self.size(inp, row)
        job = EmuJob(
            id=secrets.token_hex(13)[:26],
            prompt=prompt,
            model=model,
            seconds=seconds,
            width=width,
            height=height,
            processing_seconds=self.settings.processing_seconds,
            outcome=self.faults.outcome(plan),
            seed=inp["seed"] if isinstance(inp.get("seed"), int) else 0,
            plan=plan,
            extra=dict(inp),
        )
        webhook = self.webhook(body)
        self.predictions[job.id] = Prediction(job=job, version=version, owner=token, webhook=webhook)
        root = str(request.base_url).rstrip("/")
        if webhook is not None:
            self.call_back(self.predictions[job.id], webhook, root)
        return JSONResponse(self.view(self.predictions[job.id], root), status_code=201)

    @staticmethod
    def webhook(body: dict[str, Any]) -> str | None:
        url = body.get("webhook")
        if url is None:
            return None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _invalid("webhook", "webhook must be an HTTP(S) URL")
        events = body.get("webhook_events_filter", ["start", "output", "logs", "completed"])
        if not isinstance(events, list) or not set(events) <= {"start", "output", "logs", "completed"}:
            raise _invalid("webhook_events_filter", "must be a list of start, output, logs, completed")
        return url if "completed" in events else None

    def call_back(self, pred: Prediction, url: str, root: str) -> None:
        """Send the ``completed`` event when the prediction ends (one webhook id for every retry)."""
        webhook_id = "msg_" + secrets.token_hex(12)
        key = base64.b64decode(self.signing_secret.partition("_")[2])

        def render() -> tuple[bytes, dict[str, str]]:
            body = json.dumps(self.view(pred, root)).encode()
            timestamp = str(int(time.time()))
            mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
            headers = {
                "content-type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": timestamp,
                "webhook-signature": "v1," + base64.b64encode(mac).decode("ascii"),
            }
            return body, headers

        self.callbacks.schedule(pred.job, url, render)

    async def secret(self, request: Request) -> Response:
        self.authenticate(request)
        return JSONResponse({"key": self.signing_secret})

    @staticmethod
    def duration(inp: dict[str, Any], row: ModelSpec | None) -> int:
        value = inp.get("duration", row.default_seconds if row else 5)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise _invalid("duration", "Invalid type. Expected: integer")
        if row is not None and value not in row.seconds:
            raise _invalid(
                "duration", f"duration must be one of the following: {', '.join(map(str, row.seconds))}"
            )
        return value

    @staticmethod
    def size(inp: dict[str, Any], row: ModelSpec | None) -> tuple[int, int]:
        resolution = str(inp.get("resolution") or (row.sizes[row.default_size] if row else "720p"))
        aspect = str(inp.get("aspect_ratio") or "16:9")
        found = SIZES.get((aspect, resolution))
        if found is None or (row is not None and f"{found[0]}x{found[1]}" not in row.sizes):
            raise _invalid(
                "aspect_ratio", f"unsupported aspect_ratio {aspect!r} at resolution {resolution!r}"
            )
        return found

    # ---- reads ---------------------------------------------------------------------------------

    def state(self, pred: Prediction) -> str:
        if pred.canceled_at is not None:
            return "canceled"
        status, _progress = pred.job.state()
        if status == "completed":
            return "succeeded"
        return {"queued": "starting", "in_progress": "processing"}.get(status, status)

    def view(self, pred: Prediction, root: str) -> dict[str, Any]:
        job, state = pred.job, self.state(pred)
        _, progress = job.state()
        base = f"{root}/v1/predictions/{job.id}"
        out: dict[str, Any] = {
            "id": job.id,
            "model": job.model,
            "version": pred.version,
            "input": job.extra,
            "logs": "",
            "output": None,
            "data_removed": False,
            "error": None,
            "status": state,
            "created_at": _iso(job.created_at),
            "started_at": None,
            "completed_at": None,
            "metrics": {},
            "urls": {"get": base, "cancel": f"{base}/cancel", "web": f"https://replicate.com/p/{job.id}"},
        }
        if state != "starting":
            out["started_at"] = _iso(job.created_at + job.processing_seconds * 0.1)
        if state == "processing":
            out["logs"] = (
                f"Generating...\n {progress}%|{'#' * (progress // 10):<10}| {progress}/100 [00:01<00:01]"
            )
        if state in ("succeeded", "failed"):
            out["completed_at"] = _iso(job.created_at + job.processing_seconds)
            out["metrics"] = {
                "predict_time": job.processing_seconds * 0.9,
                "total_time": job.processing_seconds,
            }
        if state == "succeeded":
            token = secrets.token_urlsafe(12)
            pred.delivery[token] = time.time() + URL_TTL_SECONDS
            out["output"] = f"{root}/_delivery/{token}/{job.id}/output.mp4"
        if state == "failed":
            out["error"] = FILTERED if job.outcome == "filtered" else FAILED
        if state == "canceled":
            out["completed_at"] = _iso(pred.canceled_at)
        return out

    def find(self, request: Request, token: str) -> Prediction:
        pred = self.predictions.get(request.path_params["prediction_id"])
        if pred is None or pred.owner != token:
            raise Problem(404, "Not found", "Not found.")
        return pred

    async def get(self, request: Request) -> Response:
        token = self.authenticate(request)
        pred = self.find(request, token)
        job = pred.job
        await self.slow(job.plan)
        for name in ("poll-429", "poll-500", "poll-503"):
            if self.faults.fire(job.id, name, job.plan):
                raise Problem(int(name[5:]), "Emulated fault", "Emulated poll fault.")
        if self.faults.fire(job.id, "drop", job.plan):
            return DropResponse()  # type: ignore[return-value]
        return JSONResponse(self.view(pred, str(request.base_url).rstrip("/")))

    async def cancel(self, request: Request) -> Response:
        token = self.authenticate(request)
        pred = self.find(request, token)
        if self.state(pred) in ("starting", "processing"):
            pred.canceled_at = time.time()
        return JSONResponse(self.view(pred, str(request.base_url).rstrip("/")))

    async def list(self, request: Request) -> Response:
        token = self.authenticate(request)
        root = str(request.base_url).rstrip("/")
        mine = [p for p in self.predictions.values() if p.owner == token]
        mine.sort(key=lambda p: p.job.created_at, reverse=True)
        return JSONResponse({"previous": None, "next": None, "results": [self.view(p, root) for p in mine]})

    async def delivery(self, request: Request) -> Response:
        pred = self.predictions.get(request.path_params["prediction_id"])
        token = request.path_params["token"]
        if pred is None or time.time() > pred.delivery.get(token, 0.0):
            return Response("Not Found", status_code=404, media_type="text/plain")
        job = pred.job
        await self.slow(job.plan)
        if self.faults.fire(job.id, "download-503", job.plan):
            return Response("Service Unavailable", status_code=503, headers={"Retry-After": RETRY_AFTER})
        spec = RenderSpec(
            prompt=_FAULT_TOKEN.sub("", job.prompt).strip(),
            seconds=job.seconds,
            width=job.width,
            height=job.height,
            seed=job.seed,
        )
        rendered = await anyio.to_thread.run_sync(lambda: render(spec, cache_dir=self.settings.cache_dir))
        return FileResponse(rendered.video, media_type="video/mp4")


def create_app(settings: EmulatorSettings | None = None) -> Starlette:
    """The Replicate emulator as an ASGI app (``app.state.emulator`` for tests)."""
    emulator = ReplicateEmulator(settings or EmulatorSettings())

    async def problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return exc.response()

    app = Starlette(
        routes=[
            Route("/v1/models/{owner}/{name}/predictions", emulator.create_for_model, methods=["POST"]),
            Route("/v1/predictions", emulator.create_for_version, methods=["POST"]),
            Route("/v1/predictions", emulator.list, methods=["GET"]),
            Route("/v1/webhooks/default/secret", emulator.secret, methods=["GET"]),
            Route("/v1/predictions/{prediction_id}", emulator.get, methods=["GET"]),
            Route("/v1/predictions/{prediction_id}/cancel", emulator.cancel, methods=["POST"]),
            Route("/_delivery/{token}/{prediction_id}/output.mp4", emulator.delivery, methods=["GET"]),
        ],
        exception_handlers={Problem: problem},
    )
    app.state.emulator = emulator
    return app
