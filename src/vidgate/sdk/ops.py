"""The SDK operations, written once for the sync and the async client.

Each ``plan_*`` function resolves the model or id, normalises and validates every argument, and
builds the credentials *eagerly*, so every BadRequestError and AuthenticationError is raised before
any network call. It returns a ``Plan``: the target plus a builder for the flow that composes the
provider's own flow (``yield from``) with the conversion into OpenAI-shaped objects. The clients only
finish the credentials (a Vertex token may need I/O) and hand the flow to their runner.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from vidgate.catalog import ModelSpec, estimate_cost, validate
from vidgate.catalog.openrouter import merge_options, provider_options
from vidgate.catalog.pricing import request_estimate
from vidgate.errors import BadRequestError, Timeout, UnsupportedOperationError, missing_parameters
from vidgate.providers.base import Capability, Download, Flow, ProviderJob, ProviderPage
from vidgate.providers.catalogue import models_for_provider
from vidgate.providers.openai.adapter import OpenAIProvider
from vidgate.providers.registry import get_provider, get_spec
from vidgate.providers.reserved import check_extra_for
from vidgate.providers.spec import ProviderSpec
from vidgate.sdk.ids import VideoRef, decode, encode
from vidgate.sdk.lifecycle import warn_lifecycle
from vidgate.sdk.params import image_list, optional_image
from vidgate.sdk.proxy import ProxyRequest, new_idempotency_key, proxy_create, proxy_remix
from vidgate.sdk.resolve import (
    ClientConfig,
    Route,
    Target,
    credentials,
    resolve_model,
    resolve_video,
    uses_gateway,
)
from vidgate.sdk.shape import folded, for_gateway, take
from vidgate.types import CONTENT_VARIANTS, Video, VideoDeleted, VideoList, VideoRequest, VideoUsage

OPTIONAL_FEATURES = frozenset({"remix", "list", "delete"})  # the rest every model has

T = TypeVar("T")

PROVIDER_PARAMS: tuple[str, ...] = (
    "negative_prompt",
    "reference_images",
    "last_frame",
    "person_generation",
    "seed",
    "n",
    "generate_audio",
)
DEFAULT_LIST_LIMIT = 20


@dataclass(frozen=True)
class Plan(Generic[T]):
    """A validated operation: where it goes, and how to build its flow once credentials are final."""

    target: Target
    build: Callable[[Target], Flow[T]]


@dataclass(frozen=True)
class Polled:
    """A status poll: the Video, and the provider's hint for when to poll next (ms), if it gave one."""

    video: Video
    poll_after_ms: int | None


def target_for(route: Route, config: ClientConfig, extra_headers: Mapping[str, str] | None = None) -> Target:
    adapter = get_provider("openai") if route.proxy else get_provider(route.provider)
    return Target(route, adapter, credentials(route, config)).with_headers(extra_headers)


def require(target: Target, capability: Capability) -> None:
    """Operations the catalogue row does not declare fail here, before any request (capabilities are
    declared once, per model; create, retrieve and download every model has). A gateway decides itself."""
    if target.route.proxy or capability.value not in OPTIONAL_FEATURES:
        return
    rows = [target.route.spec] if target.route.spec is not None else models_for_provider(target.provider)
    if any(row.has(capability.value) for row in rows):
        return
    declared = sorted({f for row in rows for f in row.features if f in OPTIONAL_FEATURES})
    raise UnsupportedOperationError(
        capability.value,
        target.provider,
        message=f"'{target.route.spec.id if target.route.spec else target.provider}' does not support "
        f"'{capability.value}' (it supports: {', '.join(['create', 'retrieve', 'download', *declared])}).",
    )


# ---- conversion -------------------------------------------------------------------------------


def usage_for(
    spec: ModelSpec | None, seconds: str, size: str, req: VideoRequest | None = None
) -> VideoUsage | None:
    """Duration and the catalogue's cost estimate (None when the duration is unknown). With the create's
    ``req`` it is ``request_estimate``, the gateway's own reading (inputs, with-video rates, audio, n),
    so direct mode shows what the gateway would reserve; without it (a later retrieve) the bare row at
    ``size``. A model of an open namespace or a ``priced_by: deployment`` row has no price here: cost None."""
    try:
        duration = float(seconds)
    except ValueError:
        return None
    cost = None
    priced = spec is not None and not (spec.open_sizes or spec.open_seconds or spec.deployment_priced)
    if spec is not None and priced and req is not None:
        cost = float(request_estimate(spec, req))
    elif spec is not None and priced and size in spec.sizes:
        cost = float(estimate_cost(spec, seconds=duration, size=size))
    return VideoUsage(duration_seconds=duration, cost=cost, cost_is_estimate=True)


def _proxy_usage(job: ProviderJob) -> VideoUsage | None:
    raw = job.raw.get("usage")
    if isinstance(raw, Mapping) and "duration_seconds" in raw:
        try:
            return VideoUsage.model_validate(dict(raw))
        except ValueError:
            return None
    return None


def to_video(
    job: ProviderJob,
    route: Route,
    *,
    ref: VideoRef | None = None,
    req: VideoRequest | None = None,
    source_id: str | None = None,
    model: str | None = None,
) -> Video:
    """A provider job as an OpenAI ``Video``; in direct mode the id is a self-describing vidgate id."""
    spec = route.spec
    seconds = job.seconds or (str(req.seconds) if req else None) or (ref.seconds if ref else None) or ""
    size = job.size or (req.size if req else None) or (ref.size if ref else None) or ""
    created = job.created_at or (ref.created_at if ref else None) or int(time.time())
    id_model = model or route.model or job.model or route.provider
    if route.proxy:
        video_id = job.native_id
        remixed = job.remixed_from
        usage = _proxy_usage(job)
    else:
        video_id = encode(
            VideoRef(route.provider, id_model, job.native_id, seconds or None, size or None, created)
        )
        remixed = None
        if job.remixed_from:
            source = decode(source_id) if source_id else None
            same = source is not None and source.native_id == job.remixed_from
            remixed = source_id if same else encode(VideoRef(route.provider, id_model, job.remixed_from))
        usage = None
        if req is not None:
            usage = usage_for(spec, seconds, size, req)
        elif job.status == "completed":
            usage = usage_for(spec, seconds, size)
    return Video(
        id=video_id,
        model=job.model or id_model,
        status=job.status,
        progress=job.progress,
        created_at=created,
        completed_at=job.completed_at,
        expires_at=job.expires_at,
        prompt=job.prompt if job.prompt is not None else (req.prompt if req else None),
        size=size,
        seconds=seconds,
        remixed_from_video_id=remixed,
        error=job.error,
        usage=usage,
    )


# ---- create -----------------------------------------------------------------------------------


def given(value: object) -> bool:
    """Not missing: None and blank strings are missing (a wrong type is reported as such later)."""
    return not (value is None or (isinstance(value, str) and not value.strip()))


def _check_provider_params(provider_params: Mapping[str, Any]) -> None:
    for name in provider_params:
        if name not in PROVIDER_PARAMS:
            raise BadRequestError(
                f"Unknown parameter '{name}'. Model parameters are: prompt, seconds, size, input_reference, "
                f"user, extra_body, {', '.join(PROVIDER_PARAMS)} (where the model supports them), and "
                "OpenRouter's duration, resolution, aspect_ratio, frame_images, input_references, "
                "callback_url.",
                param=name,
                code="unknown_parameter",
            )


def plan_create(
    config: ClientConfig,
    *,
    model: object,
    prompt: object,
    seconds: object = None,
    size: object = None,
    input_reference: object = None,
    user: object = None,
    extra_body: object = None,
    extra_headers: Mapping[str, str] | None = None,
    provider_params: Mapping[str, Any] | None = None,
) -> Plan[Video]:
    params = dict(provider_params or {})
    shape = take(params)  # OpenRouter's spellings (sdk.shape)
    _check_provider_params(params)
    missing = [name for name, value in (("model", model), ("prompt", prompt)) if not given(value)]
    if len(missing) > 1:  # one missing parameter gets its own, more specific message below
        raise missing_parameters(missing)
    route = resolve_model(model, config)
    image = optional_image(input_reference, "input_reference")
    last_frame = optional_image(params.pop("last_frame", None), "last_frame")
    references = image_list(params.pop("reference_images", None))
    if extra_body is not None and not isinstance(extra_body, Mapping):
        raise BadRequestError("'extra_body' must be a dict.", param="extra_body")
    if user is not None and not isinstance(user, str):
        raise BadRequestError("'user' must be a string.", param="user")
    if seconds is not None and not isinstance(seconds, str | int):
        raise BadRequestError("'seconds' must be a string such as '8'.", param="seconds")
    if size is not None and not isinstance(size, str):
        raise BadRequestError("'size' must be a string such as '1280x720'.", param="size")
    body = dict(extra_body or {})
    target = target_for(route, config, extra_headers)
    check_extra_for(target.adapter, body)  # before validation and pricing: nothing overrides them
    as_given = {
        "seconds": seconds,
        "size": size,
        "input_reference": image,
        "last_frame": last_frame,
        "reference_images": references,
    }
    if route.proxy:
        if not isinstance(prompt, str) or not prompt.strip():
            raise BadRequestError("Missing required parameter: 'prompt'.", param="prompt")
        if shape is not None:
            params.update(for_gateway(shape, as_given))
        proxy_req = ProxyRequest(
            model=route.model,
            prompt=prompt,
            seconds=None if seconds is None else str(seconds),
            size=size,
            input_reference=image,
            last_frame=last_frame,
            reference_images=references,
            options=params,
            user=user,
            extra_body=body,
        )
        key = new_idempotency_key()  # one per call: every resend of this create carries it

        def build_proxy(t: Target) -> Flow[Video]:
            assert isinstance(t.adapter, OpenAIProvider)
            job = yield from proxy_create(t.adapter, proxy_req, t.creds, idempotency_key=key)
            return to_video(job, route)

        return Plan(target, build_proxy)
    assert route.spec is not None
    request: dict[str, Any] = {"prompt": prompt, **as_given, "user": user, "extra_body": body, **params}
    if shape is not None:
        path, options = provider_options(shape.fields, route.provider)  # this provider's provider.options
        check_extra_for(target.adapter, options, where=path)
        request["extra_body"] = merge_options(body, options, path)
        request = folded(shape, route.spec, request)
    req = validate(route.spec, **request)  # validate checks each type and names the param
    req = replace(req, model=route.model)  # an alias or an Azure deployment name goes on the wire as given
    warn_lifecycle(route.spec)

    def build(t: Target) -> Flow[Video]:
        job = yield from t.adapter.create(req, t.creds)
        return to_video(job, route, req=req)

    return Plan(target, build)


# ---- follow-ups -------------------------------------------------------------------------------


def plan_retrieve(config: ClientConfig, video_id: object, model: str | None = None) -> Plan[Polled]:
    route, ref = resolve_video(video_id, model, config)
    target = target_for(route, config)

    def build(t: Target) -> Flow[Polled]:
        job = yield from t.adapter.retrieve(ref.native_id, t.creds)
        return Polled(to_video(job, route, ref=ref), job.poll_after_ms)

    return Plan(target, build)


def plan_download(
    config: ClientConfig, video_id: object, model: str | None = None, variant: str = "video"
) -> Plan[Download]:
    if variant not in CONTENT_VARIANTS:
        raise BadRequestError(
            f"Invalid value: '{variant}'. Supported values are: "
            f"{', '.join(repr(v) for v in CONTENT_VARIANTS)}.",
            param="variant",
            code="invalid_value",
        )
    route, ref = resolve_video(video_id, model, config)
    target = target_for(route, config)
    require(target, Capability.DOWNLOAD)

    def build(t: Target) -> Flow[Download]:
        return (yield from t.adapter.download(ref.native_id, variant, t.creds))

    return Plan(target, build)


def plan_remix(
    config: ClientConfig, video_id: object, prompt: object, model: str | None = None
) -> Plan[Video]:
    missing = [name for name, value in (("video_id", video_id), ("prompt", prompt)) if not given(value)]
    if len(missing) > 1:
        raise missing_parameters(missing)
    route, ref = resolve_video(video_id, model, config)
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequestError(
            "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter"
        )
    target = target_for(route, config)
    require(target, Capability.REMIX)
    source_id = video_id if isinstance(video_id, str) else None
    key = new_idempotency_key() if route.proxy else None

    def build(t: Target) -> Flow[Video]:
        if key is not None and isinstance(t.adapter, OpenAIProvider):
            job = yield from proxy_remix(t.adapter, ref.native_id, prompt, t.creds, idempotency_key=key)
        else:
            job = yield from t.adapter.remix(ref.native_id, prompt, t.creds)
        return to_video(job, route, ref=replace(ref, created_at=None), source_id=source_id)

    return Plan(target, build)


def plan_list(
    config: ClientConfig,
    model: str | None = None,
    *,
    after: str | None = None,
    limit: int | None = None,
    order: str | None = None,
) -> Plan[VideoList]:
    """List videos. Without ``model``: the configured gateway (api_base), else OpenAI (the seeds' default)."""
    if model is not None:
        route = resolve_model(model, config)
    else:
        route = Route("openai", "", None, proxy=uses_gateway(config))
    target = target_for(route, config)
    require(target, Capability.LIST)
    cursor = after
    if after is not None:
        decoded = decode(after)
        cursor = decoded.native_id if decoded is not None else after
    count = DEFAULT_LIST_LIMIT if limit is None else limit
    direction = "desc" if order is None else order

    def build(t: Target) -> Flow[VideoList]:
        page: ProviderPage = yield from t.adapter.list(t.creds, after=cursor, limit=count, order=direction)
        data = [to_video(job, route, model=job.model or None) for job in page.jobs]
        return VideoList(
            data=data,
            first_id=data[0].id if data else None,
            last_id=data[-1].id if data else None,
            has_more=page.has_more,
        )

    return Plan(target, build)


def plan_delete(config: ClientConfig, video_id: object, model: str | None = None) -> Plan[VideoDeleted]:
    route, ref = resolve_video(video_id, model, config)
    target = target_for(route, config)
    require(target, Capability.DELETE)
    assert isinstance(video_id, str)

    def build(t: Target) -> Flow[VideoDeleted]:
        deleted = yield from t.adapter.delete(ref.native_id, t.creds)
        return VideoDeleted(id=video_id, deleted=deleted)

    return Plan(target, build)


# ---- polling ----------------------------------------------------------------------------------

FIRST_POLL_DELAY = 0.5
POLL_BACKOFF = 1.5
MAX_POLL_DELAY = 10.0


def poll_delay(attempt: int, poll_interval: float | None, hint_ms: int | None) -> float:
    """Seconds before the next poll: the caller's interval if given, else the provider's hint, else a
    backoff from 0.5 s to 10 s. Never sooner than the provider asked."""
    hint = hint_ms / 1000.0 if hint_ms is not None else None
    if poll_interval is not None:
        return max(poll_interval, hint or 0.0)
    if hint is not None:
        return hint
    return min(MAX_POLL_DELAY, FIRST_POLL_DELAY * POLL_BACKOFF**attempt)


def credential_hook(target: Target) -> ProviderSpec | None:
    """The spec whose credential hook must run (I/O: a token refresh) just before a direct call."""
    if target.route.proxy:
        return None
    spec = get_spec(target.provider)
    return spec if spec.authorize is not None or spec.authorize_sync is not None else None


def wait_timeout(video_id: str, timeout: float, last: Video) -> Timeout:
    """What ``videos.wait`` raises when the video is still running after ``timeout`` seconds."""
    return Timeout(
        f"Video '{video_id}' did not finish within {timeout:g} s (last: {last.status}, {last.progress}%).",
        param="timeout",
    )
