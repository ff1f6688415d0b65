"""The gateway's use cases: what each endpoint does, with no HTTP in sight (``server/`` calls these).

Create: authenticate -> model allowed -> validate against the catalogue (400 before any provider call)
-> rate limit -> concurrency slot -> exact reservation -> provider create -> store the job pinned to its
deployment. Everything after create goes to that deployment only. When the provider create fails, the
slot and the reservation are given back and (``routing.create_failure``): a definite refusal (429,
503, connection never established, the provider refusing the gateway's credentials) cools the
deployment down and tries the next deployment or fallback model; an ambiguous failure (timeout,
connection broken after sending, 5xx) cools it down and answers 502/504 ``upstream_outcome_unknown``
without trying elsewhere, because the provider may have started a paid job and a second deployment
would start another; a 4xx about the request is answered as it is.

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

from vidgate.catalog import estimate_cost, from_micros, to_micros, validate
from vidgate.errors import APIError, BadRequestError, NotFoundError, RateLimitError, UnsupportedOperationError
from vidgate.gateway import jobs as machine
from vidgate.gateway.admin import KeyAdmin
from vidgate.gateway.auth import Authenticator, Principal
from vidgate.gateway.calls import ProviderCalls
from vidgate.gateway.config import GatewayConfig
from vidgate.gateway.content import ContentStream, from_store, live
from vidgate.gateway.followup import JobKeeper, deployment_gone
from vidgate.gateway.ports import Stores
from vidgate.gateway.records import ApiSurface, JobRecord, KeyRecord, SpendEntry
from vidgate.gateway.routing import Deployment, Router, create_failure, outcome_unknown
from vidgate.gateway.views import new_video_id, to_list, to_video
from vidgate.providers.base import Capability, ProviderJob
from vidgate.transport import AsyncRunner
from vidgate.types import (
    CONTENT_VARIANTS,
    TERMINAL_STATUSES,
    ImageInput,
    Video,
    VideoDeleted,
    VideoList,
    VideoRequest,
)

log = logging.getLogger("vidgate.gateway")
MAX_LIST_LIMIT = 100
DEFAULT_MODEL = "sora-2"  # OpenAI's default when a create names no model
_SAVE_ATTEMPTS = 5
# Provider parameters beyond OpenAI's that the catalogue validates (negative_prompt, seed, n, ...).
EXTRA_PARAMS = frozenset(inspect.signature(validate).parameters) - {
    "spec",
    "prompt",
    "seconds",
    "size",
    "input_reference",
    "user",
    "extra_body",
}

__all__ = ["ContentStream", "CreateVideo", "GatewayService"]


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


def deployments_busy(model: str) -> RateLimitError:
    return RateLimitError(
        f"Every deployment of model '{model}' is at its requests-per-minute limit; retry shortly.",
        code="deployment_rate_limited",
        retry_after=1.0,
    )


@dataclass(frozen=True)
class _Priced:
    dep: Deployment
    req: VideoRequest
    micros: int


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
        self.admin = KeyAdmin(stores, self.auth, self.router.model_names, clock=clock)
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

    def _count_refusals(self, refused: list[tuple[str, APIError]], shown: BaseException | None) -> None:
        """Report the refused create attempts of one request, except the error the caller is answered
        with when it carries its provider (the server counts that one)."""
        for provider, error in refused:
            if error is not shown or error.provider is None:
                self.keeper.report_upstream(provider, error)

    # ---- auth and models ---------------------------------------------------------------------

    async def authenticate(self, secret: str | None) -> Principal:
        return await self.auth.authenticate(secret)

    async def list_models(self, p: Principal) -> list[dict[str, Any]]:
        return [
            {
                "id": name,
                "object": "model",
                "created": self.started_at,
                "owned_by": self.router.deployments_for(name)[0].provider,
            }
            for name in self.router.model_names()
            if p.may_use(name)
        ]

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
        """Totals for /metrics: jobs by status and settled spend (USD) over all keys."""
        counts = await self.stores.jobs.count_by_status()
        spend = sum(k.total_spend_micros for k in await self.stores.keys.list())
        return {"jobs": counts, "spend_usd": from_micros(spend)}

    # ---- create ------------------------------------------------------------------------------

    async def create_video(self, p: Principal, req: CreateVideo) -> Video:
        p.require_model(req.model, self.router.has_model(req.model))
        plan = self.router.plan(req.model)
        own = [self._price(dep, req) for dep in plan if dep.model_name == req.model]
        usable = [x for x in own if not isinstance(x, APIError)]
        if not usable:  # no deployment of this model accepts the request: 400, no provider call
            raise next(x for x in own if isinstance(x, APIError))
        now = self.clock()
        await self._check_rate(p.key, now)
        refused: list[tuple[str, APIError]] = []
        shown: BaseException | None = None
        try:
            return await self._create_on(plan, p, req, now, refused)
        except BaseException as exc:
            shown = exc
            raise
        finally:
            self._count_refusals(refused, shown)

    async def _create_on(
        self,
        plan: list[Deployment],
        p: Principal,
        req: CreateVideo,
        now: float,
        refused: list[tuple[str, APIError]],
    ) -> Video:
        """Try the plan's deployments in order until one creates the job (see the module docstring for
        which failures move on); ``refused`` collects the refusals that did."""
        last_error: APIError | None = None
        tries: dict[str, int] = {}
        budget = 1 + self.config.router_settings.num_retries
        for dep in plan:
            if tries.get(dep.model_name, 0) >= budget:
                continue
            priced = self._price(dep, req)
            if isinstance(priced, APIError):  # a fallback model that cannot serve this request
                continue
            if dep.rpm is not None and not await self._deployment_rate_ok(dep, now):
                last_error = last_error or deployments_busy(req.model)
                continue
            tries[dep.model_name] = tries.get(dep.model_name, 0) + 1
            job_id = new_video_id(now)
            await self._admit(p, job_id, priced.micros)
            try:
                with self.router.in_flight(dep.id):
                    native = await self.calls.create(dep, priced.req)
            except BaseException as exc:
                await self._give_back(p, job_id)
                if not isinstance(exc, APIError):
                    raise
                failure = create_failure(exc)
                if failure == "rejected":
                    raise
                self.router.report_failure(dep.id)
                if failure == "ambiguous":
                    log.error("create on %s has an unknown outcome, not retried elsewhere: %s", dep.id, exc)
                    raise outcome_unknown(dep, exc) from exc
                log.warning(
                    "create on %s (%s) refused, trying the next deployment: %s", dep.id, dep.model_name, exc
                )
                refused.append((dep.provider, exc))
                last_error = exc
                continue
            self.router.report_success(dep.id)
            job = self._new_job(
                job_id, p, dep, priced, native, prompt=priced.req.prompt, surface=req.api_surface, now=now
            )
            return await self._store_new(p, job, native, now)
        raise last_error or deployments_busy(req.model)

    def _price(self, dep: Deployment, req: CreateVideo) -> _Priced | APIError:
        unknown = sorted(set(req.extra) - EXTRA_PARAMS)
        if unknown:
            return BadRequestError(
                f"Unknown parameter: '{unknown[0]}'.", param=unknown[0], code="unknown_parameter"
            )
        try:
            validated = validate(
                dep.spec,
                prompt=req.prompt,
                seconds=req.seconds,
                size=req.size,
                input_reference=req.input_reference,
                user=req.user,
                extra_body=req.extra_body,
                **req.extra,
            )
        except APIError as exc:
            return exc
        micros = to_micros(
            estimate_cost(
                dep.spec,
                seconds=validated.seconds,
                size=validated.size,
                n=validated.n,
                generate_audio=validated.generate_audio,
                price_override=dep.price_per_second,
            )
        )
        return _Priced(dep, dataclasses.replace(validated, model=dep.model), micros)

    async def _check_rate(self, key: KeyRecord | None, now: float) -> None:
        if key is not None and key.rpm_limit is not None:
            await self.stores.admission.check_rate(key.id, key.rpm_limit, now=now)

    async def _deployment_rate_ok(self, dep: Deployment, now: float) -> bool:
        assert dep.rpm is not None
        try:
            await self.stores.admission.check_rate(f"deployment:{dep.id}", dep.rpm, now=now)
        except APIError:
            return False
        return True

    async def _admit(self, p: Principal, job_id: str, micros: int) -> None:
        """The caller's own limits: a concurrency slot, then the exact reservation (429 when over)."""
        key = p.key
        if key is None:
            return
        if key.max_parallel_requests is not None:
            await self.stores.admission.acquire_slot(key.id, job_id, key.max_parallel_requests)
        try:
            await self.stores.ledger.reserve(key, job_id, micros, now=int(self.clock()))
        except BaseException:
            await self.stores.admission.release_slot(key.id, job_id)
            raise

    async def _give_back(self, p: Principal, job_id: str) -> None:
        """Undo ``_admit`` for a job that was never created."""
        if p.key is not None:
            await self.stores.ledger.release(p.key.id, job_id)
            await self.stores.admission.release_slot(p.key.id, job_id)

    def _new_job(
        self,
        job_id: str,
        p: Principal,
        dep: Deployment,
        priced: _Priced,
        native: ProviderJob,
        *,
        prompt: str,
        surface: ApiSurface,
        now: float,
        remixed_from: str | None = None,
        size: str | None = None,
        seconds: str | None = None,
    ) -> JobRecord:
        job = JobRecord(
            id=job_id,
            owner_key_id=p.owner_id,
            model_name=dep.model_name,
            deployment_id=dep.id,
            provider=dep.provider,
            native_id=native.native_id,
            status="queued",
            created_at=int(now),
            size=size or priced.req.size,
            seconds=seconds or str(priced.req.seconds),
            api_surface=surface,
            prompt=prompt,
            n=priced.req.n,
            remixed_from=remixed_from,
            reserved_micros=priced.micros,
        )
        return job

    async def _store_new(self, p: Principal, job: JobRecord, native: ProviderJob, now: float) -> Video:
        transition = machine.advance(job, native, now)
        machine.apply(job, transition)
        try:
            await self.stores.jobs.insert(job)
        except BaseException:
            log.error("job %s was created upstream (%s) but could not be stored", job.id, job.native_id)
            await self._give_back(p, job.id)
            raise
        if transition.terminal:  # a provider that finished at once: make the money final now
            stored = await self.stores.jobs.get(job.id)
            if stored is not None:
                await self.keeper.finish(stored, transition)
                self.keeper.became_terminal(stored)
                await self.stores.jobs.save(stored)  # lost race: the poller has it, effects are idempotent
                job = stored
        return to_video(job)

    # ---- read --------------------------------------------------------------------------------

    async def _owned(self, p: Principal, video_id: str) -> JobRecord:
        job = await self.stores.jobs.get(video_id) if isinstance(video_id, str) else None
        if job is None or job.deleted or job.owner_key_id != p.owner_id:
            raise NotFoundError(
                f"No video found with id '{video_id}'.", param="video_id", code="video_not_found"
            )
        return job

    async def _current(self, p: Principal, video_id: str) -> JobRecord:
        """The caller's job, refreshed from its provider first when the stored state is stale."""
        job = await self._owned(p, video_id)
        if self.keeper.due(job, self.clock()):
            job = await self.keeper.refresh(job, owner_prefix=self.instance_id)
        return job

    async def get_video(self, p: Principal, video_id: str) -> Video:
        return to_video(await self._current(p, video_id))

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
        records, has_more = await self.stores.jobs.list_for_owner(
            p.owner_id, after=after, limit=limit, order=direction
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
        job = await self._current(p, video_id)
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
        stored = await from_store(self.stores.content, job, variant, byte_range)
        if stored is not None:
            return stored
        dep = self.router.get(job.deployment_id)
        if dep is None:
            raise deployment_gone(job)
        return await live(self.calls, dep, job, variant, byte_range)

    # ---- remix and delete ---------------------------------------------------------------------

    async def remix_video(self, p: Principal, video_id: str, prompt: str) -> Video:
        source = await self._current(p, video_id)
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
        if not self.calls.supports(dep, Capability.REMIX) or not dep.spec.has("remix"):
            raise UnsupportedOperationError("remix", dep.provider)
        remix = CreateVideo(model=dep.model_name, prompt=prompt, seconds=source.seconds, size=source.size)
        priced = self._price(dep, remix)
        if isinstance(priced, APIError):
            raise priced
        now = self.clock()
        await self._check_rate(p.key, now)
        job_id = new_video_id(now)
        await self._admit(p, job_id, priced.micros)
        try:
            with self.router.in_flight(dep.id):
                native = await self.calls.remix(dep, source.native_id, prompt)
        except BaseException as exc:
            await self._give_back(p, job_id)
            if isinstance(exc, APIError) and create_failure(exc) == "ambiguous":
                raise outcome_unknown(dep, exc) from exc
            raise
        job = self._new_job(
            job_id,
            p,
            dep,
            priced,
            native,
            prompt=prompt,
            surface=source.api_surface,
            now=now,
            remixed_from=source.id,
            size=native.size or source.size,
            seconds=native.seconds or source.seconds,
        )
        return await self._store_new(p, job, native, now)

    async def delete_video(self, p: Principal, video_id: str) -> VideoDeleted:
        job = await self._current(p, video_id)
        if job.status not in TERMINAL_STATUSES:
            raise BadRequestError(
                f"Video '{video_id}' is still '{job.status}'; only a completed or failed video can be "
                "deleted.",
                param="video_id",
                code="video_not_finished",
            )
        dep = self.router.get(job.deployment_id)
        if dep is not None and self.calls.supports(dep, Capability.DELETE) and dep.spec.has("delete"):
            with contextlib.suppress(NotFoundError):  # already gone upstream
                await self.calls.delete(dep, job.native_id)
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

    async def list_keys(self, p: Principal) -> list[KeyRecord]:
        return await self.admin.list_keys(p)

    async def update_key(self, p: Principal, key: str, **fields: Any) -> KeyRecord:
        return await self.admin.update(p, key, fields)

    async def delete_keys(self, p: Principal, keys: list[str]) -> list[str]:
        return await self.admin.delete(p, keys)

    async def spend_logs(
        self, p: Principal, *, key: str | None, start: int | None, end: int | None, limit: int
    ) -> list[SpendEntry]:
        return await self.admin.spend_logs(p, key=key, start=start, end=end, limit=limit)
