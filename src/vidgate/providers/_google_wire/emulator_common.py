"""What the Gemini API and Vertex AI emulators share: Google's error envelope, the Veo request checks in
Google's wording, the operation store, transient faults and rendering.

Written from the wire-format reference (§3, §4) and google-genai 2.34.0's converters
(``_GenerateVideosParameters_to_mldev/_to_vertex``), not from vidgate's adapters.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import re
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import av
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vidgate.catalog import ModelSpec, aspect_ratio
from vidgate.emulators.common import DropResponse, EmuJob, EmulatorSettings, faults_book
from vidgate.emulators.faults import FaultBook
from vidgate.render import RenderSpec, render

Service = Literal["gemini", "vertex"]
RETRY_AFTER_SECONDS = 1
SEED_MAX = 4294967295
MAX_REFERENCE_IMAGES = 3
IMAGE_TYPES = {"gemini": ("image/png", "image/jpeg", "image/webp"), "vertex": ("image/png", "image/jpeg")}
DOCS = {"gemini": "the Gemini API documentation", "vertex": "the Vertex AI documentation"}
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_FAULT_TOKEN = re.compile(r"\s*\[fault:[a-z0-9-]+?(?:x\d+)?\]")


# ---- errors -------------------------------------------------------------------------------------


class GoogleError(Exception):
    """An error answered in Google's envelope ``{"error": {code, message, status, details}}``."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = details
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return JSONResponse({"error": error}, status_code=self.code, headers=self.headers)


def invalid(message: str) -> GoogleError:
    return GoogleError(400, message)


def not_found(message: str) -> GoogleError:
    return GoogleError(404, message)


def error_info(reason: str, service: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": service},
    }


def rate_limited() -> GoogleError:
    return GoogleError(
        429,
        "Resource has been exhausted (e.g. check quota).",
        details=[
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{RETRY_AFTER_SECONDS}s"}
        ],
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def internal() -> GoogleError:
    return GoogleError(500, "An internal error has occurred. Please retry or report the problem.")


def unavailable() -> GoogleError:
    return GoogleError(
        503, "The service is currently unavailable.", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


async def google_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GoogleError)
    return exc.response()


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods, answered in Google's envelope too."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return GoogleError(
            404, f"The requested URL {request.url.path} was not found on this server."
        ).response()
    return GoogleError(exc.status_code, str(exc.detail)).response()


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"Invalid JSON payload received. {exc}") from exc
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received. Expected an object at the top level.")
    return body


# ---- faults -------------------------------------------------------------------------------------

_CREATE_FAULTS = {"429": rate_limited, "500": internal, "503": unavailable}
_POLL_FAULTS = {"poll-429": rate_limited, "poll-500": internal, "poll-503": unavailable}


def create_fault(book: FaultBook, prompt: str, plan: dict[str, int]) -> GoogleError | None:
    for name, make in _CREATE_FAULTS.items():
        if book.fire(prompt, name, plan):
            return make()
    return None


def poll_fault(book: FaultBook, job: EmuJob) -> GoogleError | None:
    for name, make in _POLL_FAULTS.items():
        if book.fire(job.id, name, job.plan):
            return make()
    return None


def download_fault(book: FaultBook, job: EmuJob) -> GoogleError | None:
    return unavailable() if book.fire(job.id, "download-503", job.plan) else None


async def maybe_slow(settings: EmulatorSettings, plan: dict[str, int]) -> None:
    if plan.get("slow", 0) > 0:
        await asyncio.sleep(settings.slow_seconds)


# ---- the Veo request ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VeoRequest:
    """A create request that passed every check."""

    prompt: str
    image: bytes | None
    seconds: int
    width: int
    height: int
    sample_count: int
    seed: int | None
    storage_uri: str | None
    source_seconds: int | None = None  # set for an extension: the length of the video it continues


# A Veo 3.1 extension adds this many seconds to its source and returns the whole clip; the request
# carries durationSeconds 8 at 720p (reference §3.5).
EXTENSION_ADDS_SECONDS = 7
EXTENSION_DURATION = 8
EXTENSION_RESOLUTION = "720p"
# Reads the length (s) of an extension's ``video`` (raises GoogleError when it cannot be used).
SourceReader = Callable[[dict[str, Any]], int]


def mp4_seconds(data: bytes, where: str) -> int:
    """The whole seconds of an MP4 sent inline (a 400 in Google's words when it is not one)."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            duration = container.duration
    except (av.FFmpegError, ValueError) as exc:
        raise invalid(f"Invalid value at '{where}': the data is not a readable video.") from exc
    return max(1, round((duration or 0) / 1_000_000))


def inline_video_seconds(raw: dict[str, Any], where: str) -> int:
    """``{bytesBase64Encoded, mimeType: video/mp4}``: the length of the decoded MP4."""
    data = raw.get("bytesBase64Encoded")
    if not isinstance(data, str) or not data:
        raise invalid(f"`{where}` needs `bytesBase64Encoded` or `gcsUri`, and `mimeType`.")
    if raw.get("mimeType") != "video/mp4":
        raise invalid(f"Unsupported MIME type `{raw.get('mimeType')}` in `{where}`. Supported: video/mp4.")
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid(f"Invalid value at '{where}.bytes_base64_encoded': invalid base64 data.") from exc
    return mp4_seconds(decoded, where)


def _unsupported(field_name: str, service: Service) -> GoogleError:
    return invalid(
        f"`{field_name}` isn't supported by this model. Please remove it or refer to {DOCS[service]} "
        "for supported usage."
    )


def _out_of_bound(field_name: str, low: int, high: int) -> GoogleError:
    return invalid(
        f"The number value for `{field_name}` is out of bound. Please provide a value between {low} and "
        f"{high}, inclusive."
    )


def _integer(params: dict[str, Any], field_name: str) -> int | None:
    value = params.get(field_name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise invalid(f"Invalid value at 'parameters.{field_name}' (TYPE_INT32), {json.dumps(value)}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise invalid(f"Invalid value at 'parameters.{field_name}' (TYPE_INT32), {json.dumps(value)}")


def _image(raw: Any, where: str, service: Service) -> bytes | None:
    """``{bytesBase64Encoded, mimeType}`` (both services), ``{inlineData: {data, mimeType}}`` (Gemini REST
    examples) or ``{gcsUri, mimeType}`` (Vertex; the emulator holds no such objects)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid(f"Invalid value at '{where}': expected an object.")
    if service == "gemini" and isinstance(raw.get("inlineData"), dict):
        raw = {
            "bytesBase64Encoded": raw["inlineData"].get("data"),
            "mimeType": raw["inlineData"].get("mimeType"),
        }
    if raw.get("gcsUri") is not None:
        if service == "gemini":
            raise invalid(
                f"`gcsUri` isn't supported in `{where}` by the Gemini API. Please send the image bytes."
            )
        raise invalid(
            f"Unable to read the image at {raw['gcsUri']}: the object does not exist or is not readable."
        )
    data = raw.get("bytesBase64Encoded")
    if not isinstance(data, str) or not data:
        raise invalid(f"`{where}` needs `bytesBase64Encoded` (or `gcsUri` on Vertex AI) and `mimeType`.")
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid(f"Invalid value at '{where}.bytes_base64_encoded': invalid base64 data.") from exc
    mime = raw.get("mimeType")
    if mime not in IMAGE_TYPES[service]:
        raise invalid(
            f"Unsupported MIME type `{mime}` in `{where}`. "
            f"Supported MIME types are: {', '.join(IMAGE_TYPES[service])}."
        )
    return decoded


def _size(spec: ModelSpec, aspect: str, resolution: str) -> tuple[int, int]:
    for size, tier in spec.sizes.items():
        if tier == resolution and aspect_ratio(size) == aspect:
            width, _, height = size.partition("x")
            return int(width), int(height)
    tiers = sorted(set(spec.sizes.values()))
    if resolution not in tiers:
        raise invalid(
            f"`resolution` {resolution!r} isn't supported by this model. "
            f"Supported values are: {', '.join(tiers)}."
        )
    raise invalid(f"`resolution` {resolution} isn't supported with `aspectRatio` {aspect} by this model.")


def parse_veo_request(
    body: dict[str, Any], spec: ModelSpec, service: Service, source: SourceReader | None = None
) -> VeoRequest:
    """Check a ``:predictLongRunning`` body against the model's catalogue row, in Google's wording.
    ``source`` reads an extension's ``video`` (the service's own rules for where it may come from)."""
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances or not isinstance(instances[0], dict):
        raise invalid("`instances` must be a list with one instance object.")
    if len(instances) > 1:
        raise invalid("Only 1 instance per request is supported.")
    instance: dict[str, Any] = instances[0]
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        raise invalid("Invalid value at 'parameters': expected an object.")
    if service == "vertex" and "webhookConfig" in body:
        raise _unsupported("webhookConfig", service)
    if service == "gemini":
        for vertex_only in (
            "storageUri",
            "generateAudio",
            "fps",
            "pubsubTopic",
            "compressionQuality",
            "resizeMode",
        ):
            if vertex_only in params:
                raise _unsupported(vertex_only, service)
    if instance.get("mask") is not None:
        raise invalid("`mask` isn't supported by the vidgate emulator of this API.")

    prompt = instance.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise invalid("Invalid value at 'instances[0].prompt' (TYPE_STRING).")
    image = _image(instance.get("image"), "image", service)
    if not (prompt or "").strip() and image is None:
        raise invalid("A text `prompt` or an input `image` is required.")
    if image is not None and not spec.has("image_input"):
        raise _unsupported("image", service)
    last_frame = _image(instance.get("lastFrame"), "lastFrame", service)
    if last_frame is not None:
        if not spec.has("last_frame"):
            raise _unsupported("lastFrame", service)
        if image is None:
            raise invalid("`lastFrame` needs a first frame in `image`.")
    references = instance.get("referenceImages")
    if references is not None:
        if not spec.has("reference_images"):
            raise _unsupported("referenceImages", service)
        if not isinstance(references, list) or not references:
            raise invalid("`referenceImages` must be a non-empty list.")
        if len(references) > MAX_REFERENCE_IMAGES:
            raise invalid(
                f"At most {MAX_REFERENCE_IMAGES} `referenceImages` are supported, got {len(references)}."
            )
        for i, ref in enumerate(references):
            if not isinstance(ref, dict):
                raise invalid(f"Invalid value at 'referenceImages[{i}]': expected an object.")
            if str(ref.get("referenceType", "asset")).lower() != "asset":
                raise invalid(
                    f"`referenceType` {ref.get('referenceType')} isn't supported by this model. Use asset."
                )
            _image(ref.get("image"), f"referenceImages[{i}].image", service)

    aspect = params.get("aspectRatio", "16:9")
    aspects = sorted({aspect_ratio(size) for size in spec.sizes})
    if aspect not in aspects:
        raise invalid(
            f"`aspectRatio` {aspect!r} isn't supported by this model. "
            f"Supported values are: {', '.join(aspects)}."
        )
    if "resolution" in params and not spec.send_resolution:
        raise _unsupported("resolution", service)
    resolution = str(params.get("resolution", "720p")).lower()
    width, height = _size(spec, aspect, resolution)

    seconds = _integer(params, "durationSeconds")
    if seconds is None:
        seconds = spec.default_seconds
    if not min(spec.seconds) <= seconds <= max(spec.seconds):
        raise _out_of_bound("durationSeconds", min(spec.seconds), max(spec.seconds))
    if seconds not in spec.seconds:
        raise invalid(
            f"`durationSeconds` {seconds} isn't supported by this model. Supported values are: "
            f"{', '.join(str(s) for s in spec.seconds)}."
        )
    allowed = spec.seconds_by_tier.get(resolution)
    if allowed is not None and seconds not in allowed:
        raise invalid(
            f"`durationSeconds` must be {' or '.join(str(s) for s in allowed)} "
            f"when `resolution` is {resolution}."
        )
    if references is not None and 8 in spec.seconds and seconds != 8:
        raise invalid("`durationSeconds` must be 8 when `referenceImages` are given.")

    sample_count = _integer(params, "sampleCount")
    if sample_count is None:
        sample_count = 1
    if not 1 <= sample_count <= spec.max_n:
        raise _out_of_bound("sampleCount", 1, spec.max_n)

    person = params.get("personGeneration")
    if person is not None:
        if not spec.has("person_generation"):
            raise _unsupported("personGeneration", service)
        if person not in spec.person_generation:
            raise invalid(
                f"`personGeneration` {person!r} isn't supported by this model. Supported values are: "
                f"{', '.join(spec.person_generation)}."
            )
        if image is not None and person == "allow_all":
            raise invalid("`personGeneration` allow_all isn't supported for image-to-video. Use allow_adult.")
    negative = params.get("negativePrompt")
    if negative is not None:
        if not spec.has("negative_prompt"):
            raise _unsupported("negativePrompt", service)
        if not isinstance(negative, str):
            raise invalid("Invalid value at 'parameters.negativePrompt' (TYPE_STRING).")
    seed = _integer(params, "seed")
    if seed is not None:
        if not spec.has("seed"):
            raise _unsupported("seed", service)
        if not 0 <= seed <= SEED_MAX:
            raise _out_of_bound("seed", 0, SEED_MAX)
    if "generateAudio" in params:
        if not (spec.has("audio_toggle") or spec.has("audio")):
            raise _unsupported("generateAudio", service)
        if not isinstance(params["generateAudio"], bool):
            raise invalid("Invalid value at 'parameters.generateAudio' (TYPE_BOOL).")
    source_seconds = _extension(instance, params, spec, service, source, (seconds, resolution))
    storage_uri = params.get("storageUri")
    if storage_uri is not None and (
        not isinstance(storage_uri, str)
        or not storage_uri.startswith("gs://")
        or len(storage_uri) <= len("gs://")
    ):
        raise invalid(f"`storageUri` must be a Cloud Storage URI like gs://BUCKET/DIR, got {storage_uri!r}.")
    return VeoRequest(
        prompt=prompt or "",
        image=image,
        seconds=seconds,
        width=width,
        height=height,
        sample_count=sample_count,
        seed=seed,
        storage_uri=storage_uri,
        source_seconds=source_seconds,
    )


def _extension(
    instance: dict[str, Any],
    params: dict[str, Any],
    spec: ModelSpec,
    service: Service,
    source: SourceReader | None,
    checked: tuple[int, str],
) -> int | None:
    """An extension's source length, after Veo's rules for one; None without ``video``."""
    video = instance.get("video")
    if video is None:
        return None
    if not spec.has("extend") or source is None:
        raise _unsupported("video", service)
    if not isinstance(video, dict):
        raise invalid("Invalid value at 'instances[0].video': expected an object.")
    for other in ("image", "lastFrame", "referenceImages"):
        if instance.get(other) is not None:
            raise invalid(f"`{other}` can't be combined with `video` (video extension).")
    seconds, resolution = checked
    if "durationSeconds" in params and seconds != EXTENSION_DURATION:
        raise invalid(f"`durationSeconds` must be {EXTENSION_DURATION} for video extension.")
    if resolution != EXTENSION_RESOLUTION:
        raise invalid(f"Video extension supports `resolution` {EXTENSION_RESOLUTION} only.")
    return source(video)


# ---- operations and rendering -------------------------------------------------------------------


def operation_id(length: int = 12) -> str:
    """Lower-case letters and digits, like Gemini's ids (google-genai reads file ids as ``[a-z0-9]+``)."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class Operation:
    """One Veo operation: the time-driven job, who may see it, and where its samples live."""

    name: str
    job: EmuJob
    owner: str
    sample_count: int
    outputs: list[str] = field(default_factory=list)  # Gemini file ids or Vertex gs:// object names


class OperationStore:
    """Operations by name, plus a lookup from each output reference to (operation, sample index)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ops: dict[str, Operation] = {}
        self._outputs: dict[str, tuple[Operation, int]] = {}

    def add(self, op: Operation) -> None:
        with self._lock:
            self._ops[op.name] = op
            for index, ref in enumerate(op.outputs):
                self._outputs[ref] = (op, index)

    def get(self, name: str) -> Operation | None:
        return self._ops.get(name)

    def output(self, ref: str) -> tuple[Operation, int] | None:
        return self._outputs.get(ref)


def new_job(request: VeoRequest, model: str, settings: EmulatorSettings, plan: dict[str, int]) -> EmuJob:
    return EmuJob(
        id=operation_id(),
        prompt=request.prompt,
        model=model,
        seconds=request.seconds
        if request.source_seconds is None
        else request.source_seconds + EXTENSION_ADDS_SECONDS,
        width=request.width,
        height=request.height,
        processing_seconds=settings.processing_seconds,
        outcome=FaultBook.outcome(plan),
        seed=request.seed or 0,
        image=request.image,
        plan=plan,
    )


def filtered_reason(count: int) -> str:
    return (
        f"Veo could not generate {count} videos based on the prompt provided. Try rephrasing the prompt. "
        "Support codes: 58061214"
    )


FAILED_ERROR = {"code": 13, "message": "Video generation failed due to an internal error. Please try again."}


async def render_sample(settings: EmulatorSettings, job: EmuJob, index: int) -> Path:
    """The MP4 of sample ``index`` (rendered once, then cached), made off the event loop."""
    spec = RenderSpec(
        prompt=_FAULT_TOKEN.sub("", job.prompt).strip(),
        seconds=job.seconds,
        width=job.width,
        height=job.height,
        seed=job.seed + index,
        fps=24,
        image=job.image,
    )
    rendered = await anyio.to_thread.run_sync(lambda: render(spec, cache_dir=settings.cache_dir))
    return rendered.video


# ---- the steps both emulators take --------------------------------------------------------------


class VeoEmulator:
    """State and fault handling common to the Gemini and Vertex emulators; the routes, auth and
    operation JSON stay in each service's own module."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.faults = faults_book(settings)
        self.ops = OperationStore()

    async def start(
        self,
        body: dict[str, Any],
        spec: ModelSpec,
        service: Service,
        model: str,
        source: SourceReader | None = None,
    ) -> tuple[VeoRequest, EmuJob]:
        """Check a create body and apply its create-time faults; the new job (not stored yet)."""
        veo = parse_veo_request(body, spec, service, source)
        plan = self.faults.plan(veo.prompt)
        await maybe_slow(self.settings, plan)
        fault = create_fault(self.faults, veo.prompt, plan)
        if fault is not None:
            raise fault
        return veo, new_job(veo, model, self.settings, plan)

    async def poll_faults(self, op: Operation) -> Response | None:
        """Poll-time faults: slowness, an error (raised), or a cut connection (the response to send)."""
        await maybe_slow(self.settings, op.job.plan)
        fault = poll_fault(self.faults, op.job)
        if fault is not None:
            raise fault
        if self.faults.fire(op.job.id, "drop", op.job.plan):
            return DropResponse()  # type: ignore[return-value]
        return None

    async def download_faults(self, op: Operation) -> None:
        await maybe_slow(self.settings, op.job.plan)
        fault = download_fault(self.faults, op.job)
        if fault is not None:
            raise fault

    @staticmethod
    def unfinished_json(op: Operation) -> dict[str, Any] | None:
        """The operation while it runs (``done`` absent, as proto3 JSON omits a false bool) or after it
        failed; None once it has a response."""
        status, _progress = op.job.state()
        if status in ("queued", "in_progress"):
            return {"name": op.name}
        if op.job.outcome == "fail":
            return {"name": op.name, "done": True, "error": dict(FAILED_ERROR)}
        return None


def google_app(routes: list[Route], emulator: VeoEmulator) -> Starlette:
    """An ASGI app answering errors in Google's envelope, with the emulator on ``app.state``."""
    app = Starlette(
        routes=routes,
        exception_handlers={GoogleError: google_error_handler, HTTPException: http_error_handler},
    )
    app.state.emulator = emulator
    return app
