"""The ``local`` provider: real H.264 videos rendered on this machine, no key, no network.

The embedded default. It is the one adapter that makes no HTTP calls: its flows ``return`` at once
(they stay generators so the runners drive them like any other). Jobs are JSON files under a root
directory and complete after a configurable delay, so clients still exercise polling. The video is
rendered on first download (``Download.produce``), cached under the root.

Edits and extensions (``VideoRequest.task``) are rendered from the source video's frames: an edit
mixes the new prompt's scene into each of them under its card, an extension plays them and then newly
rendered seconds.

Prompts can ask for the failure paths offline: ``[fault:fail]`` ends the job failed
(``generation_failed``), ``[fault:filtered]`` ends it failed as moderated (``moderation_blocked``).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote_to_bytes, urlsplit

from PIL import Image

from vidgate import settings
from vidgate.catalog import parse_size
from vidgate.catalog.mp4 import require_video
from vidgate.errors import (
    APIError,
    BadRequestError,
    NotFoundError,
    UpstreamError,
    error_class_for_status,
    invalid_value,
)
from vidgate.providers.base import (
    BaseProvider,
    Credentials,
    Download,
    Flow,
    HttpReply,
    ProviderJob,
    ProviderPage,
)
from vidgate.providers.local.jobs import JobStore, LocalJob, new_job_id
from vidgate.providers.reserved import check_extra
from vidgate.render import Rendered, RenderSpec, render
from vidgate.render.frames import check_image
from vidgate.render.spec import MAX_SECONDS
from vidgate.types import CONTENT_VARIANTS, ImageInput, VideoError, VideoRequest, VideoStatus

DEFAULT_DELAY = 2.0
EXPIRES_AFTER_SECONDS = 24 * 3600  # local files are kept until deleted; this is what we advertise
MAX_LIST_LIMIT = 100
MEDIA_TYPES: dict[str, str] = {"video": "video/mp4", "thumbnail": "image/webp", "spritesheet": "image/jpeg"}
FAILURES: dict[str, VideoError] = {
    "fail": VideoError(
        code="generation_failed", message="Video generation failed (requested by [fault:fail])."
    ),
    "filtered": VideoError(
        code="moderation_blocked", message="Your request was blocked by our moderation system."
    ),
}
_FAULT = re.compile(r"\[fault:([a-z0-9-]+?)(?:x\d+)?\]")


def _outcome(prompt: str) -> str:
    found = set(_FAULT.findall(prompt))
    return "filtered" if "filtered" in found else "fail" if "fail" in found else "ok"


def drawn_prompt(prompt: str) -> str:
    """The prompt as drawn on the frames: fault tokens are test plumbing, not content."""
    return " ".join(_FAULT.sub(" ", prompt).split()) or prompt


class LocalProvider(BaseProvider):
    name: ClassVar[str] = "local"

    def __init__(
        self, root: Path | None = None, delay: float | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        """``root`` defaults to ``$VIDGATE_LOCAL_DIR`` (else ``~/.cache/vidgate/local``), ``delay`` to
        ``$VIDGATE_LOCAL_DELAY`` (else 2 s); both are read per call, so the environment can change."""
        if delay is not None and not 0 <= delay < math.inf:
            raise ValueError(f"delay must be >= 0 seconds, got {delay!r}")
        self._root = root
        self._delay = delay
        self._clock = clock

    # ---- configuration -------------------------------------------------------------------------

    def root(self, creds: Credentials) -> Path:
        """Where jobs and renders live: ``creds.api_base`` (a directory or ``file://`` URL) wins."""
        if creds.api_base:
            parts = urlsplit(creds.api_base)
            if parts.scheme == "file":
                return Path(unquote_to_bytes(parts.path).decode()).expanduser()
            if parts.scheme and len(parts.scheme) > 1:  # one letter is a Windows drive
                raise BadRequestError(
                    f"The local provider's api_base is a directory for its jobs and videos, not a URL: "
                    f"'{creds.api_base}'.",
                    param="api_base",
                )
            return Path(creds.api_base).expanduser()
        if self._root is not None:
            return self._root
        base = settings.env(settings.LOCAL_DIR)
        return Path(base).expanduser() if base else Path.home() / ".cache" / "vidgate" / "local"

    def delay(self) -> float:
        if self._delay is not None:
            return self._delay
        raw = settings.env(settings.LOCAL_DELAY)
        if raw is None:
            return DEFAULT_DELAY
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 <= value < math.inf:
            raise ValueError(f"{settings.LOCAL_DELAY} must be a number of seconds >= 0, got '{raw}'")
        return value

    # ---- job views -----------------------------------------------------------------------------

    def _state(self, job: LocalJob, now: float) -> tuple[VideoStatus, int]:
        """Queued for the first tenth of the delay, then in_progress with progress rising with time."""
        total = job.ready_at - job.created_at
        elapsed = now - job.created_at
        if elapsed >= total:
            return ("completed" if job.outcome == "ok" else "failed"), 100
        if elapsed < total * 0.1:
            return "queued", 0
        return "in_progress", max(1, min(99, int(100 * elapsed / total)))

    def _view(self, job: LocalJob, now: float | None = None) -> ProviderJob:
        now = self._clock() if now is None else now
        status, progress = self._state(job, now)
        completed_at = int(job.ready_at) if status == "completed" else None
        poll_after_ms = None
        if status in ("queued", "in_progress"):
            poll_after_ms = max(50, min(1000, int((job.ready_at - now) * 1000) + 1))
        return ProviderJob(
            native_id=job.id,
            status=status,
            model=job.model,
            progress=progress,
            created_at=int(job.created_at),
            completed_at=completed_at,
            expires_at=completed_at + EXPIRES_AFTER_SECONDS if completed_at is not None else None,
            prompt=job.prompt,
            size=job.size,
            seconds=str(job.seconds),
            remixed_from=job.remixed_from,
            error=FAILURES.get(job.outcome) if status == "failed" else None,
            poll_after_ms=poll_after_ms,
            raw=job.to_json(),
        )

    def _job(self, store: JobStore, native_id: str) -> LocalJob:
        job = store.load(native_id)
        if job is None:
            raise NotFoundError(
                f"Video with id '{native_id}' not found.", param="video_id", provider=self.name
            )
        return job

    def _new_job(self, **fields: Any) -> LocalJob:
        now = self._clock()
        return LocalJob(id=new_job_id(), created_at=now, ready_at=now + self.delay(), **fields)

    @staticmethod
    def _spec(job: LocalJob, store: JobStore) -> RenderSpec:
        source = store.source(job)
        return RenderSpec(
            prompt=drawn_prompt(job.prompt),
            seconds=job.seconds,
            width=job.width,
            height=job.height,
            seed=job.seed,
            image=store.image(job),
            source_video=source,
            source_mode=job.task if source is not None else None,
        )

    def _source_bytes(self, req: VideoRequest, store: JobStore) -> bytes | None:
        """An edit's or extension's source MP4 (None for a new video): the bytes given, else this
        provider's own job ``native_id`` rendered. The renderer derives the new video from its frames
        (an edit mixes the new prompt's scene into each, an extension appends ``seconds`` of new
        frames), within the renderer's maximum length."""
        if req.task == "generate":
            return None
        source = req.source_video
        data = None if source is None else source.data
        if data is None and source is not None and source.native_id is not None:
            job = self._job(store, source.native_id)
            status, _ = self._state(job, self._clock())
            if status != "completed":
                raise BadRequestError(
                    f"Video {job.id} is {status}; only a completed video can be used.",
                    param="video",
                    code="video_not_ready",
                )
            data = render(self._spec(job, store), cache_dir=store.root / "renders").video.read_bytes()
        if data is None:
            raise BadRequestError(
                f"The local provider needs the source video (its bytes or one of its own ids) to {req.task} "
                "it.",
                param="video",
            )
        info = require_video(data, "video")
        if req.task == "extend" and info.whole_seconds + req.seconds > MAX_SECONDS:
            raise BadRequestError(
                f"Invalid 'seconds': the source is {info.whole_seconds} s and the local renderer makes "
                f"videos of at most {MAX_SECONDS} s, so an extension may add at most "
                f"{max(0, MAX_SECONDS - info.whole_seconds)} s.",
                param="seconds",
                code="invalid_value",
            )
        return data

    # ---- operations ----------------------------------------------------------------------------

    def create(self, req: VideoRequest, creds: Credentials) -> Flow[ProviderJob]:
        check_extra(req.extra_body, self.reserved_params)  # nothing else is read from extra_body
        store = JobStore(self.root(creds))
        image = _image_bytes(req.input_reference)
        source = self._source_bytes(req, store)
        width, height = parse_size(req.size)
        job = self._new_job(
            model=req.model,
            prompt=req.prompt,
            seconds=req.seconds,
            width=width,
            height=height,
            seed=req.seed or 0,
            outcome=_outcome(req.prompt),
            has_image=image is not None,
            negative_prompt=req.negative_prompt,
            user=req.user,
            task=req.task,
            has_source=source is not None,
        )
        store.save(job, image, source)
        return self._view(job)
        yield  # pragma: no cover - a flow with no round trip

    def retrieve(self, native_id: str, creds: Credentials) -> Flow[ProviderJob]:
        return self._view(self._job(JobStore(self.root(creds)), native_id))
        yield  # pragma: no cover

    def download(self, native_id: str, variant: str, creds: Credentials) -> Flow[Download]:
        """A ``produce`` download: the runner renders (or finds in the cache) the file off its event loop."""
        if variant not in MEDIA_TYPES:
            raise invalid_value("variant", variant, list(CONTENT_VARIANTS))
        root = self.root(creds)
        store = JobStore(root)
        job = self._job(store, native_id)
        status, _ = self._state(job, self._clock())
        if status == "failed":
            raise NotFoundError(
                f"Video {job.id} failed and has no content.", param="video_id", provider=self.name
            )
        if status != "completed":
            raise NotFoundError(
                "Video is not ready yet, use the GET endpoint to check its status.",
                param="video_id",
                provider=self.name,
            )
        spec = self._spec(job, store)

        def produce() -> Path:
            try:
                rendered: Rendered = render(spec, cache_dir=root / "renders")
            except ValueError as exc:  # the renderer's refusal of this job's inputs: the same every time
                raise UpstreamError(
                    f"The local renderer cannot make video {job.id} from its inputs: {exc}",
                    code="render_failed",
                    provider=self.name,
                    permanent=True,
                ) from exc
            return {
                "video": rendered.video,
                "thumbnail": rendered.thumbnail,
                "spritesheet": rendered.spritesheet,
            }[variant]

        return Download(media_type=MEDIA_TYPES[variant], produce=produce)
        yield  # pragma: no cover

    def remix(self, native_id: str, prompt: str, creds: Credentials) -> Flow[ProviderJob]:
        """A new job with the source's model, size, duration, seed and first frame, and the new prompt."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise BadRequestError(
                "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter"
            )
        store = JobStore(self.root(creds))
        source = self._job(store, native_id)
        status, _ = self._state(source, self._clock())
        if status != "completed":
            raise BadRequestError(
                f"Video {source.id} is {status}; only completed videos can be remixed.", param="video_id"
            )
        image = store.image(source)
        job = self._new_job(
            model=source.model,
            prompt=prompt,
            seconds=source.seconds,
            width=source.width,
            height=source.height,
            seed=source.seed,
            outcome=_outcome(prompt),
            remixed_from=source.id,
            has_image=image is not None,
            user=source.user,
            task=source.task,
            has_source=source.has_source,
        )
        store.save(job, image, store.source(source))
        return self._view(job)
        yield  # pragma: no cover

    def list(self, creds: Credentials, *, after: str | None, limit: int, order: str) -> Flow[ProviderPage]:
        if order not in ("asc", "desc"):
            raise invalid_value("order", order, ["asc", "desc"])
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
            raise BadRequestError(
                f"Invalid 'limit': expected an integer from 1 to {MAX_LIST_LIMIT}.", param="limit"
            )
        jobs = JobStore(self.root(creds)).all()
        if order == "desc":
            jobs.reverse()
        if after:
            ids = [job.id for job in jobs]
            if after not in ids:
                raise BadRequestError(f"Invalid 'after': no video with id '{after}'.", param="after")
            jobs = jobs[ids.index(after) + 1 :]
        now = self._clock()
        return ProviderPage(
            jobs=tuple(self._view(job, now) for job in jobs[:limit]), has_more=len(jobs) > limit
        )
        yield  # pragma: no cover

    def delete(self, native_id: str, creds: Credentials) -> Flow[bool]:
        """Removes the job and, unless another job renders the very same video, its cached files."""
        root = self.root(creds)
        store = JobStore(root)
        job = self._job(store, native_id)
        status, _ = self._state(job, self._clock())
        if status not in ("completed", "failed"):
            raise BadRequestError(
                f"Video {job.id} is {status}; only completed or failed videos can be deleted.",
                param="video_id",
            )
        key = self._spec(job, store).key()
        store.remove(job.id)
        shared = any(self._spec(other, store).key() == key for other in store.all())
        if not shared:
            shutil.rmtree(root / "renders" / key, ignore_errors=True)
        return True
        yield  # pragma: no cover

    def error_for(self, reply: HttpReply) -> APIError:
        """For protocol completeness (this adapter makes no calls): an OpenAI-style error body, mapped."""
        message = f"local provider error (HTTP {reply.status})"
        param = code = None
        try:
            body = reply.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = body["error"]
            message = str(error.get("message") or message)
            param, code = error.get("param"), error.get("code")
        return error_class_for_status(reply.status)(
            message, param=param, code=code, provider=self.name, status_code=reply.status, body=body
        )


def _image_bytes(image: ImageInput | None) -> bytes | None:
    """The first frame's bytes: given directly, or decoded from a ``data:`` URL. Anything to fetch is
    refused: a sans-I/O adapter that makes no requests has no way to download it."""
    if image is None:
        return None
    if image.data is not None:
        data = image.data
    elif image.url is not None and image.url.startswith("data:"):
        data = _data_url(image.url)
    else:
        source = image.url or f"file id '{image.file_id}'"
        raise BadRequestError(
            "The local provider needs input_reference as image bytes or a data: URL; "
            f"it cannot fetch {source}.",
            param="input_reference",
        )
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()  # headers and PNG checksums; it decodes no JPEG data, nor a PNG's pixels
            kind = "JPEG" if img.format == "MPO" else img.format  # a camera JPEG with embedded pictures
    except Exception as exc:  # Pillow raises many types for bad input
        raise _undecodable() from exc
    if kind not in ("PNG", "JPEG", "WEBP"):
        raise BadRequestError(
            f"input_reference must be PNG, JPEG or WebP, got {kind}.",
            param="input_reference",
            code="invalid_image",
        )
    try:  # as the renderer will, so a frame it cannot decode is a 400 now, not a 502 render_failed later
        check_image(data)
    except ValueError as exc:
        raise _undecodable() from exc
    return data


def _undecodable() -> BadRequestError:
    return BadRequestError(  # Pillow's own message names a BytesIO object: not for the caller
        "input_reference is not a decodable image (the PNG, JPEG or WebP data is damaged or truncated).",
        param="input_reference",
        code="invalid_image",
    )


def _data_url(url: str) -> bytes:
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise BadRequestError("Invalid data: URL for input_reference (no ',').", param="input_reference")
    if header.endswith(";base64"):
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequestError(
                "Invalid data: URL for input_reference (bad base64).", param="input_reference"
            ) from exc
    return unquote_to_bytes(payload)
