"""Edits, extensions and characters in the SDK, written once for the sync and the async client.

Gateway (proxy) mode sends OpenAI's requests to the gateway: ``POST /videos/edits|extensions`` with
``video`` as ``{"id": ...}`` (JSON) or the MP4 as a multipart file part, each with an
``Idempotency-Key`` (one per call, so a resend never starts a second paid job), and the characters
routes; an edit's ``size`` (vidgate's extension: a reframe where the row can) goes as a field.
Direct mode checks the request against the model's row (``catalog.tasks``: a model without the
capability, or a size it cannot make, is a 400 naming it, before any call) and hands the adapter a
``VideoRequest`` whose ``task``/``source_video`` it reads; characters exist only on a gateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from vidgate.catalog.tasks import validate_task
from vidgate.errors import BadRequestError, UnsupportedOperationError, missing_parameters
from vidgate.providers._openai_wire import flows as wire
from vidgate.providers.base import Credentials, Flow, HttpCall, ProviderJob
from vidgate.providers.openai.adapter import OpenAIProvider
from vidgate.sdk.lifecycle import warn_lifecycle
from vidgate.sdk.ops import Plan, given, target_for, to_video
from vidgate.sdk.proxy import IDEMPOTENCY_HEADER, new_idempotency_key
from vidgate.sdk.resolve import (
    ClientConfig,
    Route,
    Target,
    configured_api_base,
    resolve_model,
    resolve_video,
)
from vidgate.sdk.sources import VideoArg, to_video_arg
from vidgate.types import SourceVideo, Video, VideoCharacter, VideoTask

PATHS = {"edit": "/videos/edits", "extend": "/videos/extensions"}


def _gateway_route(config: ClientConfig) -> Route | None:
    if config.gateway or configured_api_base(config):
        return Route("openai", "", None, proxy=True)
    return None


def _call(adapter: OpenAIProvider, creds: Credentials, method: str, path: str, **kwargs: Any) -> HttpCall:
    headers = {**adapter.auth_headers(creds), **creds.extra_headers, **kwargs.pop("headers", {})}
    return HttpCall(
        method, f"{adapter.root(creds)}{path}", headers=headers, params=adapter.query(creds), **kwargs
    )


def proxy_task(
    adapter: OpenAIProvider,
    path: str,
    fields: dict[str, str],
    video: VideoArg,
    creds: Credentials,
    *,
    idempotency_key: str,
) -> Flow[ProviderJob]:
    """POST an edit or extension to the gateway (JSON for an id, multipart for an upload)."""
    headers = {IDEMPOTENCY_HEADER: idempotency_key}
    if video.video_id is not None:
        call = _call(
            adapter, creds, "POST", path, headers=headers, json={**fields, "video": {"id": video.video_id}}
        )
    else:
        assert video.data is not None
        upload = (video.filename, video.data, "video/mp4")
        call = _call(adapter, creds, "POST", path, headers=headers, data=fields, files=[("video", upload)])
    reply = yield call
    return wire.parse_video(wire.json_object(reply, "gateway"), reply.headers)


def plan_task(
    config: ClientConfig,
    task: VideoTask,
    *,
    prompt: object,
    video: object,
    seconds: object = None,
    size: object = None,
    model: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Plan[Video]:
    missing = [name for name, value in (("prompt", prompt), ("video", video)) if not given(value)]
    if missing:
        raise missing_parameters(missing)
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequestError("'prompt' must be a non-empty string.", param="prompt")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, str | int)):
        raise BadRequestError("'seconds' must be a string such as '8'.", param="seconds")
    if size is not None and not isinstance(size, str):
        raise BadRequestError("'size' must be a string such as '720x1280'.", param="size")
    arg = to_video_arg(video)
    if arg.video_id is not None:
        route, ref = resolve_video(arg.video_id, model, config)
    else:
        gateway = _gateway_route(config) if model is None else None
        route, ref = gateway or resolve_model(model, config), None
    target = target_for(route, config, extra_headers)
    if route.proxy:
        fields = {"prompt": prompt}
        if seconds is not None:
            fields["seconds"] = str(seconds)
        if size is not None:
            fields["size"] = size
        if model is not None:
            fields["model"] = model
        key = new_idempotency_key()

        def build_proxy(t: Target) -> Flow[Video]:
            assert isinstance(t.adapter, OpenAIProvider)
            job = yield from proxy_task(t.adapter, PATHS[task], fields, arg, t.creds, idempotency_key=key)
            return to_video(job, route)

        return Plan(target, build_proxy)
    spec = route.spec
    assert spec is not None
    if ref is not None:
        known = ref.seconds if ref.seconds and ref.seconds.isdigit() else None
        source = SourceVideo(native_id=ref.native_id, seconds=int(known) if known else None, size=ref.size)
    else:
        assert arg.data is not None
        assert arg.info is not None
        source = SourceVideo(
            data=arg.data, seconds=arg.info.whole_seconds, size=arg.info.size, filename=arg.filename
        )
    req = validate_task(
        spec,
        task,
        prompt=prompt,
        source=source,
        seconds=seconds,
        size=size,
        model_name=spec.id,
    )
    req = replace(req, model=route.model)
    warn_lifecycle(spec)

    def build(t: Target) -> Flow[Video]:
        job = yield from t.adapter.create(req, t.creds)
        return to_video(job, route, req=req)

    return Plan(target, build)


def _characters_route(config: ClientConfig) -> Route:
    route = _gateway_route(config)
    if route is None:
        raise UnsupportedOperationError(
            "characters",
            "vidgate",
            message="Characters are kept by a gateway: use Client(gateway=True) or set api_base to one.",
        )
    return route


def plan_create_character(
    config: ClientConfig, *, name: object, video: object, extra_headers: Mapping[str, str] | None = None
) -> Plan[VideoCharacter]:
    missing = [n for n, value in (("name", name), ("video", video)) if not given(value)]
    if missing:
        raise missing_parameters(missing)
    if not isinstance(name, str) or not name.strip():
        raise BadRequestError("'name' must be a non-empty string.", param="name")
    arg = to_video_arg(video, allow_id=False)
    assert arg.data is not None
    upload = (arg.filename, arg.data, "video/mp4")
    target = target_for(_characters_route(config), config, extra_headers)

    def build(t: Target) -> Flow[VideoCharacter]:
        assert isinstance(t.adapter, OpenAIProvider)
        call = _call(
            t.adapter, t.creds, "POST", "/videos/characters", data={"name": name}, files=[("video", upload)]
        )
        reply = yield call
        return VideoCharacter.model_validate(wire.json_object(reply, "gateway"))

    return Plan(target, build)


def plan_get_character(config: ClientConfig, character_id: object) -> Plan[VideoCharacter]:
    if not isinstance(character_id, str) or not character_id.strip():
        raise BadRequestError("Missing required parameter: 'character_id'.", param="character_id")
    target = target_for(_characters_route(config), config)
    path = f"/videos/characters/{quote(character_id, safe='')}"

    def build(t: Target) -> Flow[VideoCharacter]:
        assert isinstance(t.adapter, OpenAIProvider)
        reply = yield _call(t.adapter, t.creds, "GET", path)
        return VideoCharacter.model_validate(wire.json_object(reply, "gateway"))

    return Plan(target, build)
