"""Edits and extensions (``POST /v1/videos/edits``, ``/v1/videos/extensions``): a paid start like a
create, from a source video.

The source is an uploaded MP4 or ``{"id": ...}``, one of the caller's own completed gateway videos
(anyone else's is the same 404 as an unknown id). An id pins the new job to the source's deployment,
as a remix does (only it holds the source's provider state: ``SourceVideo.native_id``); an upload is
routed like a create (the model's deployments, then its fallbacks). The source's bytes come from the
content store, else from its deployment, bounded by ``MAX_SOURCE_BYTES``. The request is checked
against the row (``catalog.tasks``: the ``edit``/``extend`` feature, else a 400 naming the model, before
anything is reserved), priced (an edit at the source's seconds and its output size, the source's unless
``size`` asks for a reframe; an extension at its ``seconds``), and
started through ``JobStarter``: rate limits, reservation, slot, write-ahead record and Idempotency-Key
exactly as a create. The provider's adapter reads ``VideoRequest.task`` and ``source_video``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vidgate.catalog.mp4 import probe, require_video
from vidgate.catalog.tasks import unsupported_task, validate_task
from vidgate.errors import APIError, BadRequestError
from vidgate.gateway.content import from_store, live
from vidgate.gateway.followup import deployment_gone
from vidgate.gateway.idempotency import Link, fingerprint
from vidgate.gateway.ports import Chunk
from vidgate.gateway.records import JobRecord
from vidgate.gateway.routing import Deployment
from vidgate.gateway.starter import Priced, new_job, price_for
from vidgate.gateway.views import to_video
from vidgate.types import SourceVideo, Video, VideoRequest, VideoTask

if TYPE_CHECKING:
    from vidgate.gateway.auth import Principal
    from vidgate.gateway.service import GatewayService

MAX_SOURCE_BYTES = 64 * 1024 * 1024  # an uploaded or stored source video held in memory for the call


@dataclass(frozen=True)
class UploadedVideo:
    """A source video uploaded with the request, its length and size read from its MP4 header."""

    data: bytes
    seconds: int
    size: str | None
    media_type: str = "video/mp4"
    filename: str | None = None


@dataclass(frozen=True)
class VideoTaskRequest:
    """An edit or an extension as the server parsed it (not yet validated against a row).

    Exactly one of ``video_id`` and ``upload``. ``model`` is for an upload only (an id keeps its
    source's model); None takes the gateway's default model. ``size`` (edits only, a vidgate
    extension) asks for another output size than the source's: a reframe where the row has one."""

    task: VideoTask
    prompt: str | None
    video_id: str | None = None
    upload: UploadedVideo | None = None
    seconds: str | int | None = None
    model: str | None = None
    user: str | None = None
    size: str | None = None


def too_large(param: str) -> BadRequestError:
    return BadRequestError(
        f"Invalid '{param}': the video is larger than {MAX_SOURCE_BYTES} bytes.",
        param=param,
        code="file_too_large",
    )


async def clip_seconds(job: JobRecord, data: bytes) -> int | None:
    """The length of ``job``'s finished video, what an edit or remix of it is priced on: read from its
    MP4 as an upload's is (so a clip costs the same by id or uploaded), since an extension's record
    holds only the seconds it added. A clip the probe cannot read falls back to the record's seconds,
    except an extension's: a 400 as for such an upload. The probe runs off the event loop (it walks
    every sample: tens of milliseconds for a long clip, ``catalog.mp4``)."""
    info = await asyncio.to_thread(probe, data)
    if info is not None:
        return info.whole_seconds
    if job.task == "extend":
        await asyncio.to_thread(require_video, data, "video")
    return int(job.seconds) if job.seconds.isdigit() else None


async def _collect(chunks: AsyncIterator[Chunk]) -> bytes:
    """All of ``chunks`` (at most MAX_SOURCE_BYTES); the stream is closed however this ends."""
    parts: list[Chunk] = []
    total = 0
    try:
        async for chunk in chunks:
            total += len(chunk)
            if total > MAX_SOURCE_BYTES:
                raise too_large("video")
            parts.append(chunk)
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    return b"".join(parts)


class VideoEdits:
    """The edit and extension use cases, over the service's stores, router, calls and starter."""

    def __init__(self, service: GatewayService) -> None:
        self.service = service

    async def start(
        self, p: Principal, req: VideoTaskRequest, *, idempotency_key: str | None = None
    ) -> Video:
        """Start an edit or an extension; with ``idempotency_key``, at most once."""
        svc = self.service

        def digest() -> str:
            return fingerprint(req.task, dataclasses.asdict(req))

        return await svc.idempotency.once(
            p, idempotency_key, digest, lambda link: self._start(p, req, link), svc._replay
        )

    async def _start(self, p: Principal, req: VideoTaskRequest, link: Link) -> Video:
        if req.video_id is not None:
            return await self._from_job(p, req, req.video_id, link)
        assert req.upload is not None
        return await self._from_upload(p, req, req.upload, link)

    def _price(
        self, dep: Deployment, req: VideoTaskRequest, source: SourceVideo, model_name: str
    ) -> Priced | APIError:
        try:
            validated = validate_task(
                dep.spec,
                req.task,
                prompt=req.prompt,
                source=source,
                seconds=req.seconds,
                size=req.size,
                user=req.user,
                model_name=model_name,
            )
            return price_for(dep, dataclasses.replace(validated, model=dep.model))
        except APIError as exc:
            return exc

    async def _from_job(self, p: Principal, req: VideoTaskRequest, video_id: str, link: Link) -> Video:
        svc = self.service
        if req.model is not None:
            raise BadRequestError(
                "Unknown parameter: 'model'. An edit or extension of a video id uses that video's model.",
                param="model",
                code="unknown_parameter",
            )
        source_job = await svc.current(p, video_id)
        p.require_model(source_job.model_name, True)
        if source_job.status != "completed":
            raise BadRequestError(
                f"Video '{video_id}' is '{source_job.status}'; only a completed video can be "
                f"{'edited' if req.task == 'edit' else 'extended'}.",
                param="video",
                code="video_not_ready",
            )
        dep = svc.router.get(source_job.deployment_id)
        if dep is None:
            raise deployment_gone(source_job)
        # The feature is checked before the source's bytes are read: nothing is fetched for a refusal.
        if not dep.spec.has(req.task):
            raise unsupported_task(dep.spec, req.task, dep.model_name)
        data = await self.stored_bytes(dep, source_job)
        source = SourceVideo(
            data=data,
            native_id=source_job.native_id,
            outputs=source_job.outputs,
            seconds=await clip_seconds(source_job, data),
            size=source_job.size,
            filename=f"{source_job.id}.mp4",
        )
        priced = self._price(dep, req, source, dep.model_name)
        if isinstance(priced, APIError):
            raise priced
        # No fallback: only this deployment holds the source's provider state.
        return await self._run(p, req, [priced], dep.model_name, source_job, link, subject=priced.req)

    async def _from_upload(
        self, p: Principal, req: VideoTaskRequest, upload: UploadedVideo, link: Link
    ) -> Video:
        svc = self.service
        model = req.model or svc.default_model()
        if model is None:
            raise BadRequestError(
                "Missing required parameter: 'model'.", param="model", code="missing_required_parameter"
            )
        p.require_model(model, svc.router.has_model(model), svc.router.model_names())
        source = SourceVideo(
            data=upload.data,
            media_type=upload.media_type,
            seconds=upload.seconds,
            size=upload.size,
            filename=upload.filename,
        )
        plan = svc.router.plan(model, may_use=p.may_use)
        own = [self._price(dep, req, source, model) for dep in plan if dep.model_name == model]
        first = next((x for x in own if isinstance(x, Priced)), None)
        if first is None:  # 400 before anything is reserved or sent
            raise next(x for x in own if isinstance(x, APIError))
        candidates = (
            x
            for x in (self._price(dep, req, source, dep.model_name) for dep in plan)
            if isinstance(x, Priced)
        )
        return await self._run(p, req, candidates, model, None, link, subject=first.req)

    async def _run(
        self,
        p: Principal,
        req: VideoTaskRequest,
        candidates: Iterable[Priced],
        model: str,
        source_job: JobRecord | None,
        link: Link,
        *,
        subject: VideoRequest,
    ) -> Video:
        """Start on ``candidates``; ``subject`` (the request with its source video) is what the
        pre-call guardrails screen."""
        svc = self.service
        now = svc.clock()
        source_id = source_job.id if source_job is not None else None
        surface = source_job.api_surface if source_job is not None else "openai"

        def job_for(c: Priced, job_id: str, native_id: str) -> JobRecord:
            return new_job(
                job_id,
                p,
                c,
                native_id,
                prompt=c.req.prompt,
                surface=surface,
                now=now,
                task=req.task,
                source_video_id=source_id,
            )

        started = await svc.starter.start(
            p,
            model,
            candidates,
            lambda c: svc.calls.create(c.dep, c.req),
            draft=lambda c, job_id: job_for(c, job_id, ""),
            now=now,
            subject=subject,
            label=req.task,
            on_write_ahead=link,
        )
        job = job_for(started.priced, started.job_id, started.answer.native_id)
        return to_video(await svc.starter.record(p, job, started.answer, now))

    async def stored_bytes(self, dep: Deployment, job: JobRecord) -> bytes:
        """The source's MP4: the gateway's copy, else streamed from its deployment (bounded)."""
        svc = self.service
        info = await svc.stores.content.stat(job.id, "video")
        if info is not None and info.size > MAX_SOURCE_BYTES:
            raise too_large("video")
        stored = await from_store(svc.stores.content, job, "video", None)
        if stored is None:
            stored = await live(svc.calls, dep, job, "video", None)
        if stored.total_size is not None and stored.total_size > MAX_SOURCE_BYTES:
            raise too_large("video")
        return await _collect(stored.chunks)
