"""The gateway's use cases: what each endpoint does, with no HTTP in sight (``server/`` calls these).

Create: authenticate -> model allowed -> validate against the catalogue (400 before any provider call)
-> ``starter.JobStarter``: pre-call guardrails -> rate limit -> deployment rpm -> exact reservation ->
concurrency slot -> write-ahead record -> provider create on the routing plan's deployments (the
model's, then its fallback models'), moving on only after a definite refusal -> store the job pinned to
its deployment. Everything after create goes to that deployment only. Remix (on the source's deployment
only), edits and extensions (``gateway.edits``) and the Google pass-through start their jobs through
the same ``JobStarter``. Characters: ``gateway.characters``.

A job stored write-ahead (``submitting``) is shown as ``queued``: it is one as far as the client knows.

Ownership: a job is visible only to the key that created it; anyone else gets the same 404 as for an
unknown id. The master key owns the jobs it creates (as ``master``) and, like any key, sees only those.

Delete follows OpenAI ("delete a completed or failed video"): a queued or in-progress video answers
400 and is left running.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from vidgate.catalog import from_micros, validate
from vidgate.catalog.drop import drop_unsupported
from vidgate.catalog.openrouter import OpenRouterFields, fold, merge_options, provider_options
from vidgate.catalog.spec import current_date
from vidgate.errors import APIError, BadRequestError, NotFoundError, UnsupportedOperationError
from vidgate.gateway import capabilities, submitting, tracing
from vidgate.gateway import jobs as machine
from vidgate.gateway.admin import KeyAdmin
from vidgate.gateway.auth import Authenticator, Principal
from vidgate.gateway.callbacks import PARAM as CALLBACK_PARAM
from vidgate.gateway.callbacks import check_callback_url
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.characters import Characters
from vidgate.gateway.config import GatewayConfig
from vidgate.gateway.content import ContentStream, from_store, live
from vidgate.gateway.deployments import deployment_status
from vidgate.gateway.edits import VideoEdits, clip_seconds
from vidgate.gateway.followup import JobKeeper, deployment_gone
from vidgate.gateway.guardrails.engine import Guardrails
from vidgate.gateway.guardrails.output import OutputCheck
from vidgate.gateway.idempotency import Idempotency, Link, fingerprint
from vidgate.gateway.ports import Stores
from vidgate.gateway.provider_callbacks import CallbackIntake
from vidgate.gateway.records import ApiSurface, JobRecord, KeyQuery, KeyRecord, SpendEntry
from vidgate.gateway.routing import Deployment, Router
from vidgate.gateway.starter import JobStarter, Priced, new_job, price_for
from vidgate.gateway.views import to_list, to_video
from vidgate.providers.reserved import check_extra_for, reserved_for
from vidgate.transport import AsyncRunner
from vidgate.types import (
    CONTENT_VARIANTS,
    TERMINAL_STATUSES,
    ImageInput,
    SourceVideo,
    Video,
    VideoDeleted,
    VideoList,
)

log = logging.getLogger("vidgate.gateway")
MAX_LIST_LIMIT = 100
DEFAULT_MODEL = "sora-2"  # OpenAI's default when a create names no model
_SAVE_ATTEMPTS = 5
# Provider parameters beyond OpenAI's that the catalogue validates (negative_prompt, seed, n, ...).
EXTRA_PARAMS = frozenset(inspect.signature(validate).parameters) - {
    "spec",
    "reference_videos",  # from input_references' video_url items only (catalog.openrouter.fold)
    "prompt",
    "seconds",
    "size",
    "input_reference",
    "user",
    "extra_body",
}

__all__ = ["ContentStream", "CreateNotes", "CreateVideo", "GatewayService"]


@dataclass(frozen=True)
class CreateVideo:
    """A create request as the server parsed it (not yet validated)."""

    model: str
    prompt: str | None
    seconds: str | int | None = None
    size: str | None = None
    input_reference: ImageInput | None = None
    user: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # negative_prompt, seed, n, person_generation, ...
    extra_body: dict[str, Any] = field(default_factory=dict)
    api_surface: ApiSurface = "openai"
    # OpenRouter's spellings (duration, resolution + aspect_ratio, frame_images, input_references),
    # folded onto the fields above per deployment's catalogue row (``catalog.openrouter.fold``)
    openrouter: OpenRouterFields | None = None
    callback_url: str | None = None  # a per-job webhook (``gateway.callbacks``)


@dataclass
class CreateNotes:
    """What a create tells its caller besides the video: the parameters dropped under drop_params."""

    dropped: tuple[str, ...] = ()


class GatewayService:
    def __init__(
        self,
        config: GatewayConfig,
        stores: Stores,
        runner: AsyncRunner,
        *,
        router: Router | None = None,
        calls: ProviderCalls | None = None,
        clock: Callable[[], float] = time.time,
        instance_id: str | None = None,
        auth_ttl: float = 2.0,
    ) -> None:
        self.config = config
        self.stores = stores
        self.runner = runner
        self.router = router or config.router(clock)
        self.calls = calls or ProviderCalls(runner)
        self.clock = clock
        self.instance_id = instance_id or "gw-" + secrets.token_hex(6)
        self.auth = Authenticator(stores.keys, config.master_key, ttl=auth_ttl)
        self.keeper = JobKeeper(stores, self.router, self.calls, clock=clock)
        self.keeper.webhooks = bool(config.webhook_url and config.webhook_secret)
        self.observers = self.keeper.observer  # metrics and logging callbacks subscribe here
        self.guardrails = Guardrails(config.guardrails, self.observers)
        if self.guardrails.has_mode("post_call"):
            self.keeper.output_check = OutputCheck(self.guardrails, stores.keys, self.router, self.calls)
        self.admin = KeyAdmin(
            stores, self.auth, self.router.model_names, guardrail_names=self.guardrails.names, clock=clock
        )
        self.starter = JobStarter(
            stores,
            self.router,
            self.keeper,
            num_retries=config.router_settings.num_retries,
            clock=clock,
            guardrails=self.guardrails,
            public_base_url=config.public_base_url,
            current=self.auth.current,
        )
        self.callbacks = CallbackIntake(stores, self.router, self.calls, self.keeper, clock=clock)
        slowest = max((g.timeout for g in config.guardrails), default=0.0)
        self.idempotency = Idempotency(stores, clock=clock, slowest_guardrail=slowest)
        self.edits = VideoEdits(self)
        self.characters = Characters(self)
        self.started_at = int(clock())

    @property
    def on_upstream_error(self) -> Callable[[str, int], None] | None:
        """Called with (provider, status) for each provider error no client sees: background and
        refresh polls, content copies, and create attempts that fell back to another deployment. The
        errors a request answers with carry ``provider`` and are the server's to count."""
        return self.keeper.on_upstream_error

    @on_upstream_error.setter
    def on_upstream_error(self, hook: Callable[[str, int], None] | None) -> None:
        self.keeper.on_upstream_error = hook

    # ---- auth and models ---------------------------------------------------------------------

    async def authenticate(self, secret: str | None) -> Principal:
        return await self.auth.authenticate(secret)

    async def list_models(self, p: Principal) -> list[dict[str, Any]]:
        """The models ``p`` may use: OpenAI's ``id/object/created/owned_by`` and, beside them, what
        each accepts and costs (``gateway.capabilities``)."""
        return [self._describe(name) for name in self.router.model_names() if p.may_use(name)]

    async def model(self, p: Principal, name: str) -> dict[str, Any]:
        """One model of ``list_models`` (``GET /v1/models/{model}``); one ``p`` may not use is the same 404
        as one that does not exist."""
        p.require_model(name, self.router.has_model(name), self.router.model_names())
        return self._describe(name)

    def _describe(self, name: str) -> dict[str, Any]:
        """The entry of served model ``name``: its deployments' capabilities merged (the first's provider
        owns it)."""
        deployments = self.router.deployments_for(name)
        callbacks = bool(self.config.webhook_secret)
        described = capabilities.merge(
            [
                capabilities.describe(dep, reserved_for(self.calls.provider(dep)), callbacks=callbacks)
                for dep in deployments
            ]
        )
        entry: dict[str, Any] = {
            "id": name,
            "object": "model",
            "created": self.started_at,
            "owned_by": deployments[0].provider,
        }
        entry.update(described)
        return entry

    def default_model(self) -> str | None:
        """The model a create without ``model`` uses: ``sora-2`` when configured, else the first one."""
        names = self.router.model_names()
        if DEFAULT_MODEL in names:
            return DEFAULT_MODEL
        return names[0] if names else None

    def poll_after_ms(self, video: Video) -> int:
        """The ``openai-poll-after-ms`` hint for a client polling ``video`` (slower for older jobs)."""
        age = self.clock() - video.created_at
        return 1000 if age < 30 else 2000 if age < 300 else 5000

    async def stats(self) -> dict[str, Any]:
        """Totals for /metrics: jobs by status and settled spend (USD) from the ledger, so the master
        key's spend and deleted keys' spend count and the figure never drops."""
        counts = await self.stores.jobs.count_by_status()
        return {"jobs": counts, "spend_usd": from_micros(await self.stores.ledger.total_spend())}

    # ---- create ------------------------------------------------------------------------------

    async def create_video(
        self,
        p: Principal,
        req: CreateVideo,
        *,
        idempotency_key: str | None = None,
        notes: CreateNotes | None = None,
    ) -> Video:
        """Start a video; with ``idempotency_key``, at most once (``gateway.idempotency``). ``notes``
        receives what else the caller should be told (parameters dropped under drop_params)."""
        self.check_callback(req.callback_url)

        def digest() -> str:
            return fingerprint("create", dataclasses.asdict(req))

        return await self.idempotency.once(
            p, idempotency_key, digest, lambda link: self._create(p, req, link, notes), self._replay
        )

    def check_callback(self, url: str | None) -> None:
        """A ``callback_url`` the gateway may call and sign for, or a 400 naming it."""
        if url is None:
            return
        check_callback_url(url, allow_private=self.config.allow_private_callback_urls)
        if not self.config.webhook_secret:
            raise BadRequestError(
                "Invalid 'callback_url': this gateway has no webhook_secret to sign callbacks with "
                "(general_settings.webhook_secret), so it does not accept callback URLs.",
                param=CALLBACK_PARAM,
                code="callbacks_not_enabled",
            )

    async def _replay(self, job: JobRecord) -> Video:
        """The answer to a repeated idempotent request: the job it started, as it is now."""
        if job.deleted:
            return to_video(job)
        return to_video(
            await self.keeper.refresh(job, owner_prefix=self.instance_id)
            if self.keeper.due(job, self.clock())
            else job
        )

    async def _create(self, p: Principal, req: CreateVideo, link: Link, notes: CreateNotes | None) -> Video:
        p.require_model(req.model, self.router.has_model(req.model), self.router.model_names())
        plan = self.router.plan(req.model, may_use=p.may_use)
        priced: dict[int, Priced | APIError] = {}  # each deployment validated and priced once

        def price(dep: Deployment) -> Priced | APIError:
            if id(dep) not in priced:
                priced[id(dep)] = self._price(dep, req)
            return priced[id(dep)]

        own = [price(dep) for dep in plan if dep.model_name == req.model]
        accepted = next((x for x in own if isinstance(x, Priced)), None)
        if accepted is None:  # no deployment accepts it: 400, no provider call
            raise next(x for x in own if isinstance(x, APIError))
        # A fallback model that cannot serve this request is skipped (priced lazily, in plan order).
        candidates = (x for x in (price(dep) for dep in plan) if isinstance(x, Priced))
        now = self.clock()
        started = await self.starter.start(
            p,
            req.model,
            candidates,
            lambda c: self.calls.create(c.dep, c.req),
            draft=lambda c, job_id: new_job(
                job_id,
                p,
                c,
                "",
                prompt=c.req.prompt,
                surface=req.api_surface,
                now=now,
                callback_url=req.callback_url,
            ),
            now=now,
            subject=accepted.req,
            on_write_ahead=link,
            offer_callback=True,
        )
        job = new_job(
            started.job_id,
            p,
            started.priced,
            started.answer.native_id,
            prompt=started.priced.req.prompt,
            surface=req.api_surface,
            now=now,
            callback_url=req.callback_url,
        )
        dropped = started.priced.dropped
        if dropped:
            log.warning(
                "drop_params: %s left out %s (unsupported by %s)",
                started.job_id,
                ", ".join(dropped),
                started.priced.dep.spec.id,
            )
        if notes is not None:
            notes.dropped = dropped
        job.provider_callback_hash = started.callback_hash
        return to_video(await self.starter.record(p, job, started.answer, now))

    def _price(self, dep: Deployment, req: CreateVideo) -> Priced | APIError:
        """``req`` validated and priced for ``dep``, or the 400 that deployment's catalogue row gives."""
        unknown = sorted(set(req.extra) - EXTRA_PARAMS)
        if unknown:
            return BadRequestError(
                f"Unknown parameter: '{unknown[0]}'.", param=unknown[0], code="unknown_parameter"
            )
        try:
            adapter = self.calls.provider(dep)
            check_extra_for(adapter, req.extra_body)
            extra_body = req.extra_body
            if req.openrouter is not None:  # provider.options for this deployment's provider
                path, options = provider_options(req.openrouter, dep.provider)
                check_extra_for(adapter, options, where=path)
                extra_body = merge_options(extra_body, options, path)
            params: dict[str, Any] = {
                "prompt": req.prompt,
                "seconds": req.seconds,
                "size": req.size,
                "input_reference": req.input_reference,
                "user": req.user,
                "extra_body": extra_body,
                **req.extra,
            }
            dropped: list[str] = []
            if req.openrouter is not None:
                params, dropped = fold(dep.spec, req.openrouter, params, drop=dep.drop_params)
            if dep.drop_params:
                params, more = drop_unsupported(dep.spec, params)
                dropped += more
            validated = validate(dep.spec, **params)
            if validated.model != dep.model:  # ``replace`` only when needed: it is slow on big records
                validated = dataclasses.replace(validated, model=dep.model)
            priced = price_for(dep, validated)
            return dataclasses.replace(priced, dropped=tuple(dropped)) if dropped else priced
        except APIError as exc:
            return exc

    # ---- read --------------------------------------------------------------------------------

    async def _owned(self, p: Principal, video_id: str) -> JobRecord:
        job = await self.stores.jobs.get(video_id) if isinstance(video_id, str) else None
        if job is None or job.deleted or not (p.is_master or job.owner_key_id == p.owner_id):
            raise NotFoundError(
                f"No video found with id '{video_id}'.", param="video_id", code="video_not_found"
            )
        return job

    async def current(self, p: Principal, video_id: str) -> JobRecord:
        """The caller's job, refreshed from its provider first when the stored state is stale."""
        job = await self._owned(p, video_id)
        if self.keeper.due(job, self.clock()):
            job = await self.keeper.refresh(job, owner_prefix=self.instance_id)
        return job

    async def get_video(self, p: Principal, video_id: str) -> Video:
        return to_video(await self.current(p, video_id))

    async def list_videos(self, p: Principal, *, after: str | None, limit: int, order: str) -> VideoList:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIST_LIMIT:
            raise BadRequestError(
                f"Invalid 'limit': expected an integer from 0 to {MAX_LIST_LIMIT}, got {limit!r}.",
                param="limit",
            )
        direction: Literal["asc", "desc"]
        if order == "asc":
            direction = "asc"
        elif order == "desc":
            direction = "desc"
        else:
            raise BadRequestError(
                f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
                param="order",
                code="invalid_value",
            )
        # The master key is the operator: it sees every owner's videos (a key, only its own).
        owner = None if p.is_master else p.owner_id
        records, has_more = await self.stores.jobs.list_for_owner(
            owner, after=after, limit=limit, order=direction
        )
        return to_list(records, has_more)

    async def open_content(
        self, p: Principal, video_id: str, variant: str, byte_range: tuple[int, int | None] | None
    ) -> ContentStream:
        if variant not in CONTENT_VARIANTS:
            raise BadRequestError(
                f"Invalid value: '{variant}'. Supported values are: 'video', 'thumbnail', and 'spritesheet'.",
                param="variant",
                code="invalid_value",
            )
        job = await self.current(p, video_id)
        if job.status == "failed":
            raise NotFoundError(
                f"Video '{video_id}' failed and has no content: {job.error_message or 'generation failed'}",
                param="video_id",
                code="video_failed",
            )
        if job.status != "completed":
            raise NotFoundError(
                f"Video is not ready yet. Its status is '{job.status}'; poll GET /v1/videos/{video_id} "
                "until it is 'completed'.",
                param="video_id",
                code="video_not_ready",
            )
        with tracing.span("content fetch", {"vidgate.video_id": job.id, "vidgate.variant": variant}) as span:
            stored = await from_store(self.stores.content, job, variant, byte_range)
            span.set_attribute("vidgate.content.stored", stored is not None)
            if stored is not None:
                return stored
            dep = self.router.get(job.deployment_id)
            if dep is None:
                raise deployment_gone(job)
            return await live(self.calls, dep, job, variant, byte_range)

    # ---- remix and delete ---------------------------------------------------------------------

    async def remix_video(
        self, p: Principal, video_id: str, prompt: str, *, idempotency_key: str | None = None
    ) -> Video:
        """Remix a completed video; with ``idempotency_key``, at most once (``gateway.idempotency``)."""

        def digest() -> str:
            return fingerprint("remix", [video_id, prompt])

        return await self.idempotency.once(
            p, idempotency_key, digest, lambda link: self._remix(p, video_id, prompt, link), self._replay
        )

    async def _remix(self, p: Principal, video_id: str, prompt: str, link: Link) -> Video:
        source = await self.current(p, video_id)
        p.require_model(source.model_name, True)
        if source.status != "completed":
            raise BadRequestError(
                f"Video '{video_id}' is '{source.status}'; only a completed video can be remixed.",
                param="video_id",
                code="video_not_ready",
            )
        dep = self.router.get(source.deployment_id)
        if dep is None:
            raise deployment_gone(source)
        if not dep.spec.has("remix"):
            raise UnsupportedOperationError(  # the model the client asked for; the provider is ours to know
                "remix", dep.provider, message=f"Model '{source.model_name}' does not support 'remix'."
            )
        seconds = source.seconds
        if source.task == "extend":  # its record holds the seconds it added; the remix is of the whole clip
            whole = await clip_seconds(source, await self.edits.stored_bytes(dep, source))
            seconds = seconds if whole is None else str(whole)
        remix = CreateVideo(model=dep.model_name, prompt=prompt, seconds=seconds, size=source.size)
        priced = self._price(dep, remix)
        if isinstance(priced, APIError):
            raise priced
        now = self.clock()

        def draft(c: Priced, job_id: str) -> JobRecord:
            return new_job(
                job_id,
                p,
                c,
                "",
                prompt=prompt,
                surface=source.api_surface,
                now=now,
                remixed_from=source.id,
                size=source.size,
                seconds=seconds,
            )

        started = await self.starter.start(  # no fallback: only this deployment holds the source video
            p,
            dep.model_name,
            [priced],
            lambda c: self.calls.remix(c.dep, source.native_id, prompt),
            draft=draft,
            now=now,
            # the guardrails see the prompt and the video being remixed
            subject=dataclasses.replace(
                priced.req, source_video=SourceVideo(native_id=source.native_id, size=source.size)
            ),
            label="remix",
            on_write_ahead=link,
        )
        native = started.answer
        job = new_job(
            started.job_id,
            p,
            priced,
            native.native_id,
            prompt=prompt,
            surface=source.api_surface,
            now=now,
            remixed_from=source.id,
            size=native.size or source.size,
            seconds=native.seconds or seconds,
        )
        return to_video(await self.starter.record(p, job, native, now))

    async def delete_video(self, p: Principal, video_id: str) -> VideoDeleted:
        job = await self.current(p, video_id)
        if job.status not in TERMINAL_STATUSES:
            raise BadRequestError(
                f"Video '{video_id}' is still '{job.status}'; only a completed or failed video can be "
                "deleted.",
                param="video_id",
                code="video_not_finished",
            )
        dep = self.router.get(job.deployment_id)
        if submitting.is_placeholder(job.native_id):
            pass  # its create never reached the provider (or was never found there): nothing upstream
        elif dep is not None and dep.spec.has("delete"):
            with contextlib.suppress(NotFoundError):  # already gone upstream
                await self.calls.delete(dep, job.native_id)
            # That was the cancel owed to this provider job, if one was (its create answered late). Only
            # this one: a cancel owed to another (or one no delete made) stays owed (``gateway.cancels``).
            await self.stores.cancels.settle(job.deployment_id, job.native_id)
        elif dep is None:
            log.warning(
                "deleting %s without its deployment %s: upstream copy left", job.id, job.deployment_id
            )
        for _ in range(_SAVE_ATTEMPTS):
            current = await self._owned(p, video_id)
            await self.keeper.finish(current, machine.settled_state(current, self.clock()))
            current.deleted = True
            if await self.stores.jobs.save(current):
                break
        else:
            raise APIError(f"Video '{video_id}' is busy; retry the delete.", status_code=409, code="conflict")
        await self.stores.content.delete(job.id)
        return VideoDeleted(id=job.id)

    # ---- key admin (master key) ------------------------------------------------------------------

    async def generate_key(self, p: Principal, **fields: Any) -> tuple[str, KeyRecord]:
        return await self.admin.generate(p, fields)

    async def key_info(self, p: Principal, key: str | None) -> dict[str, Any]:
        return await self.admin.info(p, key)

    async def list_keys(self, p: Principal, query: KeyQuery | None) -> tuple[list[KeyRecord], int]:
        return await self.admin.list_keys(p, query)

    async def update_key(self, p: Principal, key: str, **fields: Any) -> KeyRecord:
        return await self.admin.update(p, key, fields)

    async def delete_keys(self, p: Principal, keys: list[str]) -> list[str]:
        return await self.admin.delete(p, keys)

    def deployments(self, p: Principal) -> list[dict[str, Any]]:
        """The configured deployments with their health in this process and lifecycle warnings."""
        p.require_master("read deployments")
        return deployment_status(self.router, current_date())

    async def spend_logs(
        self, p: Principal, *, key: str | None, start: int | None, end: int | None, limit: int
    ) -> list[SpendEntry]:
        return await self.admin.spend_logs(p, key=key, start=start, end=end, limit=limit)
