"""The native pass-through (Gemini API, Vertex AI): Google-shaped requests through the gateway's own
machinery. Each route names its provider's surface; everything that differs between the services comes
from that provider's codec (``ProviderSpec.native``, ``_google_wire.native.GoogleNative``), so nothing
here names a provider.

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

Interactions (Gemini Omni): ``POST .../interactions`` (``background: true``) goes through the same
steps, token-billed (the reservation is the row's token bound for the requested duration and tier; the
state machine settles the reported ``usage.total_output_tokens`` at completion and releases the rest).
The Interaction's ``id`` is the video id; ``previous_interaction_id`` names one of the caller's own
interactions (by that id) and pins the new job to its deployment; an ``edit`` of it is priced at the
source clip's length read from its MP4 (``edits.clip_seconds``, the bytes bounded as for
``/v1/videos/edits``), and the job records its task, so a remix of an extension is priced on the whole
clip too (``native_interactions`` prices the rest). ``GET`` answers from the store
(refreshed when stale), ``POST .../{id}/cancel`` cancels upstream and records the outcome,
``DELETE`` cancels a running interaction, then deletes it as ``DELETE /v1/videos/{id}`` does.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from vidgate.errors import APIError, BadRequestError, NotFoundError
from vidgate.gateway.auth import Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.content import ContentStream, live
from vidgate.gateway.edits import clip_seconds
from vidgate.gateway.followup import REFRESH_LEASE_SECONDS, deployment_gone, new_lease_owner
from vidgate.gateway.idempotency import Link, fingerprint
from vidgate.gateway.records import JobRecord
from vidgate.gateway.routing import Deployment
from vidgate.gateway.service import GatewayService
from vidgate.gateway.starter import Priced, new_job, price_for
from vidgate.providers._google_wire import native as shapes
from vidgate.providers._google_wire.native import GoogleNative
from vidgate.providers.base import Credentials, Download, Flow, Provider
from vidgate.providers.registry import get_spec, specs
from vidgate.types import TERMINAL_STATUSES, VideoRequest

MAX_INLINE_BYTES = 512 * 1024 * 1024  # a Vertex poll inlines stored videos up to this size
T = TypeVar("T")


def google_codec(surface: str) -> GoogleNative:
    """The native codec of the provider ``surface`` (a route's own provider: always installed)."""
    codec = get_spec(surface).native
    if not isinstance(codec, GoogleNative):
        raise NotFoundError(f"The provider {surface} has no Google-native API.", code="not_found")
    return codec


def google_codecs() -> list[GoogleNative]:
    """Every installed provider's Google-native codec (the server maps paths to them)."""
    return [spec.native for spec in specs().values() if isinstance(spec.native, GoogleNative)]


def operation_not_found(name: str) -> NotFoundError:
    return NotFoundError(f"Operation {name} not found.", param="name", code="not_found")


def file_not_found(value: str) -> NotFoundError:
    return NotFoundError(f"File {value} not found.", param="file", code="not_found")


def _priced(deps: list[Deployment], check: Callable[[Deployment], VideoRequest]) -> list[Priced]:
    """Each deployment's priced request (a deployment whose row refuses it is skipped); the first
    refusal when none accepts it."""
    checked: list[Priced] = []
    first_error: APIError | None = None
    for dep in deps:
        try:
            checked.append(price_for(dep, check(dep)))
        except APIError as exc:
            first_error = first_error or exc
    if not checked:
        assert first_error is not None
        raise first_error
    return checked


class _SampleCalls(ProviderCalls):
    """ProviderCalls whose ``open`` streams one given sample of a Google operation (``live`` opens the
    first through the adapter's ``download``; a Veo operation may have several)."""

    def __init__(self, base: ProviderCalls, codec: GoogleNative, index: int) -> None:
        super().__init__(base.runner, base.providers)
        self.codec = codec
        self.index = index

    def download_flow(
        self, dep: Deployment, native_id: str, variant: str, creds: Credentials
    ) -> Flow[Download]:
        return self.codec.download_sample(self.provider(dep), native_id, self.index, creds)


class GooglePassthrough:
    """Use cases of the Google-native routes, on top of a GatewayService (same stores, router, calls)."""

    def __init__(self, service: GatewayService) -> None:
        self.service = service

    # ---- create ------------------------------------------------------------------------------

    def deployments(self, p: Principal, surface: str, model: str) -> list[Deployment]:
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
        raise google_codec(surface).model_not_found(model)

    async def start(
        self,
        p: Principal,
        surface: str,
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
        self, p: Principal, surface: str, model: str, body: Any, *, resource: str, link: Link
    ) -> tuple[dict[str, Any], str]:
        svc = self.service
        codec = google_codec(surface)
        deps = self.deployments(p, surface, model)
        native = codec.read_predict(body, svc.calls.provider(deps[0]))
        checked = _priced(deps, lambda dep: codec.check_predict(dep.spec, native))
        now = svc.clock()
        started = await svc.starter.start(
            p,
            checked[0].dep.model_name,  # every deployment here serves one public model name
            checked,
            lambda c: self._run(c.dep, lambda a, creds: codec.predict(a, c.dep.model, body, creds)),
            draft=lambda c, job_id: new_job(
                job_id, p, c, "", prompt=native.prompt, surface=codec.surface, now=now
            ),
            now=now,
            subject=checked[0].req,
            on_write_ahead=link,
            label="pass-through create",
        )
        op = codec.read_operation(started.answer, started.priced.dep.model)
        if op.status == "in_progress":  # just accepted: queued, as the adapters report it
            op = replace(op, status="queued", progress=0)
        job = new_job(
            started.job_id,
            p,
            started.priced,
            op.native_id,
            prompt=native.prompt,
            surface=codec.surface,
            now=now,
        )
        await svc.starter.record(p, job, op, now)
        return {"name": f"{resource}/operations/{started.job_id}"}, job.model_name

    async def _run(self, dep: Deployment, make: Callable[[Provider, Credentials], Flow[T]]) -> T:
        """Run one of the codec's flows on ``dep``'s adapter and credentials."""
        calls = self.service.calls
        adapter = calls.provider(dep)
        creds = await calls.credentials(dep)
        return await calls.runner.run(make(adapter, creds), adapter.error_for, read_timeout=dep.timeout)

    # ---- poll --------------------------------------------------------------------------------

    async def job(self, p: Principal, surface: str, job_id: str, missing: APIError) -> JobRecord:
        """The caller's job on a ``surface`` deployment, refreshed when stale; else raises ``missing``."""
        try:
            job = await self.service.current(p, job_id)
        except NotFoundError:
            raise missing from None
        if job.provider != surface:
            raise missing
        return job

    async def operation(self, p: Principal, surface: str, name: str) -> dict[str, Any]:
        """The operation ``name`` (as the client wrote it) in the surface's shape."""
        codec = google_codec(surface)
        job = await self.job(p, surface, shapes.operation_id(name), operation_not_found(name))
        if codec.is_interaction(job):  # an Interactions job is no operation
            raise operation_not_found(name)
        inline = codec.inline_outputs and job.status == "completed"
        videos = await self._inline_videos(codec, job) if inline else None
        return codec.operation(job, name, self.service.config.public_base_url, videos)

    async def _inline_videos(self, codec: GoogleNative, job: JobRecord) -> list[dict[str, Any]]:
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
        op = await self._run(dep, lambda a, creds: codec.fetch_operation(a, job.native_id, creds))
        response = op.get("response")
        videos = response.get("videos") if isinstance(response, dict) else None
        return [v for v in videos if isinstance(v, dict)] if isinstance(videos, list) else []

    # ---- files -------------------------------------------------------------------------------

    async def open_file(
        self, p: Principal, surface: str, value: str, byte_range: tuple[int, int | None] | None
    ) -> ContentStream:
        """A video of an operation or interaction by the gateway's file id: owner only, streamed (Range
        honoured), from the content store when it holds it, else from the provider (whose redirect is
        followed)."""
        codec = google_codec(surface)
        ref = shapes.parse_file_id(value)
        if ref is None or not codec.gateway_files:
            raise file_not_found(value)
        job = await self.job(p, surface, ref.job_id, file_not_found(value))
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
        return await live(_SampleCalls(self.service.calls, codec, ref.index), dep, job, "video", byte_range)

    # ---- interactions (Gemini Omni) ----------------------------------------------------------

    async def start_interaction(
        self, p: Principal, surface: str, body: Any, *, idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], str]:
        """Create an Interaction from ``body``: the Interaction with the gateway's ids, and the public
        model name the job was recorded under. With ``idempotency_key``, at most once."""

        def digest() -> str:
            return fingerprint("interactions", [surface, body])

        async def replay(job: JobRecord) -> tuple[dict[str, Any], str]:
            return await self.render_interaction(surface, job), job.model_name

        return await self.service.idempotency.once(
            p,
            idempotency_key,
            digest,
            lambda link: self._start_interaction(p, surface, body, link),
            replay,
        )

    async def _source(self, p: Principal, codec: GoogleNative, interaction_id: str) -> JobRecord:
        """The caller's finished interaction that ``previous_interaction_id`` continues."""
        job = await self.interaction_job(p, codec.surface, interaction_id)
        if job.status != "completed":
            raise BadRequestError(
                f"Interaction {interaction_id} is '{job.status}': only a completed interaction can be "
                "continued.",
                param="previous_interaction_id",
                code="failed_precondition",
            )
        return job

    async def _start_interaction(
        self, p: Principal, surface: str, body: Any, link: Link
    ) -> tuple[dict[str, Any], str]:
        svc = self.service
        codec = google_codec(surface)
        request = codec.read_interaction_body(body, allow_private_urls=svc.config.allow_private_callback_urls)
        deps = self.deployments(p, surface, request.model)
        source: JobRecord | None = None
        clip: int | None = None
        if request.previous_interaction_id is not None:
            source = await self._source(p, codec, request.previous_interaction_id)
            pinned = source.deployment_id
            deps = [d for d in deps if d.id == pinned]  # only its deployment holds the source
            if not deps:
                raise BadRequestError(
                    f"Interaction {request.previous_interaction_id} was made by another model than "
                    f"{request.model}; continue it with its own model.",
                    param="previous_interaction_id",
                )
            if request.reads_previous_clip:  # the whole clip: an extension's record holds what it added
                clip = await clip_seconds(source, await svc.edits.stored_bytes(deps[0], source))
        checked = _priced(
            deps, lambda dep: codec.check_interaction(dep.spec, request, previous=source, clip_seconds=clip)
        )
        previous_native = source.native_id if source else None
        now = svc.clock()

        def draft(c: Priced, job_id: str) -> JobRecord:
            return new_job(
                job_id,
                p,
                c,
                "",
                prompt=request.prompt,
                surface=codec.surface,
                now=now,
                remixed_from=source.id if source else None,
                task=c.req.task,
            )

        started = await svc.starter.start(
            p,
            checked[0].dep.model_name,
            checked,
            lambda c: self._run(
                c.dep,
                lambda a, creds: codec.create_interaction(
                    a, codec.forwarded_interaction(body, c.dep.model, previous_native), creds
                ),
            ),
            draft=draft,
            now=now,
            subject=checked[0].req,
            on_write_ahead=link,
            label="pass-through interaction",
        )
        native = codec.read_interaction(started.answer, now=now, fallback_model=started.priced.dep.model)
        if native.status == "in_progress":  # just accepted: queued, as the adapters report it
            native = replace(native, status="queued", progress=0)
        job = new_job(
            started.job_id,
            p,
            started.priced,
            native.native_id,
            prompt=request.prompt,
            surface=codec.surface,
            now=now,
            remixed_from=source.id if source else None,
            task=started.priced.req.task,  # an extension's seconds are those it added (``clip_seconds``)
        )
        stored = await svc.starter.record(p, job, native, now)
        return await self.render_interaction(surface, stored), stored.model_name

    async def interaction_job(self, p: Principal, surface: str, interaction_id: str) -> JobRecord:
        """The caller's interaction (refreshed when stale); 404 for anything else, as for an unknown id."""
        missing = google_codec(surface).interaction_not_found(interaction_id)
        job = await self.job(p, surface, interaction_id, missing)
        if not google_codec(surface).is_interaction(job):
            raise missing
        return job

    async def get_interaction(self, p: Principal, surface: str, interaction_id: str) -> dict[str, Any]:
        return await self.render_interaction(surface, await self.interaction_job(p, surface, interaction_id))

    async def cancel_interaction(self, p: Principal, surface: str, interaction_id: str) -> dict[str, Any]:
        """Cancel a running interaction upstream, then record what the provider says (a cancelled job
        gets its reservation back); a finished one is answered as it is."""
        job = await self.interaction_job(p, surface, interaction_id)
        if job.status not in TERMINAL_STATUSES:
            job = await self._cancel(google_codec(surface), job)
        return await self.render_interaction(surface, job)

    async def _cancel(self, codec: GoogleNative, job: JobRecord) -> JobRecord:
        svc = self.service
        dep = svc.router.get(job.deployment_id)
        if dep is None:
            raise deployment_gone(job)
        await self._run(dep, lambda a, creds: codec.cancel_interaction(a, job.native_id, creds))
        owner = new_lease_owner(svc.instance_id)
        leased = await svc.stores.jobs.try_lease(
            job.id, owner, now=svc.clock(), lease_seconds=REFRESH_LEASE_SECONDS
        )
        if leased is None:  # someone is refreshing it right now: their answer comes with the next poll
            return job
        refreshed, _ = await svc.keeper.step(leased, owner, keep_lease=False)
        return refreshed

    async def delete_interaction(self, p: Principal, surface: str, interaction_id: str) -> dict[str, Any]:
        """Cancel a running interaction, then delete it (upstream too): ``{}``, as the API answers."""
        job = await self.interaction_job(p, surface, interaction_id)
        if job.status not in TERMINAL_STATUSES:
            await self._cancel(google_codec(surface), job)
        await self.service.delete_video(p, job.id)
        return {}

    async def render_interaction(self, surface: str, job: JobRecord) -> dict[str, Any]:
        """``job`` as an Interaction; an inline video's bytes from the content store when it holds
        them, else from the provider (the stored payload keeps none)."""
        codec = google_codec(surface)
        inline: tuple[str, str] | None = None
        if codec.needs_inline_bytes(job):
            inline = await self._inline_bytes(codec, job)
        dep = self.service.router.get(job.deployment_id)
        return codec.interaction(
            job,
            model=dep.model.rsplit("/", 1)[-1] if dep is not None else job.model_name,
            previous_interaction_id=job.remixed_from,
            created_at=job.created_at,
            updated_at=job.completed_at,
            public_base_url=self.service.config.public_base_url,
            inline=inline,
        )

    async def _inline_bytes(self, codec: GoogleNative, job: JobRecord) -> tuple[str, str] | None:
        svc = self.service
        if job.content_stored:
            info = await svc.stores.content.stat(job.id, "video")
            if info is not None and info.size <= MAX_INLINE_BYTES:
                data = bytearray()
                async for chunk in svc.stores.content.read(job.id, "video"):
                    data += chunk
                return base64.b64encode(data).decode("ascii"), info.media_type
        dep = svc.router.get(job.deployment_id)
        if dep is None:
            raise deployment_gone(job)
        answer = await self._run(dep, lambda a, creds: codec.fetch_interaction(a, job.native_id, creds))
        video = answer.get("output_video")
        if isinstance(video, dict) and isinstance(video.get("data"), str):
            return video["data"], str(video.get("mime_type") or "video/mp4")
        return None
