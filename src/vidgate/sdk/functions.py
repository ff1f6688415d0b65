"""Module-level functions with the seeds' names and parameters (``vidgate.video_generation`` ...).

Each call builds a short-lived client from its own arguments (``api_key``, ``api_base``, ``timeout``,
``max_retries``, ...), then module attributes (``vidgate.api_key``, ``vidgate.api_base``), then env vars.

Notes on the seeds:

- ``video_status(video_id=...)`` needs no model: direct-mode ids carry provider and model (``ids``).
- ``video_retrieval`` is ``video_content`` (bytes), ``video_retrieve`` is ``video_status`` (a Video).
- ``video_remix`` needs ``video_id`` (the video to remix) and ``prompt``; it takes no image, seconds or
  size (the remix keeps the source's). Seed 003's ``video_remix(model=..., prompt=..., input_reference=...,
  seconds=...)`` has no ``video_id``, so it gets a BadRequestError naming ``video_id``.
- The ``a*`` functions are coroutine functions: ``response = vidgate.acreate_video(...)`` without
  ``await`` (seed 002) yields an un-run coroutine, in this and any other library; use ``await``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, Unpack

import httpx

from vidgate.errors import BadRequestError, missing_parameters
from vidgate.sdk.aclient import AsyncClient
from vidgate.sdk.client import Client
from vidgate.sdk.ops import given
from vidgate.types import Video, VideoBytes, VideoDeleted, VideoList


class Connection(TypedDict, total=False):
    """Where and how to call: the seeds' connection parameters, plus provider-specific settings."""

    api_key: str | None
    api_base: str | None
    api_version: str | None
    timeout: float | httpx.Timeout | None
    max_retries: int | None
    organization: str | None
    extra_headers: Mapping[str, str] | None
    custom_llm_provider: str | None
    base_model: str | None
    vertex_project: str | None
    vertex_location: str | None
    vertex_access_token: str | None


def _client(conn: Connection) -> Client:
    return Client(**conn)


def _aclient(conn: Connection) -> AsyncClient:
    return AsyncClient(**conn)


def _need(value: object, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequestError(
            f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    return value


def _check_remix(video_id: object, prompt: object, extras: Mapping[str, object]) -> tuple[str, str]:
    missing = [name for name, value in (("video_id", video_id), ("prompt", prompt)) if not given(value)]
    if missing:
        raise missing_parameters(missing)
    vid = _need(video_id, "video_id")
    for param, value in extras.items():
        if value is not None:
            raise BadRequestError(
                f"Remix takes only 'video_id' and 'prompt'; '{param}' is not accepted (a remix keeps the "
                "source video's frames, seconds and size).",
                param=param,
                code="unsupported_parameter",
            )
    return vid, _need(prompt, "prompt")


# ---- sync ---------------------------------------------------------------------------------------


def video_generation(
    prompt: str | None = None,
    model: str | None = None,
    seconds: str | int | None = None,
    size: str | None = None,
    input_reference: object = None,
    user: str | None = None,
    *,
    extra_body: Mapping[str, Any] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    timeout: float | httpx.Timeout | None = None,
    max_retries: int | None = None,
    organization: str | None = None,
    custom_llm_provider: str | None = None,
    base_model: str | None = None,
    vertex_project: str | None = None,
    vertex_location: str | None = None,
    vertex_access_token: str | None = None,
    **provider_params: Any,
) -> Video:
    """Start a video job and return it (queued); poll with ``video_status``, fetch with ``video_content``."""
    with Client(
        api_key,
        api_base,
        api_version,
        timeout,
        max_retries,
        organization,
        custom_llm_provider=custom_llm_provider,
        base_model=base_model,
        vertex_project=vertex_project,
        vertex_location=vertex_location,
        vertex_access_token=vertex_access_token,
    ) as client:
        return client.videos.create(
            model,  # type: ignore[arg-type]  # None is rejected with param='model'
            prompt,  # type: ignore[arg-type]
            seconds,
            size,
            input_reference,
            user,
            extra_body,
            extra_headers,
            **provider_params,
        )


create_video = video_generation


def video_status(video_id: str | None = None, model: str | None = None, **conn: Unpack[Connection]) -> Video:
    """The video's current state (``model`` is needed only for ids this SDK did not issue)."""
    with _client(conn) as client:
        return client.videos.retrieve(_need(video_id, "video_id"), model)


video_retrieve = video_status


def video_content(
    video_id: str | None = None, model: str | None = None, variant: str = "video", **conn: Unpack[Connection]
) -> VideoBytes:
    """The video (or ``thumbnail`` / ``spritesheet``) bytes; ``.content`` gives the same bytes."""
    with _client(conn) as client:
        return client.videos.content(_need(video_id, "video_id"), variant, model)


video_retrieval = video_content


def video_remix(
    video_id: str | None = None,
    prompt: str | None = None,
    model: str | None = None,
    *,
    input_reference: object = None,
    seconds: object = None,
    size: object = None,
    **conn: Unpack[Connection],
) -> Video:
    """Remix a finished video with a new prompt (providers that declare remix: openai, azure, local)."""
    vid, text = _check_remix(
        video_id, prompt, {"input_reference": input_reference, "seconds": seconds, "size": size}
    )
    with _client(conn) as client:
        return client.videos.remix(vid, text, model)


def video_list(
    model: str | None = None,
    after: str | None = None,
    limit: int | None = None,
    order: str | None = None,
    **conn: Unpack[Connection],
) -> VideoList:
    with _client(conn) as client:
        return client.videos.list(model, after=after, limit=limit, order=order)


def video_delete(
    video_id: str | None = None, model: str | None = None, **conn: Unpack[Connection]
) -> VideoDeleted:
    with _client(conn) as client:
        return client.videos.delete(_need(video_id, "video_id"), model)


# ---- async --------------------------------------------------------------------------------------


async def avideo_generation(
    prompt: str | None = None,
    model: str | None = None,
    seconds: str | int | None = None,
    size: str | None = None,
    input_reference: object = None,
    user: str | None = None,
    *,
    extra_body: Mapping[str, Any] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    timeout: float | httpx.Timeout | None = None,  # noqa: ASYNC109 - per-request HTTP timeout (seed API)
    max_retries: int | None = None,
    organization: str | None = None,
    custom_llm_provider: str | None = None,
    base_model: str | None = None,
    vertex_project: str | None = None,
    vertex_location: str | None = None,
    vertex_access_token: str | None = None,
    **provider_params: Any,
) -> Video:
    """Async ``video_generation`` (a coroutine function: ``await`` it)."""
    async with AsyncClient(
        api_key,
        api_base,
        api_version,
        timeout,
        max_retries,
        organization,
        custom_llm_provider=custom_llm_provider,
        base_model=base_model,
        vertex_project=vertex_project,
        vertex_location=vertex_location,
        vertex_access_token=vertex_access_token,
    ) as client:
        return await client.videos.create(
            model,  # type: ignore[arg-type]
            prompt,  # type: ignore[arg-type]
            seconds,
            size,
            input_reference,
            user,
            extra_body,
            extra_headers,
            **provider_params,
        )


acreate_video = avideo_generation


async def avideo_status(
    video_id: str | None = None, model: str | None = None, **conn: Unpack[Connection]
) -> Video:
    async with _aclient(conn) as client:
        return await client.videos.retrieve(_need(video_id, "video_id"), model)


avideo_retrieve = avideo_status


async def avideo_content(
    video_id: str | None = None, model: str | None = None, variant: str = "video", **conn: Unpack[Connection]
) -> VideoBytes:
    async with _aclient(conn) as client:
        return await client.videos.content(_need(video_id, "video_id"), variant, model)


avideo_retrieval = avideo_content


async def avideo_remix(
    video_id: str | None = None,
    prompt: str | None = None,
    model: str | None = None,
    *,
    input_reference: object = None,
    seconds: object = None,
    size: object = None,
    **conn: Unpack[Connection],
) -> Video:
    vid, text = _check_remix(
        video_id, prompt, {"input_reference": input_reference, "seconds": seconds, "size": size}
    )
    async with _aclient(conn) as client:
        return await client.videos.remix(vid, text, model)


async def avideo_list(
    model: str | None = None,
    after: str | None = None,
    limit: int | None = None,
    order: str | None = None,
    **conn: Unpack[Connection],
) -> VideoList:
    async with _aclient(conn) as client:
        return await client.videos.list(model, after=after, limit=limit, order=order)


async def avideo_delete(
    video_id: str | None = None, model: str | None = None, **conn: Unpack[Connection]
) -> VideoDeleted:
    async with _aclient(conn) as client:
        return await client.videos.delete(_need(video_id, "video_id"), model)
