"""The Gemini and Vertex AI pass-through: Google-shaped requests through the gateway's own machinery.

Teams already calling Veo with google-genai (or plain REST) point it at the gateway and get keys,
budgets, cost tracking, logging and ownership. A create is: authenticate -> model allowed for the key
-> the Google body checked against the catalogue (400 naming Google's field, before any provider call)
-> the steps ``create_video`` takes too, from ``starter.JobStarter``: rate limit -> deployment rpm ->
the exact reservation (seconds x rate x sampleCount, Veo's default duration when none is given) ->
concurrency slot -> pre-call guards -> write-ahead record -> the body forwarded unchanged to a
deployment of the model with the deployment's own credentials (falling back to the next deployment
only on a definite refusal; an ambiguous failure answers
``upstream_outcome_unknown``) -> the operation stored as a job owned by the caller (``api_surface``
"gemini"/"vertex_ai"). The client gets the operation with the gateway's ids: its name ends in
``/operations/{video id}``, so the same job is ``GET /v1/videos/{video id}`` for the same key, and
Google's routes serve any of the caller's jobs on a deployment of the same provider (also those created
through ``/v1/videos``).

Polls answer from the store and refresh from the provider when stale (as ``get_video``), never
charge, and settle or release the money through the same state machine. Every read checks ownership
and answers 404 otherwise, exactly as for an unknown id.

Model names: ``models/{model}`` is a public model name of the config, or the provider's own model id
(``veo-3.0-generate-preview``) of a configured deployment, as Google's clients write it. Only
deployments of the route's provider serve it (the bodies differ between the two services).
"""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from vidgate.errors import APIError, NotFoundError
from vidgate.gateway.auth import Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.content import ContentStream, live
from vidgate.gateway.followup import deployment_gone
from vidgate.gateway.idempotency import Link, fingerprint
from vidgate.gateway.records import JobRecord
from vidgate.gateway.routing import Deployment
from vidgate.gateway.service import GatewayService
from vidgate.gateway.starter import Priced, new_job, price_for
from vidgate.providers._google_wire import native as shapes
from vidgate.providers._google_wire import passthrough as wire
from vidgate.providers._google_wire.native import Surface
from vidgate.providers._google_wire.wire import read_operation
from vidgate.providers.base import Credentials, Download, Flow

MAX_INLINE_BYTES = 512 * 1024 * 1024  # a Vertex poll inlines stored videos up to this size


def model_not_found(model: str, surface: Surface) -> NotFoundError:
    """Each service's wording; also for a model the key may not use (a key cannot probe which exist)."""
    if surface == "vertex_ai":
        message = (
            f"Publisher Model `publishers/google/models/{model}` was not found or you lack access to it."
        )
    else:
        message = (
            f"models/{model} is not found for this API version, or is not supported for predictLongRunning."
        )
    return NotFoundError(message, param="model", code="not_found")


def operation_not_found(name: str) -> NotFoundError:
    return NotFoundError(f"Operation {name} not found.", param="name", code="not_found")


def file_not_found(value: str) -> NotFoundError:
    return NotFoundError(f"File {value} not found.", param="file", code="not_found")


class _SampleCalls(ProviderCalls):
    """ProviderCalls whose ``open`` streams one given sample of a Google operation (``live`` opens the
    first through the adapter's ``download``; a Veo operation may have several)."""

    def __init__(self, base: ProviderCalls, index: int) -> None:
        super().__init__(base.runner, base.providers)
        self.index = index

    def download_flow(
        self, dep: Deployment, native_id: str, variant: str, creds: Credentials
    ) -> Flow[Download]:
        return wire.download_sample(dep.provider, native_id, self.index, creds)


class GooglePassthrough:
    """Use cases of the Google-native routes, on top of a GatewayService (same stores, router, calls)."""

    def __init__(self, service: GatewayService) -> None:
        self.service = service

    # ---- create ------------------------------------------------------------------------------

    def deployments(self, p: Principal, surface: Surface, model: str) -> list[Deployment]:
        """The deployments serving ``model`` on this surface, in the router's order, for the first public
        name the key may use: ``model`` itself, else a public name with a deployment of that provider
        model id. 404 (Google's wording) when there is none, also when the key may not use it."""
        router = self.service.router
        model = model.removeprefix("models/")
        if router.has_model(model) and p.may_use(model):
            ordered = [d for d in router.order(model) if d.provider == surface]
            if ordered:
                return ordered
        names = sorted(
            {d.model_name for d in router.deployments if d.model == model and d.provider == surface}
        )
        for name in names:
            if p.may_use(name):
                return [d for d in router.order(name) if d.provider == surface and d.model == model]
        raise model_not_found(model, surface)

    async def start(
        self,
        p: Principal,
        surface: Surface,
        model: str,
        body: Any,
        *,
        resource: str,
        idempotency_key: str | None = None,
    ) -> tuple[dict[str, Any], str]:
        """Forward a ``:predictLongRunning`` body: ``{"name": "{resource}/operations/{id}"}``, and the
        public model name the job was recorded under (for metrics). With ``idempotency_key``, at most
        once (``gateway.idempotency``)."""

        def digest() -> str:
            return fingerprint("predictLongRunning", [surface, model, resource, body])

        async def replay(job: JobRecord) -> tuple[dict[str, Any], str]:
            return {"name": f"{resource}/operations/{job.id}"}, job.model_name

        return await self.service.idempotency.once(
            p,
            idempotency_key,
            digest,
            lambda link: self._start(p, surface, model, body, resource=resource, link=link),
            replay,
        )

    async def _start(
        self, p: Principal, surface: Surface, model: str, body: Any, *, resource: str, link: Link
    ) -> tuple[dict[str, Any], str]:
        svc = self.service
        deps = self.deployments(p, surface, model)
        native = wire.read_native_body(body, surface)
        checked: list[Priced] = []
        first_error: APIError | None = None
        for dep in deps:
            try:
                checked.append(price_for(dep, shapes.check_request(dep.spec, native)))
            except APIError as exc:
                first_error = first_error or exc
        if not checked:
            assert first_error is not None
            raise first_error
        now = svc.clock()
        started = await svc.starter.start(
            p,
            checked[0].dep.model_name,  # every deployment here serves one public model name
            checked,
            lambda c: self._forward(c.dep, body),
            draft=lambda c, job_id: new_job(job_id, p, c, "", prompt=native.prompt, surface=surface, now=now),
            now=now,
            subject=checked[0].req,
            on_write_ahead=link,
            label="pass-through create",
        )
        op = read_operation(started.answer, fallback_model=started.priced.dep.model)
        if op.status == "in_progress":  # just accepted: queued, as the adapters report it
            op = replace(op, status="queued", progress=0)
        job = new_job(
            started.job_id, p, started.priced, op.native_id, prompt=native.prompt, surface=surface, now=now
        )
        await svc.starter.record(p, job, op, now)
        return {"name": f"{resource}/operations/{started.job_id}"}, job.model_name

    async def _forward(self, dep: Deployment, body: dict[str, Any]) -> dict[str, Any]:
        calls = self.service.calls
        creds = await calls.credentials(dep)
        flow = wire.create(dep.provider, dep.model, body, creds)
        return await calls.runner.run(flow, calls.provider(dep).error_for)

    # ---- poll --------------------------------------------------------------------------------

    async def job(self, p: Principal, surface: Surface, job_id: str, missing: APIError) -> JobRecord:
        """The caller's job on a ``surface`` deployment, refreshed when stale; else raises ``missing``."""
        try:
            job = await self.service.current(p, job_id)
        except NotFoundError:
            raise missing from None
        if job.provider != surface:
            raise missing
        return job

    async def operation(self, p: Principal, surface: Surface, name: str) -> dict[str, Any]:
        """The operation ``name`` (as the client wrote it) in the surface's shape."""
        job = await self.job(p, surface, shapes.operation_id(name), operation_not_found(name))
        if surface == "gemini":
            return shapes.gemini_operation(job, name, self.service.config.public_base_url)
        videos = await self._vertex_videos(job) if job.status == "completed" else None
        return shapes.vertex_operation(job, name, videos)

    async def _vertex_videos(self, job: JobRecord) -> list[dict[str, Any]]:
        """A completed Vertex job's videos as Vertex returns them: ``gs://`` outputs as they are, inline
        videos as base64 (from the content store when it holds the only one, else from the provider)."""
        gcs = shapes.stored_gcs_videos(job)
        if gcs is not None:
            return gcs
        svc = self.service
        if shapes.sample_count(job) == 1 and job.content_stored:
            info = await svc.stores.content.stat(job.id, "video")
            if info is not None and info.size <= MAX_INLINE_BYTES:
                data = bytearray()
                async for chunk in svc.stores.content.read(job.id, "video"):
                    data += chunk
                return [
                    {
                        "bytesBase64Encoded": base64.b64encode(data).decode("ascii"),
                        "mimeType": info.media_type,
                    }
                ]
        dep = svc.router.get(job.deployment_id)
        if dep is None:
            raise deployment_gone(job)
        creds = await svc.calls.credentials(dep)
        flow = wire.fetch_operation(dep.provider, job.native_id, creds)
        op = await svc.calls.runner.run(flow, svc.calls.provider(dep).error_for)
        response = op.get("response")
        videos = response.get("videos") if isinstance(response, dict) else None
        return [v for v in videos if isinstance(v, dict)] if isinstance(videos, list) else []

    # ---- files -------------------------------------------------------------------------------

    async def open_file(
        self, p: Principal, value: str, byte_range: tuple[int, int | None] | None
    ) -> ContentStream:
        """A video of a Gemini operation by the gateway's file id: owner only, streamed (Range honoured),
        from the content store when it holds it, else from the provider (whose redirect is followed)."""
        ref = shapes.parse_file_id(value)
        if ref is None:
            raise file_not_found(value)
        job = await self.job(p, "gemini", ref.job_id, file_not_found(value))
        if job.status != "completed":
            state = "failed" if job.status == "failed" else "not ready yet"
            raise NotFoundError(
                f"File {value} is {state}: the operation's status is '{job.status}'.", code="not_found"
            )
        if ref.index >= shapes.sample_count(job):
            raise file_not_found(value)
        if ref.index == 0:
            return await self.service.open_content(p, job.id, "video", byte_range)
        dep = self.service.router.get(job.deployment_id)
        if dep is None:
            raise deployment_gone(job)
        return await live(_SampleCalls(self.service.calls, ref.index), dep, job, "video", byte_range)
